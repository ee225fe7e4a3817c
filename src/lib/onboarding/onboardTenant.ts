import type { AzureClients } from '../azure/clientFactory.js';
import type { Settings } from '../config/settings.js';
import { isConflict } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { TenantRegistry } from '../registry/tenantRegistry.js';
import { offboardingBegan, tenantOptionsSchema, type HubAssignment, type TenantRecord } from '../registry/types.js';
import { syncIngestAppSettings, type AppSettingsSyncResult } from './appSettingsSync.js';
import { acquireIngestSlot, assertIngestRoom, releaseIngestSlot } from '../fleet/ingestPool.js';
import { acquireNamespaceSlot, releaseNamespaceSlot } from './namespacePool.js';
import { onboardingTemplate, type OnboardingMaterial } from './onboardingTemplate.js';
import { provisionTenantHub } from './provisionTenantHub.js';
import { refreshKnownSubscriptions } from '../reconcile/knownSubscriptions.js';
import type { TenantRequest } from './tenantRequest.js';

export interface OnboardingDeps {
  settings: Settings;
  registry: TenantRegistry;
  clients: AzureClients;
  logger?: Logger;
  now?: () => Date;
  /** LRO poll interval for namespace creation (tests shorten it). */
  lroPollMs?: number;
}

export interface OnboardResult {
  tenant: TenantRecord;
  hubs: HubAssignment[];
  onboarding: OnboardingMaterial;
  /** True when anything (registry or ARM) was written. */
  changed: boolean;
  /** This call created the tenant record (of two racing first PUTs, exactly one). */
  created: boolean;
  appSettings: AppSettingsSyncResult | undefined;
}

/** Deep equality independent of key order (records read back from Table storage come in schema order). */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, canonical(x)]));
  return v;
}
const same = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

export interface EnsuredHub {
  hub: HubAssignment;
  changed: boolean;
  /** The ingest app reading the hub (undefined when no ingest app is configured). */
  ingestApp: string | undefined;
  /** The hub was just added to that app: its settings must be rewritten. */
  ingestChanged: boolean;
}

/**
 * Ensures the tenant's Event Hub in `region`: a slot in an ingest app first (so a full fleet refuses before anything
 * is created), a slot in the namespace pool, the hub objects and the registry row. Used by onboarding and by the
 * reconciler's lazy regional provisioning. Does not sync app settings: callers do, once, for `ingestApp` only.
 * `hubsWanted` is how many hubs the tenant needs in all, so they can land in one ingest app.
 */
export async function ensureTenantHub(deps: OnboardingDeps, tenantId: string, region: string, hubsWanted = 1): Promise<EnsuredHub> {
  const existing = (await deps.registry.listHubs(tenantId)).find((h) => h.region === region);
  const ingest = await acquireIngestSlot(deps, tenantId, region, hubsWanted);
  let namespace;
  let grew;
  let outcome;
  try {
    ({ namespace, grew } = await acquireNamespaceSlot(deps, tenantId, region));
    try {
      outcome = await provisionTenantHub(deps, tenantId, namespace, deps.now);
    } catch (e) {
      // A hub that never got created must not keep a slot (the next attempt takes one again).
      if (!existing) await releaseNamespaceSlot(deps, tenantId, region, namespace.namespace).catch(() => undefined);
      throw e;
    }
  } catch (e) {
    if (!existing && ingest?.taken) await releaseIngestSlot(deps, tenantId, region, ingest.app.name).catch(() => undefined);
    throw e;
  }
  const hub = existing && existing.state === 'ready' && existing.namespace === namespace.namespace ? { ...outcome.hub, createdAt: existing.createdAt } : outcome.hub;
  const rowChanged = !existing || !same(existing, hub);
  if (rowChanged) await deps.registry.putHub(hub);
  const ingestChanged = ingest?.taken === true || rowChanged;
  return { hub, changed: grew || rowChanged || outcome.writes.length > 0 || ingestChanged, ingestApp: ingest?.app.name, ingestChanged };
}

/**
 * `PUT /api/tenants/{id}`: create or update the tenant record, provision one hub per requested region (default: the
 * pool regions), then update the app's ingest settings. Idempotent: a repeated call with the same body reads but
 * writes nothing, in the registry or in ARM.
 */
export async function onboardTenant(deps: OnboardingDeps, tenantId: string, request: TenantRequest): Promise<OnboardResult> {
  const log = (deps.logger ?? silentLogger).child({ tenantId });
  const now = deps.now ?? (() => new Date());
  let tenant: TenantRecord | undefined;
  let changed = false;
  let created = false;

  // 0. a full ingest fleet refuses before anything is written (the same check the PUT makes before a 202)
  await assertIngestRoom(deps, tenantId, request.regions ?? (await deps.registry.getTenant(tenantId))?.regions ?? deps.settings.pool.regions);

  // 1. tenant record: create, or replace when anything differs (etag; a lost race re-reads)
  for (let attempt = 0; ; attempt++) {
    const current = await deps.registry.getTenant(tenantId);
    const desired: TenantRecord = {
      tenantId,
      displayName: request.displayName,
      managementGroupId: request.managementGroupId ?? current?.managementGroupId,
      regions: request.regions ?? current?.regions ?? deps.settings.pool.regions,
      entraWorkspaceIds: request.entraWorkspaceIds ?? current?.entraWorkspaceIds ?? [],
      options: tenantOptionsSchema.parse({ ...(current?.options ?? {}), ...(request.options ?? {}) }),
      status: current && !offboardingBegan(current.status) ? current.status : 'onboarding',
      createdAt: current?.createdAt ?? now().toISOString(),
      updatedAt: current?.updatedAt ?? now().toISOString(),
      lastReconcile: current?.lastReconcile,
      etag: current?.etag,
    };
    if (desired.managementGroupId === undefined) delete desired.managementGroupId;
    if (desired.lastReconcile === undefined) delete desired.lastReconcile;
    const { etag: _a, updatedAt: _b, ...cmpDesired } = desired;
    const cmpCurrent = current && (({ etag: _c, updatedAt: _d, ...rest }) => rest)(current);
    if (current && same(cmpCurrent, cmpDesired)) {
      tenant = current;
      break;
    }
    try {
      tenant = await deps.registry.putTenant({ ...desired, updatedAt: now().toISOString() });
      changed = true;
      created = current === undefined;
      log.info(current ? 'tenant.updated' : 'tenant.created', { status: tenant.status });
      break;
    } catch (e) {
      if (!isConflict(e) || attempt >= 5) throw e;
    }
  }

  // 2. hubs for the tenant's regions (sequential: one namespace LRO at a time per onboarding)
  const hubs: HubAssignment[] = [];
  const ingestApps = new Set<string>();
  for (const region of tenant.regions) {
    const r = await ensureTenantHub(deps, tenantId, region, tenant.regions.length);
    hubs.push(r.hub);
    changed ||= r.changed;
    if (r.ingestChanged && r.ingestApp) ingestApps.add(r.ingestApp);
  }
  // Hubs of regions provisioned lazily earlier stay; report them too.
  for (const h of await deps.registry.listHubs(tenantId)) if (!hubs.some((x) => x.region === h.region)) hubs.push(h);

  // 3. the tenant's subscriptions as far as the delegation shows them yet, so ingest can check records from the
  // first one on (reconcile refreshes the record on every run). Best effort: the delegation often comes later.
  try {
    const found = await refreshKnownSubscriptions(deps.clients, deps.registry, tenant, now().toISOString());
    log.info('tenant.subscriptionsDiscovered', { subscriptions: found });
  } catch (e) {
    log.warn('tenant.subscriptionsNotDiscovered', { error: e instanceof Error ? e.message : String(e) });
  }

  // 4. active once every requested hub is ready
  if (tenant.status !== 'active') {
    for (let attempt = 0; ; attempt++) {
      try {
        tenant = await deps.registry.putTenant({ ...tenant, status: 'active', updatedAt: now().toISOString() });
        changed = true;
        break;
      } catch (e) {
        if (!isConflict(e) || attempt >= 5) throw e;
        const fresh = await deps.registry.getTenant(tenantId);
        if (!fresh) throw e;
        tenant = fresh;
        if (tenant.status === 'active') break;
      }
    }
  }

  // 5. ingest triggers follow the registry: only the ingest app(s) that took this tenant's hubs are rewritten
  const appSettings = changed ? await syncIngestAppSettings({ ...deps, logger: log }, { apps: [...ingestApps] }) : undefined;
  return { tenant, hubs, onboarding: onboardingTemplate(deps.settings, tenant.managementGroupId ?? tenantId, tenant.entraWorkspaceIds), changed, created, appSettings };
}
