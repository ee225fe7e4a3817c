import type { CoverageState, TargetId } from '../registry/types.js';

/** What the reconciler will do (or did) for one export target. `none` = in sync; `blocked` = cannot act (see coverage). */
export type ActionKind = 'create' | 'update' | 'delete' | 'none' | 'blocked';

export interface PlannedAction {
  kind: ActionKind;
  target: TargetId;
  /** ARM id of what is exported (subscription, storage service, vault, workspace, automation RG). */
  resourceId: string;
  subscriptionId: string;
  region: string;
  /** Name of the setting/rule/automation concerned (ours, or the stale one being deleted). */
  name: string;
  reason: string;
  /** Coverage state once the action succeeded (or the blocking state). */
  coverage: CoverageState;
  detail?: string;
  /** Stable machine-readable reason (coverage `reasonCode`). */
  reasonCode?: string;
  /** Entra workspaces: the tables exported and skipped (coverage `entraTables`). */
  entraTables?: { exported: string[]; missing: string[] };
}

/** One change a target's diff asks for. An empty list means in sync. */
export interface Change {
  kind: 'create' | 'update' | 'delete' | 'blocked';
  name: string;
  reason: string;
  coverage: CoverageState;
  detail?: string;
  reasonCode?: string;
  /** Resource group of the object, when the list spans a subscription (Defender automations). */
  scope?: string;
}

/** Whether `name` is one of ours: everything we create is named `<prefix>-…`; anything else belongs to the customer. */
export function isOwnedName(name: string | undefined, prefix: string): boolean {
  return typeof name === 'string' && name.toLowerCase().startsWith(`${prefix.toLowerCase()}-`);
}

export const sameId = (a: string | undefined, b: string | undefined): boolean =>
  (a ?? '').replace(/^\/+/, '').replace(/\/+$/, '').toLowerCase() === (b ?? '').replace(/^\/+/, '').replace(/\/+$/, '').toLowerCase();

/** Order- and case-insensitive set equality of names (categories, tables). */
export function sameNameSet(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a.map((s) => s.toLowerCase()));
  const y = new Set(b.map((s) => s.toLowerCase()));
  return x.size === y.size && [...x].every((s) => y.has(s));
}

export const normalizeRegion = (r: string): string => r.toLowerCase().replace(/\s+/g, '');
