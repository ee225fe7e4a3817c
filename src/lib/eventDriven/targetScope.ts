import { z } from 'zod';
import { LOWERCASE_GUID_PATTERN } from '../guid.js';

/**
 * What an event-driven (targeted) reconcile covers: the export targets named by activity-log changes, instead of
 * every target of the tenant. Pure; reconcileTenant filters its target items through `inScope`.
 */
export interface TargetScope {
  /**
   * Lower-cased ARM ids of changed resources. A target is in scope when its resource is one of them, or lies under
   * one that is a provider resource (a storage account names its blob/queue/table/file services). A subscription
   * or resource-group id matches only itself: it must not pull in everything under it.
   */
  resourceIds: string[];
  /** Subscriptions (lower-case) reconciled whole: where a resource list overflowed. */
  subscriptionIds: string[];
  /** Also every subscription of the tenant the ledger does not know yet (a new delegation was seen). */
  newSubscriptions: boolean;
  /** Every target of the tenant: a scope too wide to list (what the timer does, but read fresh). */
  all: boolean;
}

/** `/subscriptions/<guid>` followed by name/value segment pairs; no query, fragment, control characters or empty segments. */
const ARM_ID = /^\/subscriptions\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?:\/[^/?#\u0000-\u001f]+\/[^/?#\u0000-\u001f]+)*$/;
export const MAX_ARM_ID_CHARS = 1024;

export const isArmId = (s: string): boolean => s.length <= MAX_ARM_ID_CHARS && ARM_ID.test(s);
/** Lower-cased, trailing slashes removed; undefined unless it is a well-formed ARM id under a subscription. */
export function normalizeArmId(id: unknown): string | undefined {
  if (typeof id !== 'string') return undefined;
  const s = id.trim().replace(/\/+$/, '').toLowerCase();
  return isArmId(s) ? s : undefined;
}
export const subscriptionOf = (armId: string): string => armId.split('/')[2] ?? '';

/** Limits that keep a scope inside one queue message and one table entity. */
export const SCOPE_LIMITS = { resourceIds: 500, resourceIdsPerSubscription: 50, subscriptionIds: 1000 } as const;

export const targetScopeSchema = z
  .object({
    resourceIds: z.array(z.string().refine(isArmId, 'expected a lower-case ARM id under /subscriptions/<guid>')).max(SCOPE_LIMITS.resourceIds),
    subscriptionIds: z.array(z.string().regex(LOWERCASE_GUID_PATTERN, 'expected a lower-case subscription GUID')).max(SCOPE_LIMITS.subscriptionIds),
    newSubscriptions: z.boolean(),
    all: z.boolean(),
  })
  .strict();

export const emptyScope = (): TargetScope => ({ resourceIds: [], subscriptionIds: [], newSubscriptions: false, all: false });

export function isEmptyScope(s: TargetScope): boolean {
  return s.resourceIds.length === 0 && s.subscriptionIds.length === 0 && !s.newSubscriptions && !s.all;
}

/**
 * The union of two scopes, kept within SCOPE_LIMITS: a subscription with more named resources than
 * `resourceIdsPerSubscription` (or the ones with most, when the total overflows) is reconciled whole instead.
 */
export function mergeScopes(a: TargetScope, b: TargetScope): TargetScope {
  const whole = new Set([...a.subscriptionIds, ...b.subscriptionIds]);
  const bySub = new Map<string, Set<string>>();
  for (const id of [...a.resourceIds, ...b.resourceIds]) {
    const sub = subscriptionOf(id);
    if (whole.has(sub)) continue;
    let set = bySub.get(sub);
    if (!set) bySub.set(sub, (set = new Set()));
    set.add(id);
  }
  for (const [sub, ids] of bySub) if (ids.size > SCOPE_LIMITS.resourceIdsPerSubscription) (whole.add(sub), bySub.delete(sub));
  let total = [...bySub.values()].reduce((n, s) => n + s.size, 0);
  // Overflow: the busiest subscriptions go whole first, so the fewest targets are read beyond what was named.
  for (const [sub, ids] of [...bySub].sort((x, y) => y[1].size - x[1].size || x[0].localeCompare(y[0]))) {
    if (total <= SCOPE_LIMITS.resourceIds) break;
    whole.add(sub);
    bySub.delete(sub);
    total -= ids.size;
  }
  const subscriptionIds = [...whole].sort();
  if (a.all || b.all || subscriptionIds.length > SCOPE_LIMITS.subscriptionIds) return { ...emptyScope(), all: true };
  return { resourceIds: [...bySub.values()].flatMap((s) => [...s]).sort(), subscriptionIds, newSubscriptions: a.newSubscriptions || b.newSubscriptions, all: false };
}

/**
 * The subscriptions discovery must look at for this scope, or undefined for all of the tenant's (new
 * subscriptions cannot be named before discovery finds them).
 */
export function scopeSubscriptions(s: TargetScope): string[] | undefined {
  if (s.newSubscriptions || s.all) return undefined;
  return [...new Set([...s.subscriptionIds, ...s.resourceIds.map(subscriptionOf)])].sort();
}

/** Whether a target (an item, or a blocked action) falls in the scope. `knownSubscriptions`: the ledger's, for `newSubscriptions`. */
export function inScope(target: { resourceId: string; subscriptionId: string }, s: TargetScope, knownSubscriptions?: ReadonlySet<string>): boolean {
  if (s.all) return true;
  const sub = target.subscriptionId.toLowerCase();
  if (s.subscriptionIds.includes(sub)) return true;
  if (s.newSubscriptions && knownSubscriptions && !knownSubscriptions.has(sub)) return true;
  const named = new Set(s.resourceIds);
  const id = target.resourceId.toLowerCase().replace(/\/+$/, '');
  if (named.has(id)) return true;
  // Ancestors that are provider resources: `<account>/blobServices/default` lies under `<account>`.
  const segs = id.split('/');
  for (let n = segs.length - 2; n > 2; n -= 2) {
    const ancestor = segs.slice(0, n).join('/');
    if (!ancestor.includes('/providers/')) break;
    if (named.has(ancestor)) return true;
  }
  return false;
}

/**
 * A tenant's target items (and blocked actions) narrowed to a scope; everything when there is none. `ledger` is the
 * coverage before the run: its subscriptions are the known ones.
 */
export function scopeTargets<I extends { resourceId: string; subscriptionId: string }, B extends { resourceId: string; subscriptionId: string }>(
  all: { items: I[]; blocked: B[] },
  scope: TargetScope | undefined,
  ledger: readonly { subscriptionId: string }[],
): { items: I[]; blocked: B[] } {
  if (!scope) return all;
  const known = new Set(ledger.map((e) => e.subscriptionId.toLowerCase()));
  return { items: all.items.filter((i) => inScope(i, scope, known)), blocked: all.blocked.filter((b) => inScope(b, scope, known)) };
}
