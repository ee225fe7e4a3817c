import type { HubAssignment, IngestAppRecord } from '../registry/types.js';
import { capacityMessage, hubKey, unassignedHubs } from './ingestPool.js';

/** The ingest fleet as health reports it: per app its hubs against the shard size, and what needs an operator. */
export interface FleetCapacity {
  maxHubsPerApp: number;
  apps: { name: string; state: IngestAppRecord['state']; hubs: number; free: number }[];
  /** Slots of the active apps, and how many are taken. */
  capacity: number;
  used: number;
  free: number;
  /** No active app has room: the next new hub is refused with a capacity error. */
  full: boolean;
  /** Ready hubs no app reads (their data waits in the hub until an app takes them). */
  unassigned: string[];
  /** Hubs held by more than one app: a move that did not finish (both apps read it, sharing its checkpoints). */
  shared: string[];
  /** What an operator should do, in words (empty when nothing). */
  problems: string[];
}

export function fleetCapacity(apps: readonly IngestAppRecord[], hubs: readonly HubAssignment[], maxHubsPerApp: number): FleetCapacity {
  const sorted = [...apps].sort((a, b) => a.name.localeCompare(b.name));
  const active = sorted.filter((a) => a.state === 'active');
  const capacity = active.length * maxHubsPerApp;
  const used = active.reduce((s, a) => s + Math.min(a.hubs.length, maxHubsPerApp), 0);
  // Without any ingest app record there is no fleet to speak of (a single app not told its own id, tests).
  const unassigned = sorted.length === 0 ? [] : unassignedHubs(sorted, hubs).map((h) => hubKey(h.tenantId, h.region));
  const count = new Map<string, number>();
  for (const a of sorted) for (const h of a.hubs) count.set(h, (count.get(h) ?? 0) + 1);
  const shared = [...count].filter(([, n]) => n > 1).map(([k]) => k).sort();
  const full = sorted.length > 0 && capacity - used <= 0;
  const problems: string[] = [];
  if (full) problems.push(capacityMessage(sorted, maxHubsPerApp));
  if (unassigned.length > 0) problems.push(`${unassigned.length} ready hub(s) have no ingest app and are not read (${unassigned.slice(0, 3).join(', ')}${unassigned.length > 3 ? ', …' : ''}); add capacity, then run azure-mdr bindings`);
  for (const a of sorted.filter((x) => x.state === 'draining' && x.hubs.length > 0)) problems.push(`ingest app ${a.name} is no longer in MDR_INGEST_APPS but still holds ${a.hubs.length} hub(s): run azure-mdr rebalance --drain ${a.name}`);
  for (const a of active.filter((x) => x.hubs.length > maxHubsPerApp)) problems.push(`ingest app ${a.name} holds ${a.hubs.length} hubs, more than MDR_INGEST_APP_MAX_HUBS=${maxHubsPerApp}: run azure-mdr rebalance --even`);
  if (shared.length > 0) problems.push(`${shared.length} hub(s) are held by two apps (a move did not finish): run azure-mdr rebalance again for ${shared.slice(0, 3).join(', ')}`);
  return {
    maxHubsPerApp,
    apps: sorted.map((a) => ({ name: a.name, state: a.state, hubs: a.hubs.length, free: a.state === 'active' ? Math.max(0, maxHubsPerApp - a.hubs.length) : 0 })),
    capacity,
    used,
    free: Math.max(0, capacity - used),
    full,
    unassigned,
    shared,
    problems,
  };
}
