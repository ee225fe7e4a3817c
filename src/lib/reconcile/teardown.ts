import type { AzureClients } from '../azure/clientFactory.js';
import { classifyArmError, isNotFound } from '../azure/classifyError.js';
import type { Settings } from '../config/settings.js';
import { silentLogger, type Logger } from '../log.js';
import type { TargetId, TenantRecord } from '../registry/types.js';
import { discover } from './discovery.js';
import { createScopedLimiter } from './limiter.js';
import type { TargetContext, TargetItem } from './target.js';
import { targetFor } from './targetRegistry.js';
import { targetItemsFor } from './targetItems.js';

export interface TeardownResult {
  dryRun: boolean;
  removed: { target: TargetId; resourceId: string; name: string }[];
  failed: { resourceId: string; reason: string }[];
}

/**
 * Offboarding: desired state = nothing. Deletes only objects named with our prefix, on every target of every
 * delegated subscription, whatever the tenant's options say (an option may have been turned off since).
 */
export async function teardownTenantExports(args: {
  tenant: TenantRecord;
  clients: AzureClients;
  settings: Pick<Settings, 'prefix' | 'reconcile' | 'provider'>;
  dryRun?: boolean;
  logger?: Logger;
}): Promise<TeardownResult> {
  const { tenant, clients, settings } = args;
  const dryRun = args.dryRun ?? false;
  const log = (args.logger ?? silentLogger).child({ tenantId: tenant.tenantId, teardown: true, dryRun });
  const out: TeardownResult = { dryRun, removed: [], failed: [] };
  const everything: TenantRecord = {
    ...tenant,
    options: { activityLog: true, storage: true, keyVault: true, entraDataExport: true, defenderAlerts: true, storageServices: ['blob', 'queue', 'table', 'file'] },
    entraWorkspaceIds: [], // every delegated workspace: a rule of ours may sit on one no longer listed
  };
  const d = await discover(clients, tenant, settings.provider.automationResourceGroup);
  const { items } = targetItemsFor(everything, d, settings.provider.automationResourceGroup);
  // Subscriptions without the automation RG may still hold an automation of ours elsewhere: list them too.
  for (const s of d.subscriptions) {
    if (!items.some((i) => i.target === 'defender-export' && i.subscriptionId === s.subscriptionId))
      items.push({ target: 'defender-export', resourceId: `/subscriptions/${s.subscriptionId}/resourceGroups/${settings.provider.automationResourceGroup}`, subscriptionId: s.subscriptionId, region: 'global', hubRegion: undefined });
  }
  const ctx: TargetContext = { clients, prefix: settings.prefix };
  const limiter = createScopedLimiter(settings.reconcile.concurrency, settings.reconcile.perSubscriptionConcurrency);
  await Promise.all(
    items.map((item: TargetItem) =>
      limiter.run(item.subscriptionId, async () => {
        const t = targetFor(item.target);
        let names: string[] | undefined;
        try {
          names = await t.owned(ctx, item);
        } catch (e) {
          out.failed.push({ resourceId: item.resourceId, reason: classifyArmError(e, `list ${item.target}`).message });
          return;
        }
        for (const name of names ?? []) {
          try {
            if (!dryRun) await t.remove(ctx, item, name);
            out.removed.push({ target: item.target, resourceId: item.resourceId, name });
          } catch (e) {
            if (isNotFound(e)) continue;
            out.failed.push({ resourceId: item.resourceId, reason: classifyArmError(e, `delete ${name}`).message });
          }
        }
      }),
    ),
  );
  out.removed.sort((a, b) => a.resourceId.localeCompare(b.resourceId) || a.name.localeCompare(b.name));
  log.info('teardown.outcome', { removed: out.removed.length, failed: out.failed.length });
  return out;
}
