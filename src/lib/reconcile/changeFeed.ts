import { createHash } from 'node:crypto';
import type { AzureClients } from '../azure/clientFactory.js';
import type { CoverageEntry, CoverageState } from '../registry/types.js';

/**
 * The subscription activity log as the reconciler's change feed (the list-watch-resync pattern of Kubernetes
 * controllers). Every ARM change to a diagnostic setting, a storage account or a vault leaves an activity-log
 * event, so a target read once stays trusted until an event touches it, its desired configuration changes, or
 * its resync period runs out. A steady-state run then costs a few activity-log pages per subscription instead
 * of one diagnostic-settings LIST per storage service and vault.
 */

/**
 * How late an event may become visible in the activity log after it happened. Azure Monitor's typical log
 * latency is minutes; each read re-covers this much before the previous mark so a late event is still seen.
 */
export const FEED_LAG_MS = 30 * 60_000;
/** Clock tolerance between this host and ARM's event timestamps. */
export const FEED_SKEW_MS = 2 * 60_000;

/** Ledger states the run may trust without a read; anything else (failed, forbidden, no hub…) is always re-read. */
const TRUSTABLE = new Set<CoverageState>(['streaming', 'created', 'repaired', 'silent', 'slots-exhausted']);

export interface ChangeEvent {
  /** eventTimestamp, ms since epoch. */
  at: number;
  /** Lower-cased ARM id the event names (for a diagnostic setting: `<resource>/providers/microsoft.insights/diagnosticsettings/<name>`). */
  resourceId: string;
  /** Lower-cased operation, e.g. `microsoft.insights/diagnosticsettings/delete`. */
  operation: string;
  /** For a diagnostic-setting event: the resource it sits on and the setting's name (lower-cased). */
  setting?: { on: string; name: string };
}

const SETTING_SUFFIX = /\/providers\/microsoft\.insights\/diagnosticsettings\/([^/]+)$/;

/** An activity-log event as the feed keeps it: ids and operation lower-cased, a setting's resource split off once. */
export function changeEvent(resourceId: string, operation: string, at: number): ChangeEvent {
  const id = resourceId.toLowerCase().replace(/\/+$/, '');
  const m = SETTING_SUFFIX.exec(id);
  return { at, resourceId: id, operation: operation.toLowerCase(), ...(m ? { setting: { on: id.slice(0, m.index), name: m[1]! } } : {}) };
}

/** A short fingerprint of a desired configuration (destination hub, categories…). */
export function desiredKeyOf(desired: unknown): string {
  return createHash('sha256').update(JSON.stringify(desired)).digest('base64url').slice(0, 16);
}

/** Deterministic fraction in [0, 1) per target, so resyncs spread over the period instead of arriving all at once. */
function spread(resourceId: string): number {
  return createHash('sha256').update(resourceId.toLowerCase()).digest().readUInt32BE(0) / 0x1_0000_0000;
}

/** A target is re-read after between half and the whole resync period since its last read, even with a quiet feed. */
export function resyncDue(resourceId: string, observedAt: string, now: Date, resyncMs: number): boolean {
  const age = now.getTime() - Date.parse(observedAt);
  return !(age >= 0) || age >= resyncMs * (0.5 + 0.5 * spread(resourceId));
}

/** Whether the ledger entry may stand in for a read, before the feed is consulted. */
export function trustable(prev: CoverageEntry | undefined, desiredKey: string, now: Date, resyncMs: number): prev is CoverageEntry & { observedAt: string } {
  return !!prev && TRUSTABLE.has(prev.state) && prev.observedAt !== undefined && prev.desiredKey === desiredKey && !resyncDue(prev.resourceId, prev.observedAt, now, resyncMs);
}

/**
 * Is the event news for this target? A diagnostic-setting event concerns exactly the resource it sits on; a
 * write or delete of a resource (an account re-created, a vault deleted) concerns that resource and everything
 * under it. Actions (listKeys…) change no configuration. An event is old when it happened before the target was
 * last read (less the clock tolerance); so are the events of our own last write of our setting.
 */
export function isNews(e: ChangeEvent, targetId: string, prev: CoverageEntry & { observedAt: string }): boolean {
  if (e.at <= Date.parse(prev.observedAt) - FEED_SKEW_MS) return false;
  const target = targetId.toLowerCase();
  const { setting } = e;
  if (setting) {
    if (setting.on !== target) return false;
    // Our write happened before its response reached us: an event of it cannot be later than wroteAt. No skew
    // allowance here, so a customer's change right after ours still counts; a skewed clock costs one extra read.
    const ownWrite = e.operation.endsWith('/write') && setting.name === prev.settingName?.toLowerCase() && prev.wroteAt !== undefined && e.at <= Date.parse(prev.wroteAt);
    return !ownWrite;
  }
  if (!e.operation.endsWith('/write') && !e.operation.endsWith('/delete')) return false;
  // Only resource-level events: a subscription or resource-group event would otherwise touch every target under it.
  if (!e.resourceId.includes('/providers/')) return false;
  return target === e.resourceId || target.startsWith(`${e.resourceId}/`);
}

/** Targets (by key) that the events leave trusted: candidates no event is news for. */
export function quietTargets<K>(candidates: ReadonlyMap<K, { resourceId: string; prev: CoverageEntry & { observedAt: string } }>, events: readonly ChangeEvent[]): Set<K> {
  // Index candidates by their id and by each ancestor resource id, so each event looks up only what it can touch.
  const byId = new Map<string, K[]>();
  const add = (id: string, k: K) => {
    const list = byId.get(id);
    if (list) list.push(k);
    else byId.set(id, [k]);
  };
  for (const [k, c] of candidates) {
    const segs = c.resourceId.toLowerCase().split('/');
    for (let n = segs.length; n > 2; n -= 2) {
      const id = segs.slice(0, n).join('/');
      if (n < segs.length && !id.includes('/providers/')) break;
      add(id, k);
    }
  }
  const quiet = new Set(candidates.keys());
  for (const e of events) {
    for (const k of byId.get(e.setting?.on ?? e.resourceId) ?? []) {
      const c = candidates.get(k);
      if (c && quiet.has(k) && isNews(e, c.resourceId, c.prev)) quiet.delete(k);
    }
  }
  return quiet;
}

/** Reads one subscription's activity log for one resource provider over [from, to] (one filtered LIST, paged). */
export async function readChangeFeed(clients: AzureClients, subscriptionId: string, provider: string, from: Date, to: Date): Promise<{ events: ChangeEvent[]; reads: number }> {
  const monitor = await clients.monitor(subscriptionId);
  const events: ChangeEvent[] = [];
  let reads = 0;
  // The API accepts only these $filter patterns: a time range plus one resource provider.
  const filter = `eventTimestamp ge '${from.toISOString()}' and eventTimestamp le '${to.toISOString()}' and resourceProvider eq '${provider}'`;
  for await (const page of monitor.activityLogs.list(filter, { select: 'eventTimestamp,operationName,resourceId' }).byPage()) {
    reads++;
    for (const ev of page) {
      const at = ev.eventTimestamp?.getTime();
      if (at === undefined || !ev.resourceId) continue;
      events.push(changeEvent(ev.resourceId, ev.operationName?.value ?? '', at));
    }
  }
  return { events, reads };
}
