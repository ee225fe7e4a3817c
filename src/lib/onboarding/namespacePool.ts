import type { AzureClients } from '../azure/clientFactory.js';
import { classifyArmError, isNotFound } from '../azure/classifyError.js';
import type { Settings } from '../config/settings.js';
import { conflictBackoff, ConnectorError, isConflict } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { TenantRegistry } from '../registry/tenantRegistry.js';
import type { NamespaceRecord } from '../registry/types.js';

type Tier = NamespaceRecord['tier'];
export type PoolSettings = Settings['pool'];

/** Event hubs per namespace (azure-facts §4): Standard 10, Premium 100 per processing unit, Dedicated 1000. */
export function maxHubsFor(tier: Tier, capacity: number): number {
  if (tier === 'Standard') return 10;
  if (tier === 'Premium') return 100 * capacity;
  return 1000;
}

/** `<prefix>-<region>-<nn>`, cut to the 50-character namespace limit (the region is kept, the prefix shortened). */
export function namespaceNameFor(namePrefix: string, region: string, index: number): string {
  const suffix = `-${region}-${String(index).padStart(2, '0')}`;
  const prefix = namePrefix.slice(0, Math.max(1, 50 - suffix.length)).replace(/-+$/, '');
  return `${prefix}${suffix}`;
}

/** Whether `name` is a namespace name namespaceNameFor gives for some region and index: a namespace of our pool. */
export function isPoolNamespaceName(namePrefix: string, name: string): boolean {
  const m = /^.+-([a-z0-9]+)-(\d{2,})$/.exec(name.toLowerCase());
  return m !== null && namespaceNameFor(namePrefix, m[1]!, Number(m[2])) === name.toLowerCase();
}

export type PoolDecision =
  | { kind: 'already'; namespace: NamespaceRecord }
  | { kind: 'use'; namespace: NamespaceRecord }
  | { kind: 'grow'; namespace: NamespaceRecord }
  | { kind: 'full'; message: string };

/**
 * Pure choice of a slot for `tenantId` in `region`: its existing slot, else the first namespace (by name) with
 * room, else a new namespace when growth is allowed, else 'full'. Filling in name order gives 10/10/5 for 25.
 */
export function choosePoolSlot(namespaces: readonly NamespaceRecord[], tenantId: string, region: string, pool: PoolSettings, resourceIdOf: (name: string) => string): PoolDecision {
  const inRegion = namespaces.filter((n) => n.region === region).sort((a, b) => a.namespace.localeCompare(b.namespace));
  const mine = inRegion.find((n) => n.tenants.includes(tenantId));
  if (mine) return { kind: 'already', namespace: mine };
  const free = inRegion.find((n) => n.tenants.length < n.maxHubs);
  if (free) return { kind: 'use', namespace: { ...free, tenants: [...free.tenants, tenantId], hubCount: free.tenants.length + 1 } };
  if (!pool.growth) {
    const total = inRegion.reduce((s, n) => s + n.maxHubs, 0);
    return { kind: 'full', message: `The Event Hubs namespace pool in ${region} is full (${inRegion.length} namespace(s), ${total} hubs) and pool growth is disabled (MDR_EH_POOL_GROWTH=false). Add capacity or enable growth, then retry.` };
  }
  const name = nextNamespaceName(inRegion, region, pool.namePrefix);
  return {
    kind: 'grow',
    namespace: { region, namespace: name, namespaceId: resourceIdOf(name), tier: pool.tier, maxHubs: maxHubsFor(pool.tier, pool.capacity), hubCount: 1, tenants: [tenantId], state: 'provisioning' },
  };
}

/** The name the next namespace of `region` gets: the lowest index the registry holds no record for. */
export function nextNamespaceName(namespaces: readonly NamespaceRecord[], region: string, namePrefix: string): string {
  const used = new Set(namespaces.filter((n) => n.region === region).map((n) => n.namespace));
  let index = 1;
  while (used.has(namespaceNameFor(namePrefix, region, index))) index++;
  return namespaceNameFor(namePrefix, region, index);
}

/** What ARM holds under a pool namespace name in the pool resource group. */
export type PoolNamespaceInArm =
  | { kind: 'absent' }
  /** One of ours: `record` is what the registry adopts (no tenants yet), ready or still provisioning. */
  | { kind: 'ours'; record: NamespaceRecord }
  | { kind: 'not-ours'; reason: string };

/** The fields of an ARM namespace (Event Hubs SDK `EHNamespace`) the adoption decision reads. */
export interface ArmNamespace {
  id?: string;
  name?: string;
  location?: string;
  sku?: { name?: string; tier?: string; capacity?: number };
  provisioningState?: string;
}

/** ARM answers a location as its display name ("West Europe" in the Event Hubs spec's examples); regions here are "westeurope". */
const sameRegion = (location: string | undefined, region: string) => (location ?? '').toLowerCase().replace(/\s+/g, '') === region.toLowerCase();
const TIERS: readonly Tier[] = ['Standard', 'Premium', 'Dedicated'];

/**
 * Pure: whether the namespace ARM returned for `name` (read at its id in the pool resource group of the provider
 * subscription) is the pool's namespace of `region`, and if so the registry record that adopts it. Ours means: that
 * very id, our naming scheme for this region, this region's location, and a tier the pool uses (Basic has one
 * consumer group, so it cannot hold tenant hubs). Ready when provisioned (Succeeded, or Active, which the wait for a
 * created namespace also accepts); otherwise adopted as provisioning and waited for like a namespace the pool is
 * creating itself (ensureNamespaceReady: read first, no PUT while it exists and is not Failed).
 */
export function classifyPoolNamespace(settings: Pick<Settings, 'pool' | 'provider'>, region: string, name: string, ns: ArmNamespace): PoolNamespaceInArm {
  const id = namespaceResourceId(settings, name);
  const where = `Event Hubs namespace ${name} in resource group ${settings.pool.resourceGroup}`;
  if ((ns.id ?? '').toLowerCase() !== id.toLowerCase() || (ns.name ?? '').toLowerCase() !== name.toLowerCase()) return { kind: 'not-ours', reason: `${where} answered as ${ns.id ?? '(no id)'}` };
  const index = Number(/-(\d{2,})$/.exec(name)?.[1]);
  if (!(index >= 1) || name !== namespaceNameFor(settings.pool.namePrefix, region, index)) return { kind: 'not-ours', reason: `${where} does not follow the pool naming for ${region}` };
  if (!sameRegion(ns.location, region)) return { kind: 'not-ours', reason: `${where} is in ${ns.location ?? '(no location)'}, not ${region}: it is not adopted. Delete or rename it, or change MDR_EH_POOL_NAME_PREFIX.` };
  const tier = TIERS.find((t) => t.toLowerCase() === String(ns.sku?.tier ?? ns.sku?.name ?? '').toLowerCase());
  if (!tier) return { kind: 'not-ours', reason: `${where} has tier ${ns.sku?.tier ?? ns.sku?.name ?? '(none)'}, which cannot hold the pool's hubs: it is not adopted.` };
  const state = (ns.provisioningState ?? '').toLowerCase();
  const ready = state === 'succeeded' || state === 'active';
  const capacity = ns.sku?.capacity ?? 1;
  return { kind: 'ours', record: { region, namespace: name, namespaceId: id, tier, maxHubs: maxHubsFor(tier, capacity), hubCount: 0, tenants: [], state: ready ? 'ready' : 'provisioning' } };
}

/** Reads pool namespace `name` of `region` from ARM (pool resource group, provider subscription) and classifies it. */
export async function readPoolNamespace(deps: Pick<PoolDeps, 'settings' | 'clients'>, region: string, name: string): Promise<PoolNamespaceInArm> {
  const eh = await deps.clients.eventHub(deps.settings.provider.subscriptionId);
  try {
    return classifyPoolNamespace(deps.settings, region, name, await eh.namespaces.get(deps.settings.pool.resourceGroup, name));
  } catch (e) {
    if (isNotFound(e)) return { kind: 'absent' };
    throw classifyArmError(e, `read Event Hubs namespace ${name}`);
  }
}

export interface PoolDeps {
  settings: Pick<Settings, 'pool' | 'provider'>;
  registry: TenantRegistry;
  clients: AzureClients;
  logger?: Logger;
  /** LRO poll interval for namespace creation (tests shorten it). */
  lroPollMs?: number;
}

export function namespaceResourceId(settings: Pick<Settings, 'pool' | 'provider'>, name: string): string {
  return `/subscriptions/${settings.provider.subscriptionId}/resourceGroups/${settings.pool.resourceGroup}/providers/Microsoft.EventHub/namespaces/${name}`;
}

const MAX_ATTEMPTS = 50;
/** How long a racer waits for a namespace someone else is creating (creation takes a few minutes in Azure). */
const NAMESPACE_WAIT_MS = 15 * 60_000;
/** How long a tenant that took a slot in someone else's new namespace waits before creating it itself (the grower may have died). */
const TAKEOVER_AFTER_MS = 120_000;

/**
 * Takes a slot for the tenant in a namespace of `region` (read-modify-write by etag; a lost race re-reads and
 * chooses again, so two onboardings can never both take the last slot), creating the namespace in ARM when the
 * pool grows, and waits until that namespace exists. Returns the namespace record holding the tenant.
 */
export async function acquireNamespaceSlot(deps: PoolDeps, tenantId: string, region: string): Promise<{ namespace: NamespaceRecord; grew: boolean }> {
  const log = (deps.logger ?? silentLogger).child({ tenantId, region });
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const namespaces = await deps.registry.listNamespaces(region);
    const decision = choosePoolSlot(namespaces, tenantId, region, deps.settings.pool, (n) => namespaceResourceId(deps.settings, n));
    if (decision.kind === 'grow' || decision.kind === 'full') {
      // The namespace to create may exist already (infra/main.bicep creates each region's first): adopt it when it
      // is provably ours, then choose again. Adopting is not growth, so a pool with growth off adopts too.
      const found = await readPoolNamespace(deps, region, nextNamespaceName(namespaces, region, deps.settings.pool.namePrefix));
      if (found.kind === 'not-ours') throw new ConnectorError('permanent', found.reason);
      if (found.kind === 'ours') {
        try {
          await deps.registry.putNamespace(found.record); // create-only: a racer's record wins, we re-read
          log.info('pool.adopt', { namespace: found.record.namespace, tier: found.record.tier, state: found.record.state });
        } catch (e) {
          if (!isConflict(e)) throw e;
          await conflictBackoff(attempt);
        }
        continue;
      }
    }
    if (decision.kind === 'full') throw new ConnectorError('capacity', decision.message);
    let held: NamespaceRecord;
    try {
      held = decision.kind === 'already' ? decision.namespace : await deps.registry.putNamespace(decision.namespace);
    } catch (e) {
      if (isConflict(e)) {
        await conflictBackoff(attempt);
        continue;
      }
      throw e;
    }
    if (decision.kind === 'grow') log.info('pool.grow', { namespace: held.namespace, tier: held.tier });
    // Only the grower (or the tenant retrying its own claim) creates at once; others wait for the creator first.
    const ready = held.state === 'ready' ? held : await ensureNamespaceReady(deps, held, decision.kind === 'use' ? TAKEOVER_AFTER_MS : 0);
    return { namespace: ready, grew: decision.kind === 'grow' };
  }
  throw new ConnectorError('transient', `Could not take a namespace slot in ${region} after ${MAX_ATTEMPTS} attempts (heavy contention); retry the request.`);
}

/** Creates the namespace in ARM if it does not exist yet (idempotent: reads first), then marks the record ready. */
export async function ensureNamespaceReady(deps: PoolDeps, ns: NamespaceRecord, waitForCreatorMs = 0): Promise<NamespaceRecord> {
  const { pool } = deps.settings;
  const eh = await deps.clients.eventHub(deps.settings.provider.subscriptionId);
  // Someone else may be creating it (a racer that took a slot in the same new namespace): wait for it rather than PUT again.
  let exists = false;
  const deadline = Date.now() + NAMESPACE_WAIT_MS;
  const takeoverAt = Date.now() + waitForCreatorMs;
  for (;;) {
    let state: string | undefined;
    try {
      const current = await eh.namespaces.get(pool.resourceGroup, ns.namespace);
      state = current.provisioningState ?? 'Succeeded';
    } catch (e) {
      if (!isNotFound(e)) throw classifyArmError(e, `read Event Hubs namespace ${ns.namespace}`);
    }
    // Not there yet: the grower's PUT may still be on its way; after the takeover delay we create it ourselves (PUT is idempotent).
    if (state === undefined && Date.now() < takeoverAt) {
      await new Promise((r) => setTimeout(r, deps.lroPollMs ?? 2000));
      continue;
    }
    if (state === undefined || state === 'Failed') break;
    if (state === 'Succeeded' || state === 'Active') {
      exists = true;
      break;
    }
    if (Date.now() > deadline) throw new ConnectorError('transient', `Event Hubs namespace ${ns.namespace} is still ${state}; retry later`);
    await new Promise((r) => setTimeout(r, deps.lroPollMs ?? 2000));
  }
  if (!exists) {
    try {
      await eh.namespaces.createOrUpdate(
        pool.resourceGroup,
        ns.namespace,
        {
          location: ns.region,
          sku: { name: ns.tier, tier: ns.tier, capacity: pool.capacity },
          // Local (SAS) auth stays on: Defender continuous export accepts only a connection string.
          minimumTlsVersion: '1.2',
          tags: { 'mdr-pool': ns.region, 'mdr-managed-by': 'azure-mdr-connector' },
        },
        deps.lroPollMs === undefined ? {} : { updateIntervalInMs: deps.lroPollMs },
      );
    } catch (e) {
      // A failed LRO is a plain Error (no status): quota and policy failures end up here (mechanics §2c).
      const ce = classifyArmError(e, `create Event Hubs namespace ${ns.namespace} in ${ns.region}`);
      throw (e as { statusCode?: unknown }).statusCode === undefined && /long-running operation has failed/i.test(ce.message)
        ? new ConnectorError('capacity', ce.message, { cause: e })
        : ce;
    }
  }
  // Mark ready (any racer may do it; a conflict means someone else changed the record: re-read).
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = (await deps.registry.listNamespaces(ns.region)).find((n) => n.namespace === ns.namespace);
    if (!current) throw new ConnectorError('transient', `namespace record ${ns.namespace} disappeared while provisioning`);
    if (current.state === 'ready') return current;
    try {
      return await deps.registry.putNamespace({ ...current, state: 'ready' });
    } catch (e) {
      if (!isConflict(e)) throw e;
      await conflictBackoff(attempt);
    }
  }
  throw new ConnectorError('transient', `could not mark namespace ${ns.namespace} ready (contention)`);
}

/** Gives the tenant's slot back (offboarding, or a failed hub provisioning). Namespaces themselves stay in the pool. */
export async function releaseNamespaceSlot(deps: Pick<PoolDeps, 'registry'>, tenantId: string, region: string, namespace: string): Promise<void> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = (await deps.registry.listNamespaces(region)).find((n) => n.namespace === namespace);
    if (!current || !current.tenants.includes(tenantId)) return;
    const tenants = current.tenants.filter((t) => t !== tenantId);
    try {
      await deps.registry.putNamespace({ ...current, tenants, hubCount: tenants.length });
      return;
    } catch (e) {
      if (!isConflict(e)) throw e;
      await conflictBackoff(attempt);
    }
  }
  throw new ConnectorError('transient', `could not release the slot of ${tenantId} in ${namespace} (contention)`);
}
