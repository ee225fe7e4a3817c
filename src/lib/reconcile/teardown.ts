import type { AzureClients } from '../azure/clientFactory.js';
import { classifyArmError, isNotFound } from '../azure/classifyError.js';
import type { Settings } from '../config/settings.js';
import { silentLogger, type Logger } from '../log.js';
import { coverageKey, type CoverageEntry, type TargetId, type TenantRecord } from '../registry/types.js';
import { discover } from './discovery.js';
import { createScopedLimiter } from './limiter.js';
import { ownershipFor } from './ownership.js';
import type { TargetContext, TargetItem } from './target.js';
import { targetFor } from './targetRegistry.js';
import { targetItemsFor } from './targetItems.js';

export interface TeardownResult {
  dryRun: boolean;
  removed: { target: TargetId; resourceId: string; name: string }[];
  failed: { resourceId: string; reason: string }[];
  /**
   * The verification read after removal found nothing of ours left (dry run: not checked, false). Removal is repeated
   * while objects of ours reappear (a reconcile run that read before the offboarding and wrote after it), at most
   * TEARDOWN_PASSES times.
   */
  verified: boolean;
  /** What the last verification read still found (when not verified). */
  remaining: { target: TargetId; resourceId: string; name: string }[];
  /** Removal passes made (1 = the first removal was verified clean). */
  passes: number;
}

/** Removal passes before offboarding gives up and reports what remains (each followed by a verification read). */
export const TEARDOWN_PASSES = 4;

/**
 * Offboarding: desired state = nothing. Deletes only objects that are provably ours (ownership.ts: our prefix AND
 * the ledger's record of our write or our pool as destination), on every target of every subscription of the tenant
 * (home tenant only), whatever the tenant's options say (an option may have been turned off since). Then reads
 * everything again, and removes again what it finds, until a read finds nothing of ours.
 */
export async function teardownTenantExports(args: {
  tenant: TenantRecord;
  clients: AzureClients;
  settings: Pick<Settings, 'prefix' | 'reconcile' | 'provider' | 'pool'>;
  /** The tenant's coverage ledger: its provenance proves objects ours even when they were re-pointed. */
  ledger?: readonly CoverageEntry[];
  dryRun?: boolean;
  logger?: Logger;
}): Promise<TeardownResult> {
  const { tenant, clients, settings } = args;
  const dryRun = args.dryRun ?? false;
  const log = (args.logger ?? silentLogger).child({ tenantId: tenant.tenantId, teardown: true, dryRun });
  const out: TeardownResult = { dryRun, removed: [], failed: [], verified: false, remaining: [], passes: 0 };
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
  const written = new Map<string, string[]>();
  for (const e of args.ledger ?? []) if (e.ownedNames?.length) written.set(coverageKey(e), e.ownedNames);
  const ctx: TargetContext = { clients, prefix: settings.prefix, ownership: ownershipFor(settings) };
  const limiter = createScopedLimiter(settings.reconcile.concurrency, settings.reconcile.perSubscriptionConcurrency);

  type Found = { target: TargetId; resourceId: string; name: string };
  /** One pass over every item: list ours, and (unless `readOnly`) delete it. */
  const pass = async (readOnly: boolean): Promise<{ found: Found[]; failed: TeardownResult['failed'] }> => {
    const found: Found[] = [];
    const failed: TeardownResult['failed'] = [];
    await Promise.all(
      items.map((item: TargetItem) =>
        limiter.run(item.subscriptionId, async () => {
          const t = targetFor(item.target);
          let names: string[] | undefined;
          try {
            names = await t.owned(ctx, item, written.get(coverageKey(item)) ?? []);
          } catch (e) {
            failed.push({ resourceId: item.resourceId, reason: classifyArmError(e, `list ${item.target}`).message });
            return;
          }
          for (const name of names ?? []) {
            found.push({ target: item.target, resourceId: item.resourceId, name });
            if (readOnly) continue;
            try {
              await t.remove(ctx, item, name);
              out.removed.push({ target: item.target, resourceId: item.resourceId, name });
            } catch (e) {
              if (isNotFound(e)) continue;
              failed.push({ resourceId: item.resourceId, reason: classifyArmError(e, `delete ${name}`).message });
            }
          }
        }),
      ),
    );
    return { found, failed };
  };

  if (dryRun) {
    const r = await pass(true);
    out.removed = r.found;
    out.failed = r.failed;
  } else {
    // Remove, then read again: what is found (re-written meanwhile by a run that read before the offboarding, or a
    // delete that failed) is removed in another pass, until a read finds nothing of ours or the passes run out.
    for (;;) {
      const removal = await pass(false);
      out.passes++;
      const check = await pass(true);
      out.remaining = check.found;
      out.failed = [...removal.failed, ...check.failed];
      if (check.found.length === 0 && check.failed.length === 0) {
        out.verified = true;
        out.failed = [];
        break;
      }
      if (out.passes >= TEARDOWN_PASSES) break;
      log.warn('teardown.reappeared', { pass: out.passes, found: check.found.length, failed: out.failed.length });
    }
  }
  out.removed.sort((a, b) => a.resourceId.localeCompare(b.resourceId) || a.name.localeCompare(b.name));
  log.info('teardown.outcome', { removed: out.removed.length, failed: out.failed.length, verified: out.verified, passes: out.passes });
  return out;
}
