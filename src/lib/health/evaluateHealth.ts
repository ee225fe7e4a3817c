import type { SourceId } from '../ingest/types.js';
import { normalizeRegion } from '../reconcile/plan.js';
import { PROGRESS_INTERVAL_MS } from '../ingest/partitionProgress.js';
import type { CoverageEntry, CoverageState, HubAssignment, LastSeen, PartitionProgress, TargetId } from '../registry/types.js';
import { EXPECTING_STATES, NEW_SETTING_GRACE_MINUTES, NEW_SETTING_STATES, TARGET_SOURCES } from './expectedSources.js';
import { lastEnqueuedOf, type HubRuntime } from './partitionInfo.js';

/**
 * Stream health of one tenant, pure: coverage ledger (what should stream) + ingest last-seen (what arrived)
 * + hub runtime (what the hub received) + now → verdicts per hub, per source, per ledger entry and for the tenant.
 *
 * A source is `silent` when data was seen before but not within the threshold, `never-seen` when nothing ever
 * arrived; either only once the source is due: a setting just created/repaired gets
 * max(threshold, 90 min) from its ledger time (Azure needs up to 90 min before data flows), and a setting on a
 * hub gets the same from the hub's creation. Times are event times (`lastEventTime`): a replay of old data
 * must not make a dead source look alive.
 *
 * A hub is `stalled` when events wait in a partition that ingest has not got a batch of through for STALL_MINUTES
 * (ingest retries a failing delivery indefinitely, so the checkpoint never passes unwritten records; this is how that
 * shows). Ledger entries on a stalled hub keep their state: the customer is sending, we are not getting it through.
 */
export type SourceVerdict = 'ok' | 'silent' | 'never-seen';
export type TenantVerdict = SourceVerdict | 'no-expected-sources' | 'stalled';
/** `stalled`: events wait in a partition whose ingest deliveries keep failing (see stalledPartitions). */
export type HubVerdict = 'ok' | 'silent' | 'never-seen' | 'unknown' | 'stalled';

export interface HubObservation {
  hub: HubAssignment;
  runtime?: HubRuntime;
  /** Why the runtime could not be read (the hub is then `unknown`, never evidence of silence). */
  error?: string;
}

export interface EvaluateHealthInput {
  tenantId: string;
  /** The tenant's first region: non-regional sources stream to its hub (as reconcile does). */
  primaryRegion?: string;
  hubs: readonly HubObservation[];
  coverage: readonly CoverageEntry[];
  lastSeen: readonly LastSeen[];
  /** When ingest last got a batch of each hub partition through (absent rows: unknown, never stalled). */
  progress?: readonly PartitionProgress[];
  now: Date;
  thresholdMinutes: number;
}

export interface HubHealth {
  region: string;
  namespace: string;
  hub: string;
  verdict: HubVerdict;
  reason: string;
  lastEnqueuedOnUtc?: string;
  /** Sum over partitions of the last enqueued sequence numbers (moves when anything arrives). */
  lastEnqueuedSequenceTotal?: number;
  /** Partitions holding events that ingest has not got through for STALL_MINUTES (the host keeps retrying them). */
  stalledPartitions?: StalledPartition[];
}

export interface StalledPartition {
  partitionId: string;
  /** Last time ingest got a batch of this partition through. */
  progressAt: string;
  progressSequenceNumber?: number | undefined;
  lastEnqueuedOnUtc: string;
  lastEnqueuedSequenceNumber: number;
}

export interface SourceHealth {
  source: SourceId;
  verdict: SourceVerdict;
  reason: string;
  targets: TargetId[];
  /** Ledger entries expecting this source. */
  entries: number;
  lastEventTime?: string;
  lastIngestTime?: string;
  /** When data is due at the latest (end of the grace period of the oldest setting). */
  dueBy?: string;
  /** True when ingest saw this source within the threshold. */
  fresh: boolean;
}

export interface EntryHealth {
  target: TargetId;
  resourceId: string;
  subscriptionId: string;
  region: string;
  from: CoverageState;
  /** The ledger state health wants: `silent` when every source of the entry is silent, `streaming` when a silent entry recovered. */
  to: CoverageState;
  reason: string;
}

export interface TenantHealth {
  tenantId: string;
  verdict: TenantVerdict;
  reason: string;
  evaluatedAt: string;
  thresholdMinutes: number;
  hubs: HubHealth[];
  sources: SourceHealth[];
  entries: EntryHealth[];
}

const MINUTE = 60_000;
/** A partition with events waiting and no batch through for this long is stalled (retries back off to 15 min). */
export const STALL_MINUTES = 30;
/**
 * Events enqueued this long after the recorded progress would have moved it, had ingest got them through: progress is
 * written at most every PROGRESS_INTERVAL_MS, plus time to process a batch.
 */
const STALL_PENDING_MS = PROGRESS_INTERVAL_MS + 5 * MINUTE;
/**
 * More events than this waiting is a backlog, however new the newest: a stall under steady traffic keeps its newest
 * event recent, while the first events after a quiet spell are few (one, in the false alarm review found).
 */
const STALL_BACKLOG_EVENTS = 10;
const SILENT_HUB: ReadonlySet<HubVerdict> = new Set<HubVerdict>(['silent', 'never-seen']);
const isNotOk = (v: SourceVerdict): boolean => v !== 'ok';

function parseTime(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const ago = (now: number, t: number): string => `${Math.round((now - t) / MINUTE)} min ago`;
const hubName = (h: HubAssignment): string => `${h.namespace}/${h.hub}`;

/**
 * Partitions of a hub whose events wait: something was enqueued well after ingest last got a batch of the partition
 * through, and nothing got through for STALL_MINUTES. A partition ingest has no progress row for is never stalled.
 */
export function stalledPartitionsOf(o: HubObservation, progress: readonly PartitionProgress[], now: number): StalledPartition[] {
  const out: StalledPartition[] = [];
  for (const p of o.runtime?.partitions ?? []) {
    if (p.isEmpty || !p.lastEnqueuedOnUtc) continue;
    const pr = progress.find((x) => x.partitionId === p.partitionId && x.hub === o.hub.hub && x.namespace.toLowerCase() === o.hub.namespace.toLowerCase());
    const at = parseTime(pr?.at);
    if (!pr || at === undefined) continue;
    // And the waiting events have waited: the newest for STALL_PENDING_MS, or more than a few of them queued up. A
    // partition idle for hours whose first new event arrived seconds ago is not stalled (found in review).
    const backlog = pr.sequenceNumber === undefined ? undefined : p.lastEnqueuedSequenceNumber - pr.sequenceNumber;
    const waited = now - p.lastEnqueuedOnUtc.getTime() > STALL_PENDING_MS || backlog === undefined || backlog > STALL_BACKLOG_EVENTS;
    if (now - at > STALL_MINUTES * MINUTE && p.lastEnqueuedOnUtc.getTime() - at > STALL_PENDING_MS && waited)
      out.push({ partitionId: p.partitionId, progressAt: iso(at), progressSequenceNumber: pr.sequenceNumber, lastEnqueuedOnUtc: iso(p.lastEnqueuedOnUtc.getTime()), lastEnqueuedSequenceNumber: p.lastEnqueuedSequenceNumber });
  }
  return out;
}

function evaluateHub(o: HubObservation, now: number, thresholdMs: number, graceMs: number, progress: readonly PartitionProgress[]): HubHealth {
  const base = { region: normalizeRegion(o.hub.region), namespace: o.hub.namespace, hub: o.hub.hub };
  if (o.error !== undefined || !o.runtime) return { ...base, verdict: 'unknown', reason: `runtime information unavailable: ${o.error ?? 'not read'}` };
  const seqTotal = o.runtime.partitions.reduce((n, p) => n + Math.max(0, p.lastEnqueuedSequenceNumber), 0);
  const stalled = stalledPartitionsOf(o, progress, now);
  if (stalled.length > 0) {
    const oldest = Math.min(...stalled.map((x) => Date.parse(x.progressAt)));
    return {
      ...base,
      verdict: 'stalled',
      reason: `ingest has not got partition(s) ${stalled.map((x) => x.partitionId).join(', ')} through since ${iso(oldest)} (${ago(now, oldest)}) while events keep arriving: its deliveries fail and are retried (see ingest.partition_stalled in the logs)`,
      lastEnqueuedSequenceTotal: seqTotal,
      stalledPartitions: stalled,
    };
  }
  const last = lastEnqueuedOf(o.runtime);
  if (last) {
    const t = last.getTime();
    const h = { ...base, lastEnqueuedOnUtc: iso(t), lastEnqueuedSequenceTotal: seqTotal };
    return now - t > thresholdMs
      ? { ...h, verdict: 'silent', reason: `nothing enqueued since ${iso(t)} (${ago(now, t)}, threshold ${thresholdMs / MINUTE} min)` }
      : { ...h, verdict: 'ok', reason: `last event enqueued ${ago(now, t)}` };
  }
  const created = parseTime(o.hub.createdAt) ?? Number.NEGATIVE_INFINITY;
  if (now <= created + graceMs) return { ...base, verdict: 'ok', reason: `empty; new hub, data due by ${iso(created + graceMs)}` };
  return { ...base, verdict: 'never-seen', reason: `no event was ever enqueued (${o.runtime.partitions.length} partitions empty)` };
}

export function evaluateHealth(input: EvaluateHealthInput): TenantHealth {
  const now = input.now.getTime();
  const thresholdMs = input.thresholdMinutes * MINUTE;
  const graceMs = Math.max(input.thresholdMinutes, NEW_SETTING_GRACE_MINUTES) * MINUTE;
  const evaluatedAt = iso(now);

  const hubs = [...input.hubs].sort((a, b) => a.hub.region.localeCompare(b.hub.region));
  const hubHealth = hubs.map((o) => evaluateHub(o, now, thresholdMs, graceMs, input.progress ?? []));
  const byRegion = new Map<string, { hub: HubAssignment; health: HubHealth }>();
  hubs.forEach((o, i) => byRegion.set(normalizeRegion(o.hub.region), { hub: o.hub, health: hubHealth[i]! }));
  const primaryRegion = normalizeRegion(input.primaryRegion ?? [...byRegion.keys()].sort()[0] ?? '');
  const hubOf = (e: CoverageEntry) => byRegion.get(TARGET_SOURCES[e.target].hub === 'primary' ? primaryRegion : normalizeRegion(e.region));

  const expecting = input.coverage.filter((e) => EXPECTING_STATES.has(e.state));
  const result = (verdict: TenantVerdict, reason: string, sources: SourceHealth[] = [], entries: EntryHealth[] = []): TenantHealth => ({
    tenantId: input.tenantId,
    verdict,
    reason,
    evaluatedAt,
    thresholdMinutes: input.thresholdMinutes,
    hubs: hubHealth,
    sources,
    entries,
  });
  const stalledHubs = hubHealth.filter((h) => h.verdict === 'stalled');
  const stalledNote = stalledHubs.map((h) => `${h.namespace}/${h.hub} partition(s) ${(h.stalledPartitions ?? []).map((x) => x.partitionId).join(', ')}`).join('; ');
  if (expecting.length === 0) {
    if (stalledHubs.length > 0) return result('stalled', `ingest stalled: ${stalledNote}`);
    return result('no-expected-sources', 'the coverage ledger lists no export that streams (run reconcile, or check the coverage ledger)');
  }

  // Sources in ledger order of appearance, each with the entries that expect it.
  const entriesBySource = new Map<SourceId, CoverageEntry[]>();
  for (const e of expecting) for (const s of TARGET_SOURCES[e.target].sources) entriesBySource.set(s, [...(entriesBySource.get(s) ?? []), e]);

  const sources: SourceHealth[] = [];
  for (const [source, entries] of [...entriesBySource].sort(([a], [b]) => a.localeCompare(b))) {
    const seen = input.lastSeen.filter((l) => l.source === source);
    // An event cannot have happened after ingest saw it: clamping to the ingest time stops a skewed event clock
    // (a time in the future) from keeping a source alive.
    const eventTimes = seen
      .map((l) => {
        const ev = parseTime(l.lastEventTime);
        return ev === undefined ? undefined : Math.min(ev, parseTime(l.lastIngestTime) ?? now, now);
      })
      .filter((t): t is number => t !== undefined);
    const ingestTimes = seen.map((l) => parseTime(l.lastIngestTime)).filter((t): t is number => t !== undefined);
    const seenAt = eventTimes.length > 0 ? Math.max(...eventTimes) : undefined;
    const lastIngest = ingestTimes.length > 0 ? Math.max(...ingestTimes) : undefined;
    const dueBy = Math.min(
      ...entries.map((e) => {
        const start = NEW_SETTING_STATES.has(e.state) ? parseTime(e.updatedAt) : parseTime(hubOf(e)?.hub.createdAt);
        return start === undefined ? Number.NEGATIVE_INFINITY : start + graceMs;
      }),
    );
    const fresh = seenAt !== undefined && now - seenAt <= thresholdMs;
    const targets = [...new Set(entries.map((e) => e.target))].sort();
    const entryHubs = [...new Map(entries.map((e) => hubOf(e)).filter((h) => h !== undefined).map((h) => [hubName(h.hub), h])).values()];
    const hubsSilent = entryHubs.length > 0 && entryHubs.every((h) => SILENT_HUB.has(h.health.verdict));
    const hubNote = entryHubs.length === 0 ? '' : `; hub ${entryHubs.map((h) => `${hubName(h.hub)}: ${h.health.verdict} (${h.health.reason})`).join(', ')}`;
    const sparse = targets.every((t) => TARGET_SOURCES[t].sparse);

    let verdict: SourceVerdict;
    let reason: string;
    if (fresh) {
      verdict = 'ok';
      reason = `last event ${ago(now, seenAt)}`;
    } else if (now <= dueBy) {
      verdict = 'ok';
      reason = `new setting: data due by ${iso(dueBy)} (Azure needs up to ${NEW_SETTING_GRACE_MINUTES} min after a setting is created)`;
    } else if (sparse && !hubsSilent) {
      verdict = 'ok';
      reason = `event-driven source: quiet is normal while its hub receives data${seenAt !== undefined ? `; last event ${ago(now, seenAt)}` : ''}${hubNote}`;
    } else if (seenAt !== undefined) {
      verdict = 'silent';
      reason = `no ${source} event since ${iso(seenAt)} (${ago(now, seenAt)}, threshold ${input.thresholdMinutes} min)${hubNote}`;
    } else {
      verdict = 'never-seen';
      reason = `no ${source} event ever received${Number.isFinite(dueBy) ? `; due since ${iso(dueBy)}` : ''}${hubNote}`;
    }
    sources.push({
      source,
      verdict,
      reason,
      targets,
      entries: entries.length,
      lastEventTime: seenAt !== undefined ? iso(seenAt) : undefined,
      lastIngestTime: lastIngest !== undefined ? iso(lastIngest) : undefined,
      dueBy: Number.isFinite(dueBy) ? iso(dueBy) : undefined,
      fresh,
    });
  }

  const verdictOf = new Map(sources.map((s) => [s.source, s]));
  const entryHealth: EntryHealth[] = expecting.map((e) => {
    const own = TARGET_SOURCES[e.target].sources.map((s) => verdictOf.get(s)!);
    // A setting within its own grace is not due yet, whatever the other entries of its source say.
    const start = NEW_SETTING_STATES.has(e.state) ? parseTime(e.updatedAt) : undefined;
    if (start !== undefined && now <= start + graceMs)
      return { target: e.target, resourceId: e.resourceId, subscriptionId: e.subscriptionId, region: e.region, from: e.state, to: e.state, reason: `new setting: data due by ${iso(start + graceMs)}` };
    // Data waiting in a stalled hub is ours to get through, not the customer's silence: the ledger keeps its state.
    if (hubOf(e)?.health.verdict === 'stalled') return { target: e.target, resourceId: e.resourceId, subscriptionId: e.subscriptionId, region: e.region, from: e.state, to: e.state, reason: 'ingest stalled on its hub' };
    // Any one source of an export arriving proves the export works (Entra export carries sign-in and audit tables).
    const silent = own.every((s) => isNotOk(s.verdict));
    const to: CoverageState = silent ? 'silent' : e.state === 'silent' ? 'streaming' : e.state;
    const reason = silent ? own.map((s) => `${s.source}: ${s.reason}`).join('; ') : own.map((s) => `${s.source}: ${s.verdict}`).join(', ');
    return { target: e.target, resourceId: e.resourceId, subscriptionId: e.subscriptionId, region: e.region, from: e.state, to, reason };
  });

  if (stalledHubs.length > 0) return result('stalled', `ingest stalled: ${stalledNote}`, sources, entryHealth);
  const bad = sources.filter((s) => isNotOk(s.verdict));
  const knownHubs = hubHealth.filter((h) => h.verdict !== 'unknown');
  const allHubsSilent = knownHubs.length > 0 && knownHubs.every((h) => SILENT_HUB.has(h.verdict));
  if (bad.length === sources.length || allHubsSilent) {
    const verdict: TenantVerdict = bad.length > 0 && bad.every((s) => s.verdict === 'never-seen') && !hubHealth.some((h) => h.verdict === 'silent') ? 'never-seen' : 'silent';
    const why = allHubsSilent ? `no hub of the tenant received data within ${input.thresholdMinutes} min` : `all ${sources.length} expected sources are quiet`;
    return result(verdict, `${why}: ${bad.map((s) => s.source).join(', ') || 'hubs'}`, sources, entryHealth);
  }
  return result('ok', bad.length === 0 ? `all ${sources.length} expected sources ok` : `${bad.length} of ${sources.length} sources quiet: ${bad.map((s) => `${s.source} (${s.verdict})`).join(', ')}`, sources, entryHealth);
}
