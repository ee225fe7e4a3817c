import type { ContainerClient } from '@azure/storage-blob';
import { ConnectorError } from '../errors.js';
import { silentLogger } from '../log.js';
import { syncIngestAppSettings, type AppSyncResult, type SyncDeps } from '../onboarding/appSettingsSync.js';
import type { IngestAppRecord } from '../registry/types.js';
import { readCheckpoints, type PartitionCheckpoint } from './checkpoints.js';
import { addToIngestApp, hubKey, parseHubKey, poolRecordChanges, releaseIngestSlot, syncPoolRecords } from './ingestPool.js';

/**
 * Moving tenant hubs between ingest apps (docs/fleet.md "Moving a hub"). Planning is pure; applying is
 * make-before-break: the hubs are added to their new apps and those apps' settings written first (for a moment
 * both apps read the hub; they share its checkpoints and partition ownership, see checkpoints.ts), then removed
 * from the old apps and those written. Nothing is lost; at worst events since a partition's last checkpoint are
 * read again by the new owner, with the same deterministic event uids.
 */

export interface HubMove {
  tenantId: string;
  region: string;
  from: string;
  to: string;
}

export type RebalanceRequest =
  | { kind: 'move'; tenantId: string; region: string; to: string }
  /** Every hub off this app, onto active apps with room (an app leaving the fleet, or being emptied). */
  | { kind: 'drain'; app: string }
  /** Active apps within one hub of each other, none over the shard size. */
  | { kind: 'even' };

export interface RebalancePlan {
  moves: HubMove[];
  /** Hubs that could not be placed for lack of room. */
  unplaced: string[];
}

/** Pure: which hubs go where. Keeps a tenant's hubs together where it can (one app rewritten per tenant). */
export function planRebalance(apps: readonly IngestAppRecord[], maxHubs: number, req: RebalanceRequest): RebalancePlan {
  const load = new Map(apps.map((a) => [a.name, [...a.hubs]]));
  const active = apps.filter((a) => a.state === 'active').map((a) => a.name).sort();
  const moves: HubMove[] = [];
  const unplaced: string[] = [];
  const place = (key: string, from: string, exclude: string): string | undefined => {
    const { tenantId } = parseHubKey(key);
    const room = (n: string) => n !== exclude && (load.get(n)?.length ?? 0) < maxHubs;
    const to = active.find((n) => room(n) && (load.get(n) ?? []).some((h) => parseHubKey(h).tenantId === tenantId)) ?? active.filter(room).sort((a, b) => (load.get(a)?.length ?? 0) - (load.get(b)?.length ?? 0))[0];
    if (!to) return undefined;
    load.set(from, (load.get(from) ?? []).filter((h) => h !== key));
    load.get(to)?.push(key);
    return to;
  };

  if (req.kind === 'move') {
    const key = hubKey(req.tenantId, req.region);
    // Every holder: a move that stopped after its make step leaves the hub in two apps, and running it again (what
    // health advises) must finish it, releasing the hub from every app but the target.
    const holders = apps.filter((a) => a.hubs.includes(key)).map((a) => a.name);
    if (holders.length === 0) throw new ConnectorError('not-found', `no ingest app holds ${key}`);
    const target = apps.find((a) => a.name === req.to);
    if (!target) throw new ConnectorError('not-found', `ingest app ${req.to} is not in the registry (is it in MDR_INGEST_APPS?)`);
    const others = holders.filter((n) => n !== req.to);
    if (others.length === 0) return { moves: [], unplaced: [] };
    if (!target.hubs.includes(key)) {
      if (target.state !== 'active') throw new ConnectorError('validation', `ingest app ${req.to} is draining: it takes no new hubs`);
      if (target.hubs.length >= maxHubs) throw new ConnectorError('capacity', `ingest app ${req.to} is full (${target.hubs.length} of ${maxHubs} hubs)`);
    }
    return { moves: others.map((from) => ({ ...parseHubKey(key), from, to: req.to })), unplaced: [] };
  }

  if (req.kind === 'drain') {
    const source = apps.find((a) => a.name === req.app);
    if (!source) throw new ConnectorError('not-found', `ingest app ${req.app} is not in the registry`);
    // Whole tenants first, so their hubs can stay together.
    const keys = [...source.hubs].sort((a, b) => a.localeCompare(b));
    for (const key of keys) {
      const to = place(key, req.app, req.app);
      if (to) moves.push({ ...parseHubKey(key), from: req.app, to });
      else unplaced.push(key);
    }
    return { moves, unplaced };
  }

  // even: move from the fullest active app to the emptiest until they differ by at most one and none is over.
  for (let guard = 0; guard < 100_000; guard++) {
    const sorted = [...active].sort((a, b) => (load.get(b)?.length ?? 0) - (load.get(a)?.length ?? 0) || a.localeCompare(b));
    const fullest = sorted[0];
    const emptiest = sorted[sorted.length - 1];
    if (!fullest || !emptiest || fullest === emptiest) break;
    const hi = load.get(fullest) ?? [];
    const lo = load.get(emptiest) ?? [];
    if (hi.length - lo.length <= 1 && hi.length <= maxHubs) break;
    if (lo.length >= maxHubs) break;
    const key = [...hi].sort((a, b) => a.localeCompare(b)).pop()!;
    load.set(fullest, hi.filter((h) => h !== key));
    lo.push(key);
    moves.push({ ...parseHubKey(key), from: fullest, to: emptiest });
  }
  // A hub moved twice (a→b, then b→c) is one move a→c.
  return { moves: collapse(moves), unplaced };
}

function collapse(moves: HubMove[]): HubMove[] {
  const byKey = new Map<string, HubMove>();
  for (const m of moves) {
    const key = hubKey(m.tenantId, m.region);
    const prev = byKey.get(key);
    byKey.set(key, prev ? { ...prev, to: m.to } : m);
  }
  return [...byKey.values()].filter((m) => m.from !== m.to);
}

export interface RebalanceResult extends RebalancePlan {
  dryRun: boolean;
  /** Settings writes, in order: the new owners first, then the old ones. */
  synced: AppSyncResult[];
  /** Per moved hub, its checkpoints before and after the move (when a checkpoint container was given). */
  checkpoints: { hub: string; before: PartitionCheckpoint[]; after: PartitionCheckpoint[]; unreadable?: string }[];
}

export interface RebalanceDeps extends SyncDeps {
  /** The shared `azure-webjobs-eventhub` container, to report each moved hub's resume positions. */
  checkpoints?: ContainerClient;
}

/** Plans and (unless dryRun) applies a rebalance, make-before-break, with the caller's identity (an operator). */
export async function rebalanceIngest(deps: RebalanceDeps, req: RebalanceRequest, opts: { dryRun?: boolean } = {}): Promise<RebalanceResult> {
  const log = deps.logger ?? silentLogger;
  // A dry run plans from the records as MDR_INGEST_APPS would make them, without writing them.
  const apps = opts.dryRun
    ? (await deps.registry.listIngestApps().then((records) => [...new Map([...records, ...poolRecordChanges(records, deps.settings.fleet.ingestApps)].map((a) => [a.name, a])).values()].sort((a, b) => a.name.localeCompare(b.name))))
    : await syncPoolRecords(deps);
  const plan = planRebalance(apps, deps.settings.fleet.maxHubsPerApp, req);
  const result: RebalanceResult = { ...plan, dryRun: opts.dryRun ?? false, synced: [], checkpoints: [] };
  if (result.dryRun || plan.moves.length === 0) return result;

  const hubs = await deps.registry.listHubs();
  const hubOf = (m: HubMove) => hubs.find((h) => h.tenantId === m.tenantId && h.region === m.region);
  const before = new Map<string, PartitionCheckpoint[]>();
  const unreadable = new Map<string, string>();
  // Checkpoints are reported, never required: without read access to their container the move still goes ahead.
  const readFor = async (m: HubMove): Promise<PartitionCheckpoint[]> => {
    const h = hubOf(m);
    if (!deps.checkpoints || !h) return [];
    try {
      return await readCheckpoints(deps.checkpoints, `${h.namespace}.${deps.settings.cloud.eventHubsSuffix}`, h.hub, h.consumerGroup);
    } catch (e) {
      const why = (e instanceof Error ? e.message : String(e)).split('\n')[0]!; // the service appends request ids on more lines
      unreadable.set(hubKey(m.tenantId, m.region), why);
      log.warn('fleet.checkpoints_unreadable', { hub: hubKey(m.tenantId, m.region), error: why });
      return [];
    }
  };
  for (const m of plan.moves) before.set(hubKey(m.tenantId, m.region), await readFor(m));

  // A hub whose row is gone (its tenant offboarded since the plan was read) is not moved: a slot taken for it would
  // never be released.
  const exists = async (m: HubMove) => (await deps.registry.listHubs(m.tenantId)).some((h) => h.region === m.region);
  // 1. make: the new owners take the hubs and restart with them.
  for (const m of plan.moves) if (await exists(m)) await addToIngestApp(deps, m.tenantId, m.region, m.to);
  const targets = [...new Set(plan.moves.map((m) => m.to))];
  const made = await syncIngestAppSettings(deps, { apps: targets, operator: true });
  result.synced.push(...made.apps);
  log.info('fleet.rebalance_made', { moves: plan.moves.length, apps: targets });
  // 2. break: the old owners let go; and a hub offboarded while it moved lets go of its new owner too.
  for (const m of plan.moves) await releaseIngestSlot(deps, m.tenantId, m.region, m.from);
  for (const m of plan.moves) if (!(await exists(m))) await releaseIngestSlot(deps, m.tenantId, m.region);
  const sources = [...new Set(plan.moves.map((m) => m.from))];
  const broke = await syncIngestAppSettings(deps, { apps: sources, operator: true });
  result.synced.push(...broke.apps);
  log.info('fleet.rebalance_done', { moves: plan.moves.length, apps: sources });

  for (const m of plan.moves) {
    const key = hubKey(m.tenantId, m.region);
    const after = await readFor(m);
    const why = unreadable.get(key);
    result.checkpoints.push({ hub: key, before: before.get(key) ?? [], after, ...(why ? { unreadable: why } : {}) });
  }
  return result;
}
