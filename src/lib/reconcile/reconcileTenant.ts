import type { AzureClients } from '../azure/clientFactory.js';
import { classifyArmError, isNotFound } from '../azure/classifyError.js';
import type { Settings } from '../config/settings.js';
import { ConnectorError, isConflict, PROVIDER_SIDE } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { TenantRegistry } from '../registry/tenantRegistry.js';
import { coverageKey, type CoverageEntry, type CoverageState, type HubAssignment, type TenantRecord } from '../registry/types.js';
import { scopeTargets, type TargetScope } from '../eventDriven/targetScope.js';
import { FEED_LAG_MS, quietTargets, readChangeFeed, trustable, type ChangeEvent } from './changeFeed.js';
import { discover, type Discovery } from './discovery.js';
import { recordKnownSubscriptions } from './knownSubscriptions.js';
import { createScopedLimiter } from './limiter.js';
import { normalizeRegion, type ActionKind, type Change, type PlannedAction } from './plan.js';
import type { TargetContext, TargetItem } from './target.js';
import { ownershipFor } from './ownership.js';
import { qualifiedName, targetFor } from './targetRegistry.js';
import { ownsTenantLevelEntries, targetItemsFor, wantedByConfig } from './targetItems.js';

export type EnsureHub = (tenant: TenantRecord, region: string) => Promise<HubAssignment | undefined>;

export interface ReconcileDeps {
  settings: Pick<Settings, 'prefix' | 'reconcile' | 'provider' | 'pool'> & Partial<Pick<Settings, 'health'>>;
  registry: TenantRegistry;
  clients: AzureClients;
  logger?: Logger;
  /** Lazy hub provisioning for a region without one (onboarding's provisionTenantHub); absent → `no-hub-in-region`. */
  ensureHub?: EnsureHub;
  now?: () => Date;
}

export interface ReconcileProgress {
  done: number;
  total: number;
  action?: PlannedAction;
}

export interface ReconcileOptions {
  dryRun?: boolean;
  /** Read every target even when the change feed vouches for it (dry runs always do). */
  full?: boolean;
  /** Work item split: only these subscriptions (coverage of others is kept). */
  subscriptionIds?: readonly string[];
  /**
   * Event-driven run (src/lib/eventDriven): only the targets in this scope, each read fresh. Their ledger entries are
   * upserted; every other entry, the change-feed marks and tenant.lastReconcile are left as they are.
   */
  targeted?: TargetScope;
  onProgress?: (p: ReconcileProgress) => void;
}

export interface ReconcileReport {
  tenantId: string;
  dryRun: boolean;
  result: 'succeeded' | 'partial' | 'failed';
  plan: PlannedAction[];
  /** Targets per coverage state. */
  counts: Partial<Record<CoverageState, number>>;
  /** Actions per kind. */
  actions: Partial<Record<ActionKind, number>>;
  errors: { resourceId: string; target?: string; message: string }[];
  durationMs: number;
  /** ARM calls this run made, counted client-side (SDK retries not included). */
  armReads: number;
  armWrites: number;
  /** Targets taken from the ledger without a read because the activity log shows no change to them. */
  trusted: number;
}

const STREAMING = new Set<CoverageState>(['streaming', 'created', 'repaired']);
const WRITE_KINDS = new Set<Change['kind']>(['create', 'update', 'delete']);

/** Folds a target's changes into the one plan line the ledger and the CLI show. */
function toAction(item: TargetItem, changes: readonly Change[]): PlannedAction {
  const base = { target: item.target, resourceId: item.resourceId, subscriptionId: item.subscriptionId, region: item.region };
  if (changes.length === 0) return { ...base, kind: 'none', name: '', reason: 'in sync', coverage: 'streaming' };
  const main = changes.find((c) => c.kind === 'blocked') ?? changes.find((c) => c.kind === 'create' || c.kind === 'update') ?? changes[0]!;
  return { ...base, kind: main.kind, name: main.name, reason: changes.map((c) => `${c.kind === 'blocked' ? '' : `${c.kind} ${c.name}: `}${c.reason}`).join('; '), coverage: main.coverage, detail: main.detail, ...(main.reasonCode ? { reasonCode: main.reasonCode } : {}) };
}

function failure(item: TargetItem, e: unknown, verb: string, side: 'customer' | 'provider' = 'customer'): PlannedAction {
  const err = classifyArmError(e, `${verb} ${item.target} on ${item.resourceId}`);
  // Only the customer's side is reached through the delegation; a refusal in the provider's subscription (its pool,
  // the tenant's hub and Send rule) is the app identity's roles, and must not send the customer to check Lighthouse.
  if (side === 'provider' || err.code === PROVIDER_SIDE) return blockedAction(item, 'failed', `provider-side ${err.kind} error (the app's own access to the Event Hubs pool)`, err.message);
  const forbidden = err.statusCode === 401 || err.statusCode === 403;
  return blockedAction(item, forbidden ? 'forbidden' : 'failed', forbidden ? 'the delegation does not allow this' : `${err.kind} error`, err.message);
}

/** An item whose write the offboarding fence stopped. */
function fencedAction(item: TargetItem, what: string): PlannedAction {
  return blockedAction(item, 'failed', `tenant is no longer active (offboarding): ${what}`);
}

/** Only an active tenant is reconciled; an offboarded or offboarding one must not get our objects back. */
export function assertActive(tenant: Pick<TenantRecord, 'tenantId' | 'status'>): void {
  if (tenant.status !== 'active')
    throw new ConnectorError('conflict', `tenant ${tenant.tenantId} is ${tenant.status}, not active: it is not reconciled (onboard it again with PUT /api/tenants/{id} first)`, {
      code: 'TenantNotActive',
      statusCode: 409,
    });
}

/**
 * The offboarding fence: whether the tenant is still active, read from the registry at the moment of asking. Once it
 * is not, it stays tripped for the rest of the run. A failed read counts as not active (fail closed).
 */
function writeFence(registry: Pick<TenantRegistry, 'getTenant'>, tenantId: string): { active(): Promise<boolean>; readonly tripped: boolean } {
  let tripped = false;
  return {
    async active() {
      if (tripped) return false;
      const ok = await registry.getTenant(tenantId).then(
        (t) => t?.status === 'active',
        () => false,
      );
      if (!ok) tripped = true;
      return ok;
    },
    get tripped() {
      return tripped;
    },
  };
}

/** An item the run cannot bring in sync, with the coverage state and reason the ledger shows. */
function blockedAction(item: TargetItem, coverage: PlannedAction['coverage'], reason: string, detail?: string): PlannedAction {
  return { target: item.target, resourceId: item.resourceId, subscriptionId: item.subscriptionId, region: item.region, kind: 'blocked', name: '', reason, coverage, detail };
}

/** What one subscription's change feed returned: the providers it covers and their events. */
interface FeedResult {
  providers: ReadonlySet<string>;
  events: ChangeEvent[];
}

/** The plan line of a target the change feed vouches for: what the ledger says, without a read. */
function trustedAction(item: TargetItem, prev: CoverageEntry): PlannedAction {
  const base = { target: item.target, resourceId: item.resourceId, subscriptionId: item.subscriptionId, region: item.region };
  const since = `unchanged in the activity log since read at ${prev.observedAt ?? '?'}`;
  if (prev.state === 'slots-exhausted') return { ...base, kind: 'blocked', name: '', reason: since, coverage: 'slots-exhausted', detail: prev.detail };
  return { ...base, kind: 'none', name: prev.settingName ?? '', reason: `in sync; ${since}`, coverage: 'streaming' };
}

/** Observation fields of the new ledger entry: this run's when it read the target, else the previous entry's. */
function pickObservation(prev: CoverageEntry | undefined, seen: Pick<CoverageEntry, 'observedAt' | 'wroteAt' | 'desiredKey'> | undefined): Pick<CoverageEntry, 'observedAt' | 'wroteAt' | 'desiredKey'> {
  const o = { observedAt: seen?.observedAt ?? prev?.observedAt, wroteAt: seen?.wroteAt ?? prev?.wroteAt, desiredKey: seen?.desiredKey ?? prev?.desiredKey };
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/**
 * Controller-style reconcile of one tenant: discover → desired → observe (bounded) → plan → apply (unless
 * dryRun) → coverage ledger → tenant.lastReconcile. Per-target failures become coverage states; only a
 * transient discovery failure throws (the queue host retries the whole item).
 */
export async function reconcileTenant(tenantOrId: TenantRecord | string, deps: ReconcileDeps, opts: ReconcileOptions = {}): Promise<ReconcileReport> {
  const started = Date.now();
  const now = deps.now ?? (() => new Date());
  const dryRun = opts.dryRun ?? false;
  const tenant = typeof tenantOrId === 'string' ? await deps.registry.getTenant(tenantOrId) : tenantOrId;
  if (!tenant) throw new ConnectorError('not-found', `tenant ${String(tenantOrId)} is not registered`);
  assertActive(tenant);
  const log = (deps.logger ?? silentLogger).child({ tenantId: tenant.tenantId, dryRun });
  const { settings } = deps;
  const ctx: TargetContext = { clients: deps.clients, prefix: settings.prefix, ownership: ownershipFor(settings) };
  const fence = writeFence(deps.registry, tenant.tenantId);
  let reads = 0;
  let writes = 0;
  const errors: ReconcileReport['errors'] = [];
  const resyncMs = settings.reconcile.resyncHours * 3_600_000;
  const watching = resyncMs > 0 && !dryRun;
  const runStart = now();
  let trusted = new Map<string, CoverageEntry>();
  /** Per observed target: when it was read, when our write finished, what it was reconciled to. */
  const observations = new Map<string, Pick<CoverageEntry, 'observedAt' | 'wroteAt' | 'desiredKey'>>();
  /** Per target read this run: our objects on it afterwards (the ledger's provenance, ownership.ts). */
  const provenance = new Map<string, string[]>();

  const limiter = createScopedLimiter(settings.reconcile.concurrency, settings.reconcile.perSubscriptionConcurrency);
  // The registry reads and the change feed need no discovery result beyond the subscriptions: start them early.
  const stored = Promise.all([
    deps.registry.listCoverage(tenant.tenantId),
    deps.registry.listHubs(tenant.tenantId),
    watching && !opts.full && !opts.targeted ? deps.registry.listChangeMarks(tenant.tenantId) : Promise.resolve([]),
  ]);
  stored.catch(() => undefined); // awaited below; not an unhandled rejection if discovery fails first
  let feeds: Promise<Map<string, FeedResult>> | undefined;

  let discovery: Discovery | undefined;
  let previous: Map<string, CoverageEntry> | undefined;
  try {
    discovery = await discover(deps.clients, tenant, settings.provider.automationResourceGroup, opts.subscriptionIds, (subs) => {
      if (!watching || opts.full || opts.targeted) return;
      feeds = readFeeds(subs.map((x) => x.subscriptionId));
      feeds.catch(() => undefined); // awaited below; a run that fails before then must not leave an unhandled rejection
    });
    reads += discovery.reads;
  } catch (e) {
    const err = classifyArmError(e, `discover subscriptions and resources of tenant ${tenant.tenantId}`);
    if (err.kind === 'transient') throw err;
    errors.push({ resourceId: `tenant/${tenant.tenantId}`, message: err.message });
    return finish([], 'failed');
  }
  // Visible only because the tenant manages them (MSP chains), or another home tenant per Resource Graph: never ours.
  if (discovery.foreign.length > 0) log.warn('reconcile.foreignSubscriptionsSkipped', { subscriptions: discovery.foreign });
  if (discovery.subscriptions.length === 0) {
    // A change signal naming a subscription this tenant does not (or no longer) delegate: nothing to do.
    if (opts.targeted) return finish([], 'succeeded');
    errors.push({ resourceId: `tenant/${tenant.tenantId}`, message: 'no enabled subscription of this tenant is visible: is the Lighthouse delegation in place?' });
    return finish([], 'failed');
  }
  // Before any write: data our settings start sending must find its subscription known to ingest.
  if (!dryRun) await recordKnownSubscriptions(deps.registry, tenant.tenantId, discovery.subscriptions, runStart.toISOString(), opts.subscriptionIds);

  // The previous ledger tells a first creation from a re-creation after someone deleted ours (drift → repaired).
  const [ledger, storedHubs] = await stored;
  previous = new Map(ledger.map((e) => [coverageKey(e), e]));
  // Also an entry whose last run failed while objects of ours were there (its provenance): re-creating ours is a repair.
  const wasStreaming = new Set([...previous].filter(([, e]) => STREAMING.has(e.state) || (e.state === 'failed' && (e.ownedNames?.length ?? 0) > 0)).map(([k]) => k));
  const { items, blocked } = scopeTargets(targetItemsFor(tenant, discovery, settings.provider.automationResourceGroup), opts.targeted, ledger);
  const hubs = new Map<string, HubAssignment>();
  for (const h of storedHubs) if (h.state === 'ready') hubs.set(normalizeRegion(h.region), h);
  const primaryRegion = normalizeRegion(tenant.regions[0] ?? [...hubs.keys()].sort()[0] ?? 'unknown');
  const provisioning = new Map<string, Promise<HubAssignment | undefined>>();
  const hubFor = async (region: string): Promise<HubAssignment | undefined> => {
    const found = hubs.get(region);
    if (found || dryRun || !settings.reconcile.lazyHubs || !deps.ensureHub) return found;
    let p = provisioning.get(region);
    if (!p) {
      const ensureHub = deps.ensureHub;
      // A hub is a write too: none for a tenant that is being offboarded.
      p = fence.active().then((active) => (active ? ensureHub(tenant, region) : undefined)).then((h) => {
        if (h) hubs.set(region, h);
        log.info('reconcile.hubProvisioned', { region, provisioned: Boolean(h) });
        return h;
      });
      provisioning.set(region, p);
    }
    return p;
  };

  if (feeds) trusted = trustedByChangeFeed(await feeds);
  const plan: PlannedAction[] = [...blocked];
  let done = 0;
  const total = items.length;
  const report = (a: PlannedAction | undefined) => {
    if (a) plan.push(a);
    done++;
    opts.onProgress?.({ done, total, action: a });
  };

  const runItem = async (item: TargetItem): Promise<PlannedAction | undefined> => {
    const vouched = trusted.get(coverageKey(item));
    if (vouched) return trustedAction(item, vouched);
    const region = item.hubRegion ?? primaryRegion;
    let hub: HubAssignment | undefined;
    try {
      hub = await hubFor(region);
    } catch (e) {
      return { ...failure(item, e, 'provision hub for', 'provider'), reason: `could not provision a hub in ${region}` };
    }
    if (!hub)
      return blockedAction(
        item,
        'no-hub-in-region',
        `no hub of the tenant in region ${region}${dryRun && settings.reconcile.lazyHubs && deps.ensureHub ? ' (one is provisioned when applied)' : ''}`,
      );
    const t = targetFor(item.target);
    const seen: Pick<CoverageEntry, 'observedAt' | 'wroteAt' | 'desiredKey'> = { desiredKey: t.desiredKey(item, hub, settings.prefix) };
    const written = previous?.get(coverageKey(item))?.ownedNames ?? [];
    let planned;
    try {
      planned = await limiter.run(item.subscriptionId, () => {
        seen.observedAt = now().toISOString();
        return t.plan(ctx, item, hub, written);
      });
      reads++;
    } catch (e) {
      return failure(item, e, 'read');
    }
    if (!planned) {
      log.debug('reconcile.resourceGone', { resourceId: item.resourceId });
      return undefined; // deleted mid-run: nothing to cover
    }
    let action = toAction(item, planned.changes);
    // What the read showed beyond our objects (the Entra tables a workspace holds); a blocking reason code wins.
    if (planned.facts) action = { ...action, ...planned.facts, ...(action.reasonCode ? { reasonCode: action.reasonCode } : {}) };
    if (action.kind === 'create' && wasStreaming.has(coverageKey(item)))
      action = { ...action, coverage: 'repaired', reason: `ours was deleted since the last run; ${action.reason}` };
    const toWrite = planned.changes.filter((c) => WRITE_KINDS.has(c.kind));
    if (watching) observations.set(coverageKey(item), seen);
    if (dryRun) return action;
    if (toWrite.length === 0) {
      provenance.set(coverageKey(item), planned.ours.applied);
      return action;
    }
    // Fenced write (docs/reconcile.md "Offboarding fence"): only while the tenant is active, checked before the
    // write and again after it; a write that lands after an offboarding began is withdrawn by this run itself.
    if (!(await fence.active())) return fencedAction(item, 'not written');
    try {
      await limiter.run(item.subscriptionId, planned.apply);
      seen.wroteAt = now().toISOString();
      writes += toWrite.length;
      provenance.set(coverageKey(item), planned.ours.applied);
    } catch (e) {
      // Names we meant to write count as ours only when the write may have landed (a timeout, a 5xx): after a definite
      // refusal a same-named object that appears later is the customer's (docs/reconcile.md "Ownership rules").
      // A provider-side failure (the Send rule's keys) comes before any write in the customer's subscription.
      const err = classifyArmError(e, 'write');
      const mayHaveLanded = err.kind === 'transient' && err.code !== PROVIDER_SIDE;
      provenance.set(coverageKey(item), [...new Set([...written, ...planned.ours.found, ...(mayHaveLanded ? planned.ours.applied : [])])]);
      // The resource went away mid-run (a provider-side 404 carries no status: it is a failure, not this).
      if (isNotFound(e)) return undefined;
      return failure(item, e, action.kind === 'delete' ? 'delete' : 'write');
    }
    if (!(await fence.active())) {
      const withdrawn = planned.changes.filter((c) => c.kind === 'create' || c.kind === 'update').map(qualifiedName);
      for (const name of withdrawn) {
        try {
          await limiter.run(item.subscriptionId, () => t.remove(ctx, item, name));
        } catch (e) {
          if (!isNotFound(e)) log.error('reconcile.fenceWithdrawFailed', { target: item.target, resourceId: item.resourceId, name, error: classifyArmError(e, `delete ${name}`).message });
        }
      }
      log.warn('reconcile.fenced', { target: item.target, resourceId: item.resourceId, withdrawn });
      return fencedAction(item, `written, then withdrawn (${withdrawn.join(', ') || 'nothing to withdraw'})`);
    }
    log.info('reconcile.applied', { target: item.target, resourceId: item.resourceId, kind: action.kind, reason: action.reason });
    return action;
  };

  /**
   * A target of ours the tenant's configuration no longer asks for (an option turned off, a storage service or an
   * Entra workspace dropped): our object on it is removed, proved ours the way teardown proves it. The entry says
   * `removed` for one run; a failure keeps its provenance, so the next run tries again.
   */
  const retire = async (prev: CoverageEntry): Promise<PlannedAction | undefined> => {
    const item: TargetItem = { target: prev.target, resourceId: prev.resourceId, subscriptionId: prev.subscriptionId, region: prev.region, hubRegion: undefined };
    const key = coverageKey(item);
    const base = { target: item.target, resourceId: item.resourceId, subscriptionId: item.subscriptionId, region: item.region, reasonCode: 'not-wanted' };
    const why = 'the tenant no longer asks for this target (its option, storage services or Entra workspaces changed)';
    const t = targetFor(item.target);
    let names: string[] | undefined;
    try {
      names = await limiter.run(item.subscriptionId, () => t.owned(ctx, item, prev.ownedNames ?? []));
      reads++;
    } catch (e) {
      provenance.set(key, prev.ownedNames ?? []);
      return { ...failure(item, e, 'read'), reasonCode: 'not-wanted' };
    }
    provenance.set(key, []);
    if (names === undefined || names.length === 0) return undefined; // gone, or nothing of ours left: nothing to say
    if (dryRun) return { ...base, kind: 'delete', name: names.join(', '), reason: `${why}: ours would be removed`, coverage: 'removed' };
    if (!(await fence.active())) return fencedAction(item, 'not removed');
    const left: string[] = [];
    let error: unknown;
    for (const name of names) {
      try {
        await limiter.run(item.subscriptionId, () => t.remove(ctx, item, name));
        writes++;
      } catch (e) {
        if (isNotFound(e)) continue;
        left.push(name);
        error = e;
      }
    }
    if (left.length > 0) {
      provenance.set(key, left);
      return { ...failure(item, error, 'delete'), reasonCode: 'not-wanted' };
    }
    log.info('reconcile.retired', { target: item.target, resourceId: item.resourceId, removed: names });
    return { ...base, kind: 'delete', name: names.join(', '), reason: `${why}: ours removed`, coverage: 'removed' };
  };
  // Only a run that reads the whole tenant or whole subscriptions; a targeted run's scope says nothing of the rest.
  const inScope = new Set(discovery.subscriptions.map((s) => s.subscriptionId.toLowerCase()));
  const current = new Set([...items, ...blocked].map((i) => coverageKey(i)));
  const unwanted = opts.targeted
    ? []
    : ledger.filter((e) => inScope.has(e.subscriptionId.toLowerCase()) && !current.has(coverageKey(e)) && !wantedByConfig(tenant, e) && (STREAMING.has(e.state) || (e.ownedNames?.length ?? 0) > 0));

  await Promise.all([...items.map(async (item) => report(await runItem(item))), ...unwanted.map(async (e) => void (await retire(e).then((a) => a && plan.push(a))))]);
  for (const a of plan) if (a.coverage === 'failed' || a.coverage === 'forbidden') errors.push({ resourceId: a.resourceId, target: a.target, message: a.detail ?? a.reason });
  const result = errors.length === 0 ? 'succeeded' : 'partial';
  return finish(plan, result);

  /**
   * Each subscription's activity log since its mark, one query per provider that can change a target the ledger
   * holds there, side by side within the subscription's share of the limiter. No mark, a mark older than the
   * resync period, or nothing watched → no entry (the subscription is read in full).
   */
  async function readFeeds(subscriptionIds: readonly string[]): Promise<Map<string, FeedResult>> {
    const [ledger, , marks] = await stored;
    const markOf = new Map(marks.map((m) => [m.subscriptionId.toLowerCase(), Date.parse(m.through)]));
    const providersOf = new Map<string, Set<string>>();
    for (const e of ledger) {
      const p = targetFor(e.target).feedProviders;
      if (!p) continue;
      const sub = e.subscriptionId.toLowerCase();
      const set = providersOf.get(sub) ?? new Set<string>();
      for (const x of p) set.add(x);
      providersOf.set(sub, set);
    }
    const out = new Map<string, FeedResult>();
    const to = now();
    await Promise.all(
      subscriptionIds.map(async (sub) => {
        const mark = markOf.get(sub);
        const providers = [...(providersOf.get(sub) ?? [])].sort();
        if (mark === undefined || !(runStart.getTime() - mark < resyncMs) || providers.length === 0) return;
        try {
          const got = await Promise.all(providers.map((p) => limiter.run(sub, () => readChangeFeed(deps.clients, sub, p, new Date(mark - FEED_LAG_MS), to))));
          reads += got.reduce((n, f) => n + f.reads, 0);
          out.set(sub, { providers: new Set(providers), events: got.flatMap((f) => f.events) });
        } catch (e) {
          log.warn('reconcile.changeFeedUnavailable', { subscriptionId: sub, error: classifyArmError(e, `read the activity log of subscription ${sub}`).message });
        }
      }),
    );
    return out;
  }

  /**
   * Targets the run takes from the ledger instead of reading them: trusted entries (changeFeed.ts) in
   * subscriptions whose activity log was read without a gap since the last run and shows nothing new for them.
   */
  function trustedByChangeFeed(feedsBySub: ReadonlyMap<string, FeedResult>): Map<string, CoverageEntry> {
    const bySub = new Map<string, Map<string, { resourceId: string; prev: CoverageEntry & { observedAt: string } }>>();
    for (const item of items) {
      const t = targetFor(item.target);
      const hub = hubs.get(item.hubRegion ?? primaryRegion);
      const prev = previous?.get(coverageKey(item));
      const sub = item.subscriptionId.toLowerCase();
      const feed = feedsBySub.get(sub);
      if (!feed || !t.feedProviders?.every((p) => feed.providers.has(p))) continue;
      if (!hub || !trustable(prev, t.desiredKey(item, hub, settings.prefix), runStart, resyncMs)) continue;
      let m = bySub.get(sub);
      if (!m) bySub.set(sub, (m = new Map()));
      m.set(coverageKey(item), { resourceId: item.resourceId, prev });
    }
    const out = new Map<string, CoverageEntry>();
    for (const [sub, candidates] of bySub) for (const k of quietTargets(candidates, feedsBySub.get(sub)!.events)) out.set(k, candidates.get(k)!.prev);
    return out;
  }

  async function finish(plan: PlannedAction[], result: ReconcileReport['result']): Promise<ReconcileReport> {
    plan.sort((a, b) => a.target.localeCompare(b.target) || a.resourceId.localeCompare(b.resourceId));
    const counts: ReconcileReport['counts'] = {};
    const actions: ReconcileReport['actions'] = {};
    for (const a of plan) {
      counts[a.coverage] = (counts[a.coverage] ?? 0) + 1;
      actions[a.kind] = (actions[a.kind] ?? 0) + 1;
    }
    const r: ReconcileReport = { tenantId: tenant!.tenantId, dryRun, result, plan, counts, actions, errors, durationMs: Date.now() - started, armReads: reads, armWrites: writes, trusted: trusted.size };
    // A fenced run (the tenant left 'active' mid-run) leaves the registry to the offboarding.
    if (!dryRun && !fence.tripped) await record(r);
    log.info('reconcile.outcome', { result, counts, actions, durationMs: r.durationMs, armReads: reads, armWrites: writes, trusted: trusted.size });
    return r;
  }

  /**
   * In a work item that records the tenant-level entries (ownsTenantLevelEntries), the subscriptions of ledger entries
   * outside every home subscription of the tenant (a configured workspace outside the delegation): replaced here.
   */
  function outsideSubscriptions(): string[] {
    if (!discovery || !ownsTenantLevelEntries(discovery)) return [];
    const home = new Set(discovery.allHome);
    return [...new Set([...(previous?.values() ?? [])].map((e) => e.subscriptionId.toLowerCase()).filter((s) => !home.has(s)))];
  }

  async function record(r: ReconcileReport): Promise<void> {
    const at = now().toISOString();
    // The grace health gives a new setting (evaluateHealth: the silence threshold, at least 90 minutes): the ledger
    // keeps `created` / `repaired` as long, or health would measure a new setting from its hub's age instead.
    const graceMs = Math.max(NEW_SETTING_GRACE_MS, (settings.health?.silenceThresholdMinutes ?? 0) * 60_000);
    if (r.plan.length > 0 || (!opts.subscriptionIds && !opts.targeted)) {
      const entries: CoverageEntry[] = r.plan.map((a) => {
        const key = coverageKey(a);
        const prev = previous?.get(key);
        // A vouched target keeps its entry; only the ledger's own clock moves it on (a `created` past its grace).
        if (trusted.has(key) && prev) return carryOver(prev, a.coverage === 'streaming' ? { ...prev, state: 'streaming', detail: undefined, updatedAt: at } : prev, now(), graceMs);
        const owned = provenance.get(key) ?? prev?.ownedNames;
        const next: CoverageEntry = {
          ...pickObservation(prev, observations.get(key)),
          ...(owned && owned.length > 0 ? { ownedNames: owned } : {}),
          tenantId: tenant!.tenantId,
          resourceId: a.resourceId,
          target: a.target,
          subscriptionId: a.subscriptionId,
          region: a.region,
          state: a.coverage,
          detail: a.coverage === 'streaming' ? undefined : a.detail ? `${a.reason}: ${a.detail}` : a.reason,
          settingName: a.name || undefined,
          ...(a.reasonCode ? { reasonCode: a.reasonCode } : {}),
          ...(a.entraTables ? { entraTables: a.entraTables } : {}),
          updatedAt: at,
          ...(prev?.tamper ? { tamper: prev.tamper } : {}),
        };
        return carryOver(prev, next, now(), graceMs);
      });
      // A discovery failure leaves the previous ledger in place rather than erasing it.
      if (r.result !== 'failed' || entries.length > 0)
        await deps.registry.putCoverage(tenant!.tenantId, entries, opts.targeted ? {} : opts.subscriptionIds ? { replaceSubscriptions: [...opts.subscriptionIds, ...outsideSubscriptions()] } : { replaceAll: true });
    }
    // Every change before runStart is now reflected: either read after it, or vouched quiet by the feed.
    // A targeted run read only its scope: it says nothing about the rest of each subscription's feed, nor of the tenant.
    if (opts.targeted) return;
    if (watching && r.result !== 'failed' && discovery)
      await deps.registry.putChangeMarks(tenant!.tenantId, discovery.subscriptions.map((s) => ({ tenantId: tenant!.tenantId, subscriptionId: s.subscriptionId, through: runStart.toISOString() })));
    const summary: Record<string, number> = { ...r.counts } as Record<string, number>;
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await deps.registry.getTenant(tenant!.tenantId);
      if (!current) return;
      try {
        await deps.registry.putTenant({ ...current, lastReconcile: { at, result: r.result, durationMs: r.durationMs, summary }, updatedAt: at });
        return;
      } catch (e) {
        if (!isConflict(e)) throw e;
      }
    }
  }
}

/** Data may take up to 90 minutes to flow after a setting is created (Azure Monitor docs): health's grace period. */
const NEW_SETTING_GRACE_MS = 90 * 60_000;

/**
 * An in-sync target reads as `streaming` to the reconciler, but two states it does not own survive the run:
 * `silent` (set and cleared by stream health, which sees the data) and a fresh `created`/`repaired`, which keeps
 * its time so health can grant the grace period for a new setting.
 */
export function carryOver(prev: CoverageEntry | undefined, next: CoverageEntry, now: Date, graceMs = NEW_SETTING_GRACE_MS): CoverageEntry {
  if (!prev) return next;
  // Unchanged: keep the stored entry (its updatedAt is when the state last changed), so the ledger write is skipped.
  if (sameCoverage(prev, next)) return prev;
  if (next.state !== 'streaming') return next;
  if (prev.state === 'silent') return { ...next, state: 'silent', detail: prev.detail, updatedAt: prev.updatedAt };
  if ((prev.state === 'created' || prev.state === 'repaired') && now.getTime() - Date.parse(prev.updatedAt) < graceMs)
    return { ...next, state: prev.state, detail: prev.detail, updatedAt: prev.updatedAt };
  return next;
}

function sameCoverage(a: CoverageEntry, b: CoverageEntry): boolean {
  return (
    a.state === b.state && a.detail === b.detail && a.settingName === b.settingName && a.region === b.region && a.subscriptionId === b.subscriptionId && a.resourceId === b.resourceId &&
    a.observedAt === b.observedAt && a.wroteAt === b.wroteAt && a.desiredKey === b.desiredKey && (a.ownedNames ?? []).join('\n') === (b.ownedNames ?? []).join('\n') &&
    a.reasonCode === b.reasonCode && JSON.stringify(a.entraTables) === JSON.stringify(b.entraTables)
  );
}
