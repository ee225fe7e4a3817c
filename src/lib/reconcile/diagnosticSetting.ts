import type { DiagnosticSettingsResource } from '@azure/arm-monitor';
import { isNotFound } from '../azure/classifyError.js';
import type { HubAssignment, TargetId } from '../registry/types.js';
import { isOurs, resolveOurs, type Ownership, type OwnershipEvidence } from './ownership.js';
import { sameId, sameNameSet, type Change } from './plan.js';
import type { ReconcileTarget, TargetItem } from './target.js';

/**
 * Shared mechanics of the three diagnostic-setting targets (activity log, storage services, Key Vault):
 * one LIST per resource (never get-then-list), ownership by provenance (ownership.ts), 5-slot limit, semantic comparison.
 */
export const MAX_DIAGNOSTIC_SETTINGS = 5;

export interface DesiredDiagnosticSetting {
  /** ARM id of the monitored resource (subscription id for the activity log). */
  resourceId: string;
  name: string;
  eventHubAuthorizationRuleId: string;
  eventHubName: string;
  categories: readonly string[];
}

export interface ObservedDiagnosticSetting {
  name: string;
  eventHubAuthorizationRuleId?: string;
  eventHubName?: string;
  /** Enabled log categories; `group:<name>` for category groups. */
  categories: string[];
}

/** The part of MonitorClient.diagnosticSettings we use (unit tests pass an in-memory fake). */
export interface DiagnosticSettingsApi {
  list(resourceUri: string): AsyncIterable<DiagnosticSettingsResource>;
  createOrUpdate(resourceUri: string, name: string, parameters: DiagnosticSettingsResource): Promise<DiagnosticSettingsResource>;
  delete(resourceUri: string, name: string): Promise<void>;
}

/** arm-monitor@8 builds `/{+resourceUri}`: a leading slash would give `//subscriptions/…`. */
export const toResourceUri = (id: string): string => id.replace(/^\/+/, '');

/** All settings on the resource; undefined when the resource no longer exists (404). */
export async function observeDiagnosticSettings(api: DiagnosticSettingsApi, resourceId: string): Promise<ObservedDiagnosticSetting[] | undefined> {
  try {
    const out: ObservedDiagnosticSetting[] = [];
    for await (const s of api.list(toResourceUri(resourceId))) {
      out.push({
        name: s.name ?? '',
        eventHubAuthorizationRuleId: s.eventHubAuthorizationRuleId,
        eventHubName: s.eventHubName,
        categories: (s.logs ?? []).filter((l) => l.enabled).map((l) => (l.category ? l.category : `group:${l.categoryGroup ?? ''}`)),
      });
    }
    return out;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** What is wrong with our setting, or undefined when it matches (ids case-insensitive, categories as a set; allLogs covers all). */
function driftOf(desired: DesiredDiagnosticSetting, ours: ObservedDiagnosticSetting): string | undefined {
  const problems: string[] = [];
  if (!sameId(ours.eventHubAuthorizationRuleId, desired.eventHubAuthorizationRuleId)) problems.push('points at another Event Hubs namespace rule');
  if ((ours.eventHubName ?? '').toLowerCase() !== desired.eventHubName.toLowerCase()) problems.push(`streams to hub '${ours.eventHubName ?? '(default)'}' instead of '${desired.eventHubName}'`);
  const allLogs = ours.categories.some((c) => c.toLowerCase() === 'group:alllogs');
  if (!allLogs && !sameNameSet(ours.categories, desired.categories)) problems.push(`categories changed (${ours.categories.join(', ') || 'none'})`);
  return problems.length ? problems.join('; ') : undefined;
}

const evidenceOf = (s: ObservedDiagnosticSetting): OwnershipEvidence => ({ name: s.name, destinations: [s.eventHubAuthorizationRuleId] });

/**
 * Ours = prefixed AND (the ledger says we wrote it here OR it points at a rule of our pool) — ownership.ts. A customer
 * setting holding our preferred name is left alone and ours gets another name of ours (`<name>-2`, …).
 */
export function diffDiagnosticSetting(desired: DesiredDiagnosticSetting, actual: readonly ObservedDiagnosticSetting[], own: Ownership): Change[] {
  const changes: Change[] = [];
  const r = resolveOurs(desired.name, actual, own, evidenceOf);
  // Our own settings under an older/other name hold a slot and duplicate the stream: remove them.
  for (const s of r.stale) changes.push({ kind: 'delete', name: s.name, reason: `stale setting of ours (we keep only '${r.ours?.name ?? r.createAs}')`, coverage: 'repaired' });
  if (r.ours) {
    const drift = driftOf(desired, r.ours);
    if (drift) changes.push({ kind: 'update', name: r.ours.name, reason: `drifted: ${drift}`, coverage: 'repaired' });
    return changes;
  }
  const holders = r.others;
  if (holders.length >= MAX_DIAGNOSTIC_SETTINGS) {
    return [
      ...changes,
      {
        kind: 'blocked',
        name: desired.name,
        reason: `resource already holds ${holders.length} diagnostic settings (limit ${MAX_DIAGNOSTIC_SETTINGS})`,
        coverage: 'slots-exhausted',
        detail: `held by: ${holders.map((h) => h.name).join(', ')}`,
      },
    ];
  }
  const held = r.heldBy ? `; '${r.heldBy.name}' is not ours (we never wrote it and it points at no rule of our pool), so ours is '${r.createAs}'` : '';
  changes.push({ kind: 'create', name: r.createAs, reason: `no setting of ours${held}`, coverage: 'created' });
  return changes;
}

export async function applyDiagnosticSetting(api: DiagnosticSettingsApi, desired: DesiredDiagnosticSetting, changes: readonly Change[]): Promise<void> {
  const uri = toResourceUri(desired.resourceId);
  for (const c of changes) {
    if (c.kind === 'delete') {
      await api.delete(uri, c.name);
    } else if (c.kind === 'create' || c.kind === 'update') {
      // Flat SDK model: the SDK nests it under `properties` on the wire.
      await api.createOrUpdate(uri, c.name, {
        eventHubAuthorizationRuleId: desired.eventHubAuthorizationRuleId,
        eventHubName: desired.eventHubName,
        logs: desired.categories.map((category) => ({ category, enabled: true })),
      });
    }
  }
}

/** Names of the settings on a resource that are provably ours (teardown). */
export const ownedSettingNames = (actual: readonly ObservedDiagnosticSetting[], own: Ownership): string[] => actual.filter((s) => isOurs(own, evidenceOf(s))).map((s) => s.name);

/**
 * A reconcile target that keeps one diagnostic setting of ours (`<prefix>-export`, or another name of ours when a
 * customer setting holds that one) on each item, streaming
 * `categories` to the tenant's hub. Activity log, storage services and Key Vault differ only in id, categories
 * and the provider of the resource the setting sits on (whose re-creation also needs a fresh read).
 */
export function diagnosticSettingTarget(id: TargetId, categories: readonly string[], resourceProvider?: string): ReconcileTarget<DesiredDiagnosticSetting, ObservedDiagnosticSetting[]> {
  return {
    id,
    // Settings change only through ARM, and ARM logs every write and delete of them under Microsoft.Insights.
    feedProviders: ['Microsoft.Insights', ...(resourceProvider ? [resourceProvider] : [])],
    desired: (item: TargetItem, hub: HubAssignment, prefix: string) => ({
      resourceId: item.resourceId,
      name: `${prefix}-export`,
      eventHubAuthorizationRuleId: hub.namespaceRuleId,
      eventHubName: hub.hub,
      categories,
    }),
    observe: async (ctx, item) => observeDiagnosticSettings((await ctx.clients.monitor()).diagnosticSettings, item.resourceId),
    diff: diffDiagnosticSetting,
    apply: async (ctx, desired, changes) => applyDiagnosticSetting((await ctx.clients.monitor()).diagnosticSettings, desired, changes),
    owned: ownedSettingNames,
    remove: async (ctx, item, name) => (await ctx.clients.monitor()).diagnosticSettings.delete(toResourceUri(item.resourceId), name),
  };
}
