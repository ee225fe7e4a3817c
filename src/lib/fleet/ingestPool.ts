import type { Settings } from '../config/settings.js';
import { conflictBackoff, ConnectorError, isConflict } from '../errors.js';
import { appNameOf } from '../azure/siteId.js';
import { silentLogger, type Logger } from '../log.js';
import type { TenantRegistry } from '../registry/tenantRegistry.js';
import type { HubAssignment, IngestAppRecord } from '../registry/types.js';

/**
 * The ingest fleet's registry side (docs/fleet.md): which ingest Function App reads which tenant hub. Each app's
 * record lists its hubs; taking or giving back a slot is a read-modify-write by etag, like namespace slots
 * (onboarding/namespacePool.ts), so two onboardings can never both take an app's last slot.
 */

export type FleetSettings = Pick<Settings, 'fleet'>;

/** A hub's key in an app's record: `<tenantId>/<region>`. */
export const hubKey = (tenantId: string, region: string): string => `${tenantId}/${region}`;

export function parseHubKey(key: string): { tenantId: string; region: string } {
  const i = key.indexOf('/');
  return { tenantId: key.slice(0, i), region: key.slice(i + 1) };
}

/**
 * Pure: the records to write so the registry matches the configured pool. A configured app without a record gets
 * an empty one; a record of an app no longer configured becomes `draining` (its hubs stay until moved: dropping
 * them would stop their ingest); a draining app configured again becomes active.
 */
export function poolRecordChanges(records: readonly IngestAppRecord[], configured: readonly string[]): IngestAppRecord[] {
  const byName = new Map(records.map((r) => [r.name, r]));
  const wanted = new Map(configured.map((id) => [appNameOf(id), id]));
  const out: IngestAppRecord[] = [];
  for (const [name, resourceId] of wanted) {
    const r = byName.get(name);
    if (!r) out.push({ name, resourceId, hubs: [], state: 'active' });
    else if (r.state !== 'active' || r.resourceId !== resourceId) out.push({ ...r, resourceId, state: 'active' });
  }
  for (const r of records) if (!wanted.has(r.name) && r.state !== 'draining') out.push({ ...r, state: 'draining' });
  return out;
}

const MAX_ATTEMPTS = 50;

export interface PoolDeps {
  settings: FleetSettings;
  registry: TenantRegistry;
  logger?: Logger;
}

/** Brings the registry's app records in line with MDR_INGEST_APPS and returns them (sorted by name). */
export async function syncPoolRecords(deps: PoolDeps): Promise<IngestAppRecord[]> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const records = await deps.registry.listIngestApps();
    const changes = poolRecordChanges(records, deps.settings.fleet.ingestApps);
    if (changes.length === 0) return records.sort((a, b) => a.name.localeCompare(b.name));
    try {
      for (const c of changes) {
        await deps.registry.putIngestApp(c);
        (deps.logger ?? silentLogger).info('fleet.app_record', { app: c.name, state: c.state, hubs: c.hubs.length });
      }
    } catch (e) {
      if (!isConflict(e)) throw e;
      await conflictBackoff(attempt);
    }
  }
  throw new ConnectorError('transient', 'could not bring the ingest app records in line with MDR_INGEST_APPS (contention); retry');
}

export type IngestDecision =
  | { kind: 'already'; app: IngestAppRecord }
  | { kind: 'use'; app: IngestAppRecord }
  | { kind: 'full'; message: string }
  | { kind: 'none' };

export function capacityMessage(apps: readonly IngestAppRecord[], maxHubs: number): string {
  const active = apps.filter((a) => a.state === 'active');
  const used = active.reduce((s, a) => s + a.hubs.length, 0);
  return (
    `Every ingest app is full: ${active.length} active app(s) × ${maxHubs} hubs (MDR_INGEST_APP_MAX_HUBS), ${used} hubs assigned. ` +
    `Add ingest apps: deploy infra/main.bicep again with ingestAppCount=${active.length + 1} or more (docs/fleet.md#adding-capacity), then retry.`
  );
}

/**
 * Pure choice of the ingest app for a tenant's hub in `region`: the app already holding it; else an active app
 * holding another hub of the tenant, if it has room (one tenant's onboarding then rewrites one app); else, in name
 * order, the first active app with room for all `want` hubs the tenant needs, then the first with room for one;
 * else 'full'. 'none' when no ingest app is configured at all.
 */
export function chooseIngestApp(apps: readonly IngestAppRecord[], tenantId: string, region: string, maxHubs: number, want = 1): IngestDecision {
  const key = hubKey(tenantId, region);
  const sorted = [...apps].sort((a, b) => a.name.localeCompare(b.name));
  const holder = sorted.find((a) => a.hubs.includes(key));
  if (holder) return { kind: 'already', app: holder };
  if (sorted.length === 0) return { kind: 'none' };
  const active = sorted.filter((a) => a.state === 'active');
  const free = (a: IngestAppRecord) => maxHubs - a.hubs.length;
  const pick =
    active.find((a) => free(a) > 0 && a.hubs.some((h) => parseHubKey(h).tenantId === tenantId)) ??
    active.find((a) => free(a) >= want) ??
    active.find((a) => free(a) > 0);
  if (!pick) return { kind: 'full', message: capacityMessage(sorted, maxHubs) };
  return { kind: 'use', app: { ...pick, hubs: [...pick.hubs, key] } };
}

/**
 * Takes a slot for the hub in an ingest app (read-modify-write by etag; a lost race re-reads and chooses again).
 * Returns the app holding it, or undefined when no ingest app is configured. Throws 'capacity' when all are full.
 */
export async function acquireIngestSlot(deps: PoolDeps, tenantId: string, region: string, want = 1): Promise<{ app: IngestAppRecord; taken: boolean } | undefined> {
  const log = (deps.logger ?? silentLogger).child({ tenantId, region });
  let apps = await syncPoolRecords(deps);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const decision = chooseIngestApp(apps, tenantId, region, deps.settings.fleet.maxHubsPerApp, want);
    if (decision.kind === 'none') return undefined;
    if (decision.kind === 'full') {
      log.error('fleet.full', { apps: apps.length, maxHubsPerApp: deps.settings.fleet.maxHubsPerApp });
      throw new ConnectorError('capacity', decision.message);
    }
    if (decision.kind === 'already') return { app: decision.app, taken: false };
    try {
      const app = await deps.registry.putIngestApp(decision.app);
      log.info('fleet.assigned', { app: app.name, hubs: app.hubs.length });
      return { app, taken: true };
    } catch (e) {
      if (!isConflict(e)) throw e;
      await conflictBackoff(attempt);
      apps = await deps.registry.listIngestApps();
    }
  }
  throw new ConnectorError('transient', `Could not take an ingest app slot for ${hubKey(tenantId, region)} after ${MAX_ATTEMPTS} attempts (heavy contention); retry the request.`);
}

/** Removes the hub from `app` (or from every app holding it). Returns the names of the apps it was removed from. */
export async function releaseIngestSlot(deps: Pick<PoolDeps, 'registry'>, tenantId: string, region: string, app?: string): Promise<string[]> {
  const key = hubKey(tenantId, region);
  const released: string[] = [];
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const holders = (await deps.registry.listIngestApps()).filter((a) => a.hubs.includes(key) && (app === undefined || a.name === app));
    if (holders.length === 0) return released;
    try {
      for (const h of holders) {
        await deps.registry.putIngestApp({ ...h, hubs: h.hubs.filter((k) => k !== key) });
        released.push(h.name);
      }
    } catch (e) {
      if (!isConflict(e)) throw e;
      await conflictBackoff(attempt);
    }
  }
  throw new ConnectorError('transient', `could not release the ingest slot of ${key} (contention)`);
}

/** Adds the hub to a given app (a rebalance target), refusing when that app has no room. */
export async function addToIngestApp(deps: PoolDeps, tenantId: string, region: string, appName: string): Promise<IngestAppRecord> {
  const key = hubKey(tenantId, region);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const app = (await deps.registry.listIngestApps()).find((a) => a.name === appName);
    if (!app) throw new ConnectorError('not-found', `ingest app ${appName} is not in the registry (is it in MDR_INGEST_APPS?)`);
    if (app.hubs.includes(key)) return app;
    if (app.state !== 'active') throw new ConnectorError('validation', `ingest app ${appName} is draining: it takes no new hubs`);
    if (app.hubs.length >= deps.settings.fleet.maxHubsPerApp) throw new ConnectorError('capacity', `ingest app ${appName} is full (${app.hubs.length} of ${deps.settings.fleet.maxHubsPerApp} hubs)`);
    try {
      return await deps.registry.putIngestApp({ ...app, hubs: [...app.hubs, key] });
    } catch (e) {
      if (!isConflict(e)) throw e;
      await conflictBackoff(attempt);
    }
  }
  throw new ConnectorError('transient', `could not add ${key} to ${appName} (contention)`);
}

/** Ready hubs that no ingest app holds (capacity ran out when they were made, or they predate the fleet). */
export function unassignedHubs(apps: readonly IngestAppRecord[], hubs: readonly HubAssignment[]): HubAssignment[] {
  const held = new Set(apps.flatMap((a) => a.hubs));
  return hubs.filter((h) => h.state === 'ready' && !held.has(hubKey(h.tenantId, h.region)));
}

/**
 * Gives every unassigned ready hub an ingest app, as far as there is room (a tenant's hubs go together). Returns
 * the apps that took hubs and the hubs still without one (all apps full).
 */
export async function adoptUnassignedHubs(deps: PoolDeps, hubs: readonly HubAssignment[]): Promise<{ apps: string[]; left: HubAssignment[] }> {
  const apps = new Set<string>();
  const left: HubAssignment[] = [];
  const pending = unassignedHubs(await deps.registry.listIngestApps(), hubs);
  const perTenant = new Map<string, number>();
  for (const h of pending) perTenant.set(h.tenantId, (perTenant.get(h.tenantId) ?? 0) + 1);
  for (const h of pending) {
    try {
      const r = await acquireIngestSlot(deps, h.tenantId, h.region, perTenant.get(h.tenantId) ?? 1);
      if (!r) return { apps: [...apps], left: pending };
      apps.add(r.app.name);
    } catch (e) {
      if (!(e instanceof ConnectorError && e.kind === 'capacity')) throw e;
      left.push(h);
    }
  }
  return { apps: [...apps], left };
}

/**
 * Before anything is created for a tenant: refuses with 'capacity' when the fleet cannot take the hubs it still
 * needs in `regions` (so a full fleet answers at once, not after a namespace was created or a 202 was given).
 */
export async function assertIngestRoom(deps: PoolDeps, tenantId: string, regions: readonly string[]): Promise<void> {
  if (deps.settings.fleet.ingestApps.length === 0) return;
  const apps = await syncPoolRecords(deps);
  const held = new Set(apps.flatMap((a) => a.hubs));
  const needed = regions.filter((r) => !held.has(hubKey(tenantId, r))).length;
  const max = deps.settings.fleet.maxHubsPerApp;
  const free = apps.filter((a) => a.state === 'active').reduce((s, a) => s + Math.max(0, max - a.hubs.length), 0);
  if (needed > free) throw new ConnectorError('capacity', capacityMessage(apps, max));
}
