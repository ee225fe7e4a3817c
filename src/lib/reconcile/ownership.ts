import type { Settings } from '../config/settings.js';
import { isPoolNamespaceName } from '../onboarding/namespacePool.js';
import { parseArmId } from './armId.js';
import { isOwnedName } from './plan.js';

/**
 * Ownership by provenance (docs/reconcile.md "Ownership rules", docs/security.md T17). Our prefix alone proves
 * nothing: other vendors and customers use `mdr-` too. A prefixed object is ours when
 *   1. our ledger records that we wrote it on this target (`CoverageEntry.ownedNames`) — this survives anyone
 *      re-pointing it, so our drifted object is still repaired; or
 *   2. it points at our own destination: a namespace, rule or hub of our pool (provider subscription, pool
 *      resource group, a pool namespace name), or carries the tag we set where the API has tags.
 * Anything else is the customer's: never modified or deleted, by reconcile or by offboarding.
 */
export interface Ownership {
  prefix: string;
  /** Qualified names (lower case; `<rg>/<name>` for automations) of objects on this target we wrote, per the ledger. */
  written: ReadonlySet<string>;
  /** Whether an ARM id (namespace, namespace rule, hub) belongs to our namespace pool. */
  isOurDestination(id: string | undefined): boolean;
  /** The tag our writes carry, where the API has tags (security automations). */
  tag: { name: string; value: string };
}

/** The tag name our writes carry: `<prefix>-managed-by`, valued with the provider tenant id. */
export const managedByTagName = (prefix: string): string => `${prefix}-managed-by`;

export type OwnershipSettings = Pick<Settings, 'prefix' | 'provider' | 'pool'>;

/** Whether an ARM id lies in our pool: provider subscription, pool resource group, an Event Hubs namespace of the pool. */
export function poolDestination(settings: Pick<Settings, 'provider' | 'pool'>): (id: string | undefined) => boolean {
  const sub = settings.provider.subscriptionId.toLowerCase();
  const rg = settings.pool.resourceGroup.toLowerCase();
  return (id) => {
    if (!id) return false;
    const p = parseArmId(id);
    const ns = p.parts.get('namespaces');
    return (
      p.subscriptionId.toLowerCase() === sub &&
      p.resourceGroup.toLowerCase() === rg &&
      (p.parts.get('providers') ?? '').toLowerCase() === 'microsoft.eventhub' &&
      ns !== undefined &&
      isPoolNamespaceName(settings.pool.namePrefix, ns)
    );
  };
}

export function ownershipFor(settings: OwnershipSettings, written: Iterable<string> = []): Ownership {
  return {
    prefix: settings.prefix,
    written: new Set([...written].map((n) => n.toLowerCase())),
    isOurDestination: poolDestination(settings),
    tag: { name: managedByTagName(settings.prefix), value: settings.provider.tenantId.toLowerCase() },
  };
}

/** What an observed object offers as evidence of being ours. */
export interface OwnershipEvidence {
  /** Its name on the target, and its qualified name when names are only unique per resource group. */
  name: string;
  qualifiedName?: string;
  /** Destinations it points at (rule, namespace or hub ids). */
  destinations: readonly (string | undefined)[];
  tags?: Readonly<Record<string, string>>;
}

export function isOurs(own: Ownership, o: OwnershipEvidence): boolean {
  if (!isOwnedName(o.name, own.prefix)) return false;
  if (own.written.has((o.qualifiedName ?? o.name).toLowerCase())) return true;
  if (o.destinations.some((d) => own.isOurDestination(d))) return true;
  return carriesOurTag(own, o.tags);
}

/** Whether `tags` hold our tag (name compared case-insensitively) with our value. */
export function carriesOurTag(own: Pick<Ownership, 'tag'>, tags: Readonly<Record<string, string>> | undefined): boolean {
  const tag = Object.entries(tags ?? {}).find(([k]) => k.toLowerCase() === own.tag.name.toLowerCase());
  return tag !== undefined && tag[1].toLowerCase() === own.tag.value;
}

/** `preferred`, or the first `<preferred>-<n>` (n = 2, 3, …) that no object holds (names compare case-insensitively). */
export function freeName(preferred: string, taken: Iterable<string>): string {
  const used = new Set([...taken].map((n) => n.toLowerCase()));
  if (!used.has(preferred.toLowerCase())) return preferred;
  let n = 2;
  while (used.has(`${preferred}-${n}`.toLowerCase())) n++;
  return `${preferred}-${n}`;
}

/**
 * The shared decision of every target: which observed objects are ours, which one we keep (the preferred name
 * first, then the one the ledger names, then any), which are stale duplicates of ours, and — when there is none
 * of ours — under which name ours would be created (another name of ours when a customer object holds ours).
 */
export function resolveOurs<T>(
  preferred: string,
  actual: readonly T[],
  own: Ownership,
  evidence: (o: T) => OwnershipEvidence,
  sameScope: (o: T) => boolean = () => true,
): { ours: T | undefined; stale: T[]; others: T[]; createAs: string; heldBy: T | undefined } {
  const mine = actual.filter((o) => isOurs(own, evidence(o)));
  const others = actual.filter((o) => !mine.includes(o));
  const nameOf = (o: T) => evidence(o).name.toLowerCase();
  const qualified = (o: T) => (evidence(o).qualifiedName ?? evidence(o).name).toLowerCase();
  const inScope = mine.filter(sameScope);
  const ours = inScope.find((o) => nameOf(o) === preferred.toLowerCase()) ?? inScope.find((o) => own.written.has(qualified(o))) ?? inScope[0];
  const heldBy = others.find((o) => sameScope(o) && nameOf(o) === preferred.toLowerCase());
  return {
    ours,
    stale: mine.filter((o) => o !== ours),
    others,
    createAs: freeName(preferred, actual.filter(sameScope).map((o) => evidence(o).name)),
    heldBy,
  };
}
