import type { Settings } from '../config/settings.js';
import { ConnectorError, ensureError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { TenantRegistry } from '../registry/tenantRegistry.js';
import { coverageKey, type CoverageEntry, type TenantRecord } from '../registry/types.js';
import { evaluateHealth, type HubObservation, type TenantHealth } from './evaluateHealth.js';
import type { PartitionInfoSource } from './partitionInfo.js';
import { fleetCapacity, type FleetCapacity } from '../fleet/fleetCapacity.js';
import { poolRecordChanges } from '../fleet/ingestPool.js';
import { coverageReport } from '../reconcile/coverageReport.js';

export interface HealthDeps {
  registry: TenantRegistry;
  partitionInfo: PartitionInfoSource;
  settings: { health: Pick<Settings['health'], 'silenceThresholdMinutes'>; cloud: Pick<Settings['cloud'], 'eventHubsSuffix'>; fleet?: Pick<Settings['fleet'], 'maxHubsPerApp'> & Partial<Pick<Settings['fleet'], 'ingestApps'>> };
  logger?: Logger;
  now?: () => Date;
}

export interface HealthRunOptions {
  /** Only this tenant (404-style ConnectorError 'not-found' when it is not registered). */
  tenantId?: string;
  /** Evaluate and report without writing the coverage ledger (the CLI's default). */
  dryRun?: boolean;
}

export interface LedgerChange {
  tenantId: string;
  target: CoverageEntry['target'];
  resourceId: string;
  from: CoverageEntry['state'];
  to: CoverageEntry['state'];
}

export interface HealthRunReport {
  evaluatedAt: string;
  thresholdMinutes: number;
  dryRun: boolean;
  tenants: TenantHealth[];
  /** Ledger entries this run changed (or would change, in a dry run). */
  ledgerChanges: LedgerChange[];
  /** Tenants that could not be evaluated (registry failures); the others still were. */
  errors: { tenantId: string; message: string }[];
  /** The ingest fleet's capacity (runs over every tenant only): full, unassigned hubs, apps to drain. */
  fleet?: FleetCapacity;
}

const TENANT_CONCURRENCY = 4;

/**
 * The stream-health run (timer and CLI): per tenant read hubs, ledger and last-seen from the registry and
 * the runtime of each ready hub, evaluate, then write `silent` into ledger entries of silent sources and
 * `streaming` back into entries whose data resumed. One `health.silent` warning per quiet source per run.
 */
export async function runHealthCheck(deps: HealthDeps, opts: HealthRunOptions = {}): Promise<HealthRunReport> {
  const log = deps.logger ?? silentLogger;
  const now = (deps.now ?? (() => new Date()))();
  const thresholdMinutes = deps.settings.health.silenceThresholdMinutes;
  const dryRun = opts.dryRun ?? false;

  let tenants: TenantRecord[];
  if (opts.tenantId) {
    const t = await deps.registry.getTenant(opts.tenantId.toLowerCase());
    if (!t) throw new ConnectorError('not-found', `tenant ${opts.tenantId} is not registered`, { statusCode: 404 });
    tenants = [t];
  } else {
    tenants = (await deps.registry.listTenants()).filter((t) => t.status !== 'offboarding');
  }

  const report: HealthRunReport = { evaluatedAt: now.toISOString(), thresholdMinutes, dryRun, tenants: [], ledgerChanges: [], errors: [] };
  const queue = [...tenants];
  const worker = async () => {
    for (let t = queue.shift(); t; t = queue.shift()) {
      const tlog = log.child({ tenantId: t.tenantId });
      try {
        const { health, changes } = await checkTenant(deps, t, now, thresholdMinutes, dryRun, tlog);
        report.tenants.push(health);
        report.ledgerChanges.push(...changes);
      } catch (e) {
        const message = ensureError(e).message;
        tlog.error('health.failed', { message });
        report.errors.push({ tenantId: t.tenantId, message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(TENANT_CONCURRENCY, tenants.length) }, worker));
  report.tenants.sort((a, b) => a.tenantId.localeCompare(b.tenantId));
  if (!opts.tenantId && deps.settings.fleet) {
    const [records, hubs] = await Promise.all([deps.registry.listIngestApps(), deps.registry.listHubs()]);
    // The fleet as MDR_INGEST_APPS says it is now (an app just added counts, one removed is draining), without writing
    // the records: the next onboarding or reconcile brings them in line (syncPoolRecords).
    const configured = deps.settings.fleet.ingestApps;
    const changes = configured && configured.length > 0 ? poolRecordChanges(records, configured) : [];
    const apps = [...new Map([...records, ...changes].map((a) => [a.name, a])).values()];
    report.fleet = fleetCapacity(apps, hubs, deps.settings.fleet.maxHubsPerApp);
    const f = report.fleet;
    log.info('fleet.capacity', { apps: f.apps.length, capacity: f.capacity, used: f.used, free: f.free, unassigned: f.unassigned.length });
    if (f.full) log.error('fleet.full', { apps: f.apps.length, capacity: f.capacity, message: f.problems[0] });
    for (const p of f.problems.slice(f.full ? 1 : 0)) log.warn('fleet.problem', { message: p });
  }
  log.info('health.run', {
    tenants: report.tenants.length,
    silentTenants: report.tenants.filter((t) => t.verdict === 'silent' || t.verdict === 'never-seen').length,
    ledgerChanges: report.ledgerChanges.length,
    errors: report.errors.length,
    dryRun,
  });
  return report;
}

async function checkTenant(deps: HealthDeps, t: TenantRecord, now: Date, thresholdMinutes: number, dryRun: boolean, log: Logger) {
  const [hubs, coverage, lastSeen, progress] = await Promise.all([
    deps.registry.listHubs(t.tenantId),
    deps.registry.listCoverage(t.tenantId),
    deps.registry.listLastSeen(t.tenantId),
    deps.registry.listPartitionProgress(t.tenantId),
  ]);
  const observations: HubObservation[] = await Promise.all(
    hubs
      .filter((h) => h.state === 'ready')
      .map(async (hub): Promise<HubObservation> => {
        const fqdn = `${hub.namespace}.${deps.settings.cloud.eventHubsSuffix}`;
        try {
          return { hub, runtime: await deps.partitionInfo.getHubRuntime(fqdn, hub.hub) };
        } catch (e) {
          const error = ensureError(e).message;
          log.warn('health.hub_unreadable', { namespace: hub.namespace, hub: hub.hub, message: error });
          return { hub, error };
        }
      }),
  );
  const health = evaluateHealth({ tenantId: t.tenantId, primaryRegion: t.regions[0], hubs: observations, coverage, lastSeen, progress, now, thresholdMinutes });

  for (const s of health.sources) {
    if (s.verdict !== 'ok') log.warn('health.silent', { source: s.source, verdict: s.verdict, lastEventTime: s.lastEventTime, targets: s.targets, reason: s.reason });
  }
  for (const h of health.hubs) {
    if (h.verdict === 'silent' || h.verdict === 'never-seen') log.warn('health.hub_silent', { namespace: h.namespace, hub: h.hub, verdict: h.verdict, lastEnqueuedOnUtc: h.lastEnqueuedOnUtc, reason: h.reason });
    if (h.verdict === 'stalled') log.error('health.ingest_stalled', { namespace: h.namespace, hub: h.hub, partitions: h.stalledPartitions, reason: h.reason });
  }

  const at = now.toISOString();
  // The ledger as it is now, not as read before the hub round trips: a tamper record (event-driven) or a reconcile
  // write in between must survive; health changes only state and detail, on the entry as it stands.
  const changing = health.entries.some((eh) => eh.to !== eh.from);
  const byKey = new Map((changing && !dryRun ? await deps.registry.listCoverage(t.tenantId) : coverage).map((e) => [coverageKey(e), e]));
  const updated: CoverageEntry[] = [];
  const changes: LedgerChange[] = [];
  for (const eh of health.entries) {
    if (eh.to === eh.from) continue;
    const current = byKey.get(coverageKey(eh));
    // Gone, or changed meanwhile by a run that saw more (reconcile): that state stands until the next check.
    if (!current || current.state !== eh.from) continue;
    updated.push({ ...current, state: eh.to, detail: eh.to === 'silent' ? `silent: ${eh.reason}` : undefined, updatedAt: at });
    changes.push({ tenantId: t.tenantId, target: eh.target, resourceId: eh.resourceId, from: eh.from, to: eh.to });
    if (eh.to === 'streaming') log.info('health.recovered', { target: eh.target, resourceId: eh.resourceId, reason: eh.reason });
  }
  if (updated.length > 0 && !dryRun) await deps.registry.putCoverage(t.tenantId, updated);
  log.info('health.tenant', { verdict: health.verdict, reason: health.reason, sources: health.sources.length, ledgerChanges: changes.length, dryRun });
  if (!dryRun) logCoverageSnapshot(log, t.tenantId, coverage, updated);
  return { health, changes };
}

/**
 * The tenant's coverage ledger as counts, once per health run: the workbook's "coverage by state and target" reads
 * this line instead of Table storage (the ledger stays the one store). Written after this run's own ledger changes.
 */
function logCoverageSnapshot(log: Logger, tenantId: string, ledger: readonly CoverageEntry[], updated: readonly CoverageEntry[]): void {
  const byKey = new Map(ledger.map((e) => [coverageKey(e), e]));
  for (const e of updated) byKey.set(coverageKey(e), e);
  const { totals } = coverageReport(tenantId, [...byKey.values()]);
  const counts = Object.entries(totals.byTarget).flatMap(([target, states]) => Object.entries(states ?? {}).map(([state, count]) => ({ target, state, count })));
  const tampered = [...byKey.values()].filter((e) => e.tamper !== undefined).length;
  log.info('coverage.snapshot', { targets: totals.targets, covered: totals.covered, tampered, counts });
}
