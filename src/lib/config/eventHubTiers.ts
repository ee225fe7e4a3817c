/**
 * What Azure accepts for one event hub, per namespace tier: the settings that shape every tenant hub must fit, or
 * every onboarding fails at the hub PUT. Source: Microsoft docs, Event Hubs quotas and limits (tier table in
 * articles/event-hubs/includes/event-hubs-tier-limits.md): maximum retention 7 days Standard, 90 days Premium;
 * partitions per event hub 32 Standard, 100 Premium; consumer groups per event hub 20 Standard, 100 Premium.
 */
export type HubTier = 'Standard' | 'Premium';

export const EVENT_HUB_TIER_LIMITS: Record<HubTier, { retentionHours: number; partitions: number; consumerGroups: number }> = {
  Standard: { retentionHours: 7 * 24, partitions: 32, consumerGroups: 20 },
  Premium: { retentionHours: 90 * 24, partitions: 100, consumerGroups: 100 },
};

/** Consumer groups the app leaves on each tenant hub: `$Default` (Azure creates it with the hub) and its own. */
export function consumerGroupsPerHub(consumerGroup: string): string[] {
  return [...new Set(['$Default', consumerGroup])];
}

export interface HubShape {
  partitionCount: number;
  retentionHours: number;
  consumerGroups: readonly string[];
}

/** One line per setting that the tier would reject: the setting, its value, the tier's limit. Empty when all fit. */
export function hubTierViolations(tier: HubTier, hub: HubShape): string[] {
  const lim = EVENT_HUB_TIER_LIMITS[tier];
  const other = tier === 'Standard' ? 'Premium' : undefined;
  const also = (v: number, unit: string) => (other ? `; ${other} allows ${v} ${unit}` : '');
  const out: string[] = [];
  if (hub.retentionHours > lim.retentionHours)
    out.push(`MDR_EH_RETENTION_HOURS is invalid: ${hub.retentionHours} hours exceeds the ${tier} tier's limit of ${lim.retentionHours} hours (${lim.retentionHours / 24} days)${also(EVENT_HUB_TIER_LIMITS.Premium.retentionHours, 'hours')}`);
  if (hub.partitionCount > lim.partitions)
    out.push(`MDR_EH_PARTITION_COUNT is invalid: ${hub.partitionCount} partitions exceeds the ${tier} tier's limit of ${lim.partitions} per event hub${also(EVENT_HUB_TIER_LIMITS.Premium.partitions, 'partitions')}`);
  if (hub.consumerGroups.length > lim.consumerGroups)
    out.push(`MDR_EH_CONSUMER_GROUP is invalid: each hub would hold ${hub.consumerGroups.length} consumer groups (${hub.consumerGroups.join(', ')}), over the ${tier} tier's limit of ${lim.consumerGroups}${also(EVENT_HUB_TIER_LIMITS.Premium.consumerGroups, 'consumer groups')}`);
  return out;
}
