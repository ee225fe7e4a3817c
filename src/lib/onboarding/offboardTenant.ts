import type { AzureClients } from '../azure/clientFactory.js';
import type { Settings } from '../config/settings.js';
import { ConnectorError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { TenantRegistry } from '../registry/tenantRegistry.js';
import type { CoverageEntry, TenantRecord } from '../registry/types.js';
import type { TeardownResult } from '../reconcile/teardown.js';
import { syncIngestAppSettings, type AppSettingsSyncResult } from './appSettingsSync.js';
import { releaseIngestSlot } from '../fleet/ingestPool.js';
import { releaseNamespaceSlot } from './namespacePool.js';
import { onboardingTemplate } from './onboardingTemplate.js';
import { deleteTenantHub } from './provisionTenantHub.js';

/** Removes our exports in every subscription of the tenant (reconcile/teardown.ts provides the real one). */
export type TeardownFn = (args: { tenant: TenantRecord; clients: AzureClients; settings: Settings; ledger: readonly CoverageEntry[]; dryRun: boolean; logger?: Logger }) => Promise<TeardownResult>;

export interface OffboardDeps {
  settings: Settings;
  registry: TenantRegistry;
  clients: AzureClients;
  logger?: Logger;
  teardown?: TeardownFn;
  now?: () => Date;
}

export interface OffboardResult {
  tenantId: string;
  dryRun: boolean;
  status: TenantRecord['status'];
  /** What was (dry run: would be) removed: customer-side exports, then our hubs in the provider subscription. */
  removed: { kind: string; resourceId: string; name: string }[];
  failed: { resourceId: string; reason: string }[];
  /**
   * A read after removal found nothing of ours left in the customer's subscriptions and no hub of the tenant in the
   * registry (false for a dry run). Only then does the tenant become 'offboarded'; otherwise `remaining` says what
   * is left and a repeated DELETE tries again.
   */
  verified: boolean;
  remaining: { kind: string; resourceId: string; name: string }[];
  /** How the customer removes the delegation and the policies that would re-create it. */
  delegationRemoval: { note: string; commands: string[] };
  appSettings: AppSettingsSyncResult | undefined;
}

async function defaultTeardown(args: Parameters<TeardownFn>[0]): Promise<TeardownResult> {
  const { teardownTenantExports } = await import('../reconcile/teardown.js');
  return teardownTenantExports(args);
}

/**
 * `DELETE /api/tenants/{id}`: status 'offboarding' first (the fence that stops every reconcile write), then our
 * diagnostic settings, data-export rules and security automations in every subscription of the tenant (only what is
 * provably ours), verified by a second read and removed again while anything reappears, then the tenant's hubs and
 * slots, then status offboarded. Failures are reported, not hidden; the tenant stays 'offboarding' until a retry
 * removes everything.
 */
export async function offboardTenant(deps: OffboardDeps, tenantId: string, opts: { dryRun?: boolean } = {}): Promise<OffboardResult> {
  const dryRun = opts.dryRun ?? false;
  const log = (deps.logger ?? silentLogger).child({ tenantId, offboard: true, dryRun });
  const now = deps.now ?? (() => new Date());
  let tenant = await deps.registry.getTenant(tenantId);
  if (!tenant) throw new ConnectorError('not-found', `Tenant ${tenantId} is not registered`);

  if (!dryRun && tenant.status !== 'offboarding' && tenant.status !== 'offboarded') {
    tenant = await deps.registry.putTenant({ ...tenant, status: 'offboarding', updatedAt: now().toISOString() });
  }

  // From here on no reconcile run writes for the tenant (reconcileTenant's fence): what teardown removes stays removed.
  const teardown = deps.teardown ?? defaultTeardown;
  const ledger = await deps.registry.listCoverage(tenantId);
  const t = await teardown({ tenant, clients: deps.clients, settings: deps.settings, ledger, dryRun, logger: log });
  const removed: OffboardResult['removed'] = t.removed.map((r) => ({ kind: r.target, resourceId: r.resourceId, name: r.name }));
  const remaining: OffboardResult['remaining'] = t.remaining.map((r) => ({ kind: r.target, resourceId: r.resourceId, name: r.name }));
  const failed = [...t.failed];

  const ingestApps = new Set<string>();
  for (const hub of await deps.registry.listHubs(tenantId)) {
    const hubId = `${hub.namespaceId}/eventhubs/${hub.hub}`;
    if (!dryRun) {
      try {
        await deleteTenantHub(deps, hub);
        await deps.registry.deleteHub(tenantId, hub.region);
        await releaseNamespaceSlot(deps, tenantId, hub.region, hub.namespace);
        // After the row is gone, so no settings sync can hand the hub to an app again.
        for (const app of await releaseIngestSlot(deps, tenantId, hub.region)) ingestApps.add(app);
      } catch (e) {
        failed.push({ resourceId: hubId, reason: e instanceof Error ? e.message : String(e) });
        continue;
      }
    }
    removed.push({ kind: 'event-hub', resourceId: hubId, name: hub.hub });
  }

  let appSettings: AppSettingsSyncResult | undefined;
  let verified = false;
  if (!dryRun) {
    // A hub provisioned lazily by a run that passed the fence just before the status changed shows up here.
    for (const hub of await deps.registry.listHubs(tenantId)) remaining.push({ kind: 'event-hub', resourceId: `${hub.namespaceId}/eventhubs/${hub.hub}`, name: hub.hub });
    verified = t.verified && remaining.length === 0;
    appSettings = await syncIngestAppSettings({ ...deps, logger: log }, { apps: [...ingestApps] });
    if (failed.length === 0 && verified) tenant = await deps.registry.putTenant({ ...(await deps.registry.getTenant(tenantId) ?? tenant), status: 'offboarded', updatedAt: now().toISOString() });
  }
  log.info('offboard.outcome', { removed: removed.length, failed: failed.length, verified, remaining: remaining.length, status: tenant.status });

  const material = onboardingTemplate(deps.settings, tenant.managementGroupId ?? tenantId);
  return {
    tenantId,
    dryRun,
    status: tenant.status,
    removed,
    failed,
    verified,
    remaining,
    delegationRemoval: {
      note:
        'The customer removes the delegation: first the two policy assignments (else DeployIfNotExists re-creates it), then the Lighthouse registration assignment in each subscription. ' +
        'The provider may also remove the registration assignment itself (Managed Services Registration assignment Delete Role) from the Azure portal "My customers" view.',
      commands: material.removal,
    },
    appSettings,
  };
}
