import type { AzureClients } from '../azure/clientFactory.js';
import type { Settings } from '../config/settings.js';
import { ConnectorError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { TenantRegistry } from '../registry/tenantRegistry.js';
import type { TenantRecord } from '../registry/types.js';
import type { TeardownResult } from '../reconcile/teardown.js';
import { syncIngestAppSettings, type AppSettingsSyncResult } from './appSettingsSync.js';
import { releaseIngestSlot } from '../fleet/ingestPool.js';
import { releaseNamespaceSlot } from './namespacePool.js';
import { onboardingTemplate } from './onboardingTemplate.js';
import { deleteTenantHub } from './provisionTenantHub.js';

/** Removes our exports in every delegated subscription (reconcile/teardown.ts provides the real one). */
export type TeardownFn = (args: { tenant: TenantRecord; clients: AzureClients; settings: Settings; dryRun: boolean; logger?: Logger }) => Promise<TeardownResult>;

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
  /** How the customer removes the delegation and the policies that would re-create it. */
  delegationRemoval: { note: string; commands: string[] };
  appSettings: AppSettingsSyncResult | undefined;
}

async function defaultTeardown(args: Parameters<TeardownFn>[0]): Promise<TeardownResult> {
  const { teardownTenantExports } = await import('../reconcile/teardown.js');
  return teardownTenantExports(args);
}

/**
 * `DELETE /api/tenants/{id}`: our diagnostic settings, data-export rules and security automations in every delegated
 * subscription (names carrying our prefix only), then the tenant's hubs and slots, then status offboarded. Failures
 * are reported, not hidden; the tenant stays 'offboarding' until a retry removes everything.
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

  const teardown = deps.teardown ?? defaultTeardown;
  const t = await teardown({ tenant, clients: deps.clients, settings: deps.settings, dryRun, logger: log });
  const removed: OffboardResult['removed'] = t.removed.map((r) => ({ kind: r.target, resourceId: r.resourceId, name: r.name }));
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
  if (!dryRun) {
    appSettings = await syncIngestAppSettings({ ...deps, logger: log }, { apps: [...ingestApps] });
    if (failed.length === 0) tenant = await deps.registry.putTenant({ ...tenant, status: 'offboarded', updatedAt: now().toISOString() });
  }
  log.info('offboard.outcome', { removed: removed.length, failed: failed.length, status: tenant.status });

  const material = onboardingTemplate(deps.settings, tenant.managementGroupId ?? tenantId);
  return {
    tenantId,
    dryRun,
    status: tenant.status,
    removed,
    failed,
    delegationRemoval: {
      note:
        'The customer removes the delegation: first the two policy assignments (else DeployIfNotExists re-creates it), then the Lighthouse registration assignment in each subscription. ' +
        'The provider may also remove the registration assignment itself (Managed Services Registration assignment Delete Role) from the Azure portal "My customers" view.',
      commands: material.removal,
    },
    appSettings,
  };
}
