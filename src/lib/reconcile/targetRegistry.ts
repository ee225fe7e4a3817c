import type { HubAssignment, TargetId } from '../registry/types.js';
import { desiredKeyOf } from './changeFeed.js';
import type { Change } from './plan.js';
import type { ReconcileTarget, TargetContext, TargetFacts, TargetItem } from './target.js';
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
  /**
   * observe + diff; undefined when the resource is gone (404). `apply` writes exactly `changes`. `written` is the
   * ledger's provenance for the item (qualified names we wrote there). `ours` lists our objects as found, and as they
   * will be once `changes` are applied: the ledger's next provenance.
   */
  plan(ctx: TargetContext, item: TargetItem, hub: HubAssignment, written: readonly string[]): Promise<{ changes: Change[]; apply: () => Promise<void>; ours: { found: string[]; applied: string[] }; facts?: TargetFacts } | undefined>;
  /** Our objects on the target (teardown); undefined when the resource is gone. */
  owned(ctx: TargetContext, item: TargetItem, written: readonly string[]): Promise<string[] | undefined>;
  remove(ctx: TargetContext, item: TargetItem, name: string): Promise<void>;
}

/** The name under which owned() and the ledger know an object: `<rg>/<name>` when names are per resource group. */
export const qualifiedName = (c: Pick<Change, 'name' | 'scope'>): string => (c.scope ? `${c.scope}/${c.name}` : c.name);

/** Our objects once the changes are applied: those found, less the ones deleted, plus the ones written. */
export function oursAfter(found: readonly string[], changes: readonly Change[]): string[] {
  const deleted = new Set(changes.filter((c) => c.kind === 'delete').map((c) => qualifiedName(c).toLowerCase()));
  const written = changes.filter((c) => c.kind === 'create' || c.kind === 'update').map(qualifiedName);
  const out = new Map<string, string>();
  for (const n of [...found.filter((n) => !deleted.has(n.toLowerCase())), ...written]) out.set(n.toLowerCase(), n);
  return [...out.values()];
}

function bind<D, A>(t: ReconcileTarget<D, A>): BoundTarget {
  const own = (ctx: TargetContext, written: readonly string[]) => ({ ...ctx.ownership, written: new Set([...ctx.ownership.written, ...written.map((n) => n.toLowerCase())]) });
  return {
    id: t.id,
    feedProviders: t.feedProviders,
    desiredKey: (item, hub, prefix) => desiredKeyOf(t.desired(item, hub, prefix)),
    async plan(ctx, item, hub, written) {
      const actual = await t.observe(ctx, item);
      if (actual === undefined) return undefined;
      const refined = t.refine?.(t.desired(item, hub, ctx.prefix), actual);
      const desired = refined?.desired ?? t.desired(item, hub, ctx.prefix);
      const o = own(ctx, written);
      const changes = t.diff(desired, actual, o);
      const found = t.owned(actual, o);
      return { changes, apply: () => t.apply(ctx, desired, changes), ours: { found, applied: oursAfter(found, changes) }, ...(refined?.facts ? { facts: refined.facts } : {}) };
    },
    async owned(ctx, item, written) {
      const actual = await t.observe(ctx, item);
      return actual === undefined ? undefined : t.owned(actual, own(ctx, written));
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
