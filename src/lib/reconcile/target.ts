import type { AzureClients } from '../azure/clientFactory.js';
import type { HubAssignment, TargetId } from '../registry/types.js';
import type { Ownership } from './ownership.js';
import type { Change } from './plan.js';

/** One export target: a subscription's activity log, a storage service, a vault, a workspace, an automation RG. */
export interface TargetItem {
  target: TargetId;
  resourceId: string;
  subscriptionId: string;
  /** Region of the resource ('global' for the activity log). */
  region: string;
  /** Region whose hub receives the data; undefined = the tenant's primary hub (non-regional sources). */
  hubRegion: string | undefined;
}

export interface TargetContext {
  clients: AzureClients;
  prefix: string;
  /** What proves an object ours (ownership.ts); `written` is empty here, each item adds its ledger's names. */
  ownership: Ownership;
}

/** What a read showed about a target beyond our objects, for its ledger entry (coverage). */
export interface TargetFacts {
  reasonCode?: string;
  entraTables?: { exported: string[]; missing: string[] };
}

/**
 * A reconcile target module (style.md): `desired` and `diff` are pure, `observe` only reads (404 → undefined),
 * `apply` is the only writer. `owned`/`remove` serve teardown. Ownership is by provenance (ownership.ts).
 */
export interface ReconcileTarget<D, A> {
  id: TargetId;
  /**
   * Resource providers whose activity-log events can change this target (changeFeed.ts). Set only when every
   * change to it shows there; targets without it are read on every run.
   */
  feedProviders?: readonly string[];
  desired(item: TargetItem, hub: HubAssignment, prefix: string): D;
  observe(ctx: TargetContext, item: TargetItem): Promise<A | undefined>;
  /**
   * Pure: the desired state once the read is known, when it depends on what the target holds (the Entra export takes
   * only the tables the workspace has), and what the read showed for the ledger. Absent: `desired` stands as it is.
   */
  refine?(desired: D, actual: A): { desired: D; facts?: TargetFacts };
  diff(desired: D, actual: A, own: Ownership): Change[];
  apply(ctx: TargetContext, desired: D, changes: readonly Change[]): Promise<void>;
  /** Qualified names of the objects on the target that are provably ours (teardown, ledger provenance). */
  owned(actual: A, own: Ownership): string[];
  remove(ctx: TargetContext, item: TargetItem, name: string): Promise<void>;
}
