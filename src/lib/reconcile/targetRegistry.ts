import type { HubAssignment, TargetId } from '../registry/types.js';
import { desiredKeyOf } from './changeFeed.js';
import type { Change } from './plan.js';
import type { ReconcileTarget, TargetContext, TargetItem } from './target.js';
import { activityLogTarget } from './targets/activityLog.js';
import { defenderExportTarget } from './targets/defenderExport.js';
import { entraDataExportTarget } from './targets/entraDataExport.js';
import { keyVaultDiagnosticsTarget } from './targets/keyVaultDiagnostics.js';
import { storageDiagnosticsTarget } from './targets/storageDiagnostics.js';

/** A target with its desired/actual types closed over, so the runner can treat all targets alike. */
export interface BoundTarget {
  id: TargetId;
  feedProviders?: readonly string[];
  /** Fingerprint of the desired configuration: a ledger entry reconciled to another one cannot be trusted. */
  desiredKey(item: TargetItem, hub: HubAssignment, prefix: string): string;
  /** observe + diff; undefined when the resource is gone (404). `apply` writes exactly `changes`. */
  plan(ctx: TargetContext, item: TargetItem, hub: HubAssignment): Promise<{ changes: Change[]; apply: () => Promise<void> } | undefined>;
  /** Our objects on the target (teardown); undefined when the resource is gone. */
  owned(ctx: TargetContext, item: TargetItem): Promise<string[] | undefined>;
  remove(ctx: TargetContext, item: TargetItem, name: string): Promise<void>;
}

function bind<D, A>(t: ReconcileTarget<D, A>): BoundTarget {
  return {
    id: t.id,
    feedProviders: t.feedProviders,
    desiredKey: (item, hub, prefix) => desiredKeyOf(t.desired(item, hub, prefix)),
    async plan(ctx, item, hub) {
      const desired = t.desired(item, hub, ctx.prefix);
      const actual = await t.observe(ctx, item);
      if (actual === undefined) return undefined;
      const changes = t.diff(desired, actual, ctx.prefix);
      return { changes, apply: () => t.apply(ctx, desired, changes) };
    },
    async owned(ctx, item) {
      const actual = await t.observe(ctx, item);
      return actual === undefined ? undefined : t.owned(actual, ctx.prefix);
    },
    remove: (ctx, item, name) => t.remove(ctx, item, name),
  };
}

const TARGETS: Record<TargetId, BoundTarget> = {
  'activity-log': bind(activityLogTarget),
  'storage-diagnostics': bind(storageDiagnosticsTarget),
  'keyvault-diagnostics': bind(keyVaultDiagnosticsTarget),
  'entra-data-export': bind(entraDataExportTarget),
  'defender-export': bind(defenderExportTarget),
};

export const targetFor = (id: TargetId): BoundTarget => TARGETS[id];
