import { z } from 'zod';
import type { AzureClients } from '../azure/clientFactory.js';
import type { TenantRecord } from '../registry/types.js';

/** Resource types the reconciler exports from (Resource Graph reports types in lowercase). */
export const DISCOVERED_TYPES = ['microsoft.storage/storageaccounts', 'microsoft.keyvault/vaults', 'microsoft.operationalinsights/workspaces'] as const;
/** Resource Graph guidance: group subscriptions (< 300 per query) instead of one query per subscription. */
export const GRAPH_SUBSCRIPTION_BATCH = 300;

export interface DiscoveredSubscription {
  subscriptionId: string;
  displayName: string;
}
export interface DiscoveredResource {
  id: string;
  name: string;
  type: string;
  location: string;
  kind?: string;
  skuName?: string;
  subscriptionId: string;
  resourceGroup: string;
}
export interface DiscoveredGroup {
  id: string;
  subscriptionId: string;
  location: string;
}
export interface Discovery {
  subscriptions: DiscoveredSubscription[];
  resources: DiscoveredResource[];
  /** The automation resource group (settings.provider.automationResourceGroup) of each subscription that has one. */
  automationGroups: DiscoveredGroup[];
  /**
   * Subscriptions visible through the delegation that are NOT the tenant's: another tenant's home subscription the
   * tenant manages (MSP chains), or one whose home tenant Resource Graph reports differently. Never written to.
   */
  foreign: ForeignSubscription[];
  /**
   * Every home subscription of the tenant the Subscriptions API lists, also those outside a work item's `only`
   * (lower-case ids): a configured workspace in one of them is another work item's, not outside the delegation.
   */
  allHome: string[];
  /** Home subscriptions the Subscriptions API lists as Disabled or Deleted: delegated, but nothing streams from them. */
  disabledHome?: string[];
  /** ARM calls made (subscription pages + Resource Graph pages). */
  reads: number;
}
export interface ForeignSubscription {
  subscriptionId: string;
  /** Home tenant as the source below reports it. */
  homeTenantId: string;
  source: 'subscriptions' | 'resource-graph';
}

const rowSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  location: z.string().nullish(),
  kind: z.string().nullish(),
  sku: z.union([z.object({ name: z.string().nullish() }).passthrough(), z.string(), z.null()]).optional(),
  subscriptionId: z.string(),
  resourceGroup: z.string().nullish(),
  tenantId: z.string().nullish(),
});

const DISABLED_STATES = new Set(['disabled', 'deleted']);

/**
 * Subscriptions of the tenant as the Subscriptions API reports them: its `tenantId` is the subscription's HOME
 * tenant (azure-facts §6, Subscriptions REST 2019-06-01+), the only thing that makes a subscription a customer's.
 * `managedByTenants` names the tenants that MANAGE it: a customer there manages someone else's subscription (an
 * MSP, a parent company) and must never act on it. Enabled only (Warned/PastDue still stream); `only` narrows to
 * a work item's subscriptions.
 */
async function listHomeSubscriptions(clients: AzureClients, tenant: Pick<TenantRecord, 'tenantId'>, only?: readonly string[]): Promise<{ subscriptions: DiscoveredSubscription[]; foreign: ForeignSubscription[]; allHome: string[]; disabledHome: string[]; reads: number }> {
  const client = await clients.subscriptions();
  const wanted = only ? new Set(only.map((s) => s.toLowerCase())) : undefined;
  const tid = tenant.tenantId.toLowerCase();
  const out: DiscoveredSubscription[] = [];
  const foreign: ForeignSubscription[] = [];
  const allHome: string[] = [];
  const disabledHome: string[] = [];
  for await (const s of client.subscriptions.list()) {
    const id = (s.subscriptionId ?? '').toLowerCase();
    if (!id) continue;
    const home = (s.tenantId ?? '').toLowerCase();
    if (DISABLED_STATES.has((s.state ?? '').toLowerCase())) {
      if (home === tid) disabledHome.push(id);
      continue;
    }
    // The tenant-wide picture (every home and foreign subscription) whatever the work item: its entries need it.
    if (home === tid) allHome.push(id);
    else if ((s.managedByTenants ?? []).some((m) => (m.tenantId ?? '').toLowerCase() === tid)) foreign.push({ subscriptionId: id, homeTenantId: home, source: 'subscriptions' });
    if (home === tid && (!wanted || wanted.has(id))) out.push({ subscriptionId: id, displayName: s.displayName ?? id });
  }
  out.sort((a, b) => a.subscriptionId.localeCompare(b.subscriptionId));
  return { subscriptions: out, foreign, allHome: allHome.sort(), disabledHome: disabledHome.sort(), reads: 1 };
}

const containerSchema = z.object({ subscriptionId: z.string(), tenantId: z.string().nullish() });

/** Resource Graph's `ResourceContainers` rows of the subscriptions themselves: their `tenantId` is the home tenant too. */
const HOME_TENANT_QUERY = "ResourceContainers | where type =~ 'microsoft.resources/subscriptions' | project id, subscriptionId, tenantId | order by id asc";

/** Subscriptions whose home tenant Resource Graph reports as another tenant (rows without a tenantId say nothing). */
function disagreeing(rows: readonly unknown[], tenantId: string): ForeignSubscription[] {
  const tid = tenantId.toLowerCase();
  const out: ForeignSubscription[] = [];
  for (const raw of rows) {
    const r = containerSchema.safeParse(raw);
    const home = r.success ? (r.data.tenantId ?? '').toLowerCase() : '';
    if (r.success && home !== '' && home !== tid) out.push({ subscriptionId: r.data.subscriptionId.toLowerCase(), homeTenantId: home, source: 'resource-graph' });
  }
  return out;
}

/**
 * The tenant's own subscriptions: home tenant per the Subscriptions API, cross-checked with Resource Graph where it
 * has the subscription (a disagreement drops it). Used where only the subscriptions are needed (alert state,
 * onboarding's known-subscription record); `discover` runs the same check alongside its other queries.
 */
export async function discoverSubscriptions(clients: AzureClients, tenant: Pick<TenantRecord, 'tenantId'>, only?: readonly string[]): Promise<{ subscriptions: DiscoveredSubscription[]; foreign: ForeignSubscription[]; allHome: string[]; disabledHome: string[]; reads: number }> {
  const subs = await listHomeSubscriptions(clients, tenant, only);
  if (subs.subscriptions.length === 0) return subs;
  const check = await queryGraph(clients, subs.subscriptions.map((s) => s.subscriptionId), HOME_TENANT_QUERY);
  return confirmHome(subs, disagreeing(check.rows, tenant.tenantId), check.reads);
}

function confirmHome<T extends { subscriptions: DiscoveredSubscription[]; foreign: ForeignSubscription[]; allHome: string[]; disabledHome: string[]; reads: number }>(subs: T, disagree: readonly ForeignSubscription[], reads: number): T {
  const bad = new Set(disagree.map((f) => f.subscriptionId));
  return { ...subs, subscriptions: subs.subscriptions.filter((s) => !bad.has(s.subscriptionId)), allHome: subs.allHome.filter((s) => !bad.has(s)), foreign: [...subs.foreign, ...disagree], reads: subs.reads + reads };
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Runs one Resource Graph query per batch of subscriptions, following skip tokens (the SDK does not auto-page). */
async function queryGraph(clients: AzureClients, subscriptionIds: readonly string[], query: string): Promise<{ rows: unknown[]; reads: number }> {
  const client = await clients.resourceGraph();
  const rows: unknown[] = [];
  let reads = 0;
  for (let i = 0; i < subscriptionIds.length; i += GRAPH_SUBSCRIPTION_BATCH) {
    const batch = subscriptionIds.slice(i, i + GRAPH_SUBSCRIPTION_BATCH);
    let skipToken: string | undefined;
    do {
      const res = await client.resources({ subscriptions: [...batch], query, options: skipToken ? { skipToken } : undefined });
      reads++;
      if (Array.isArray(res.data)) rows.push(...(res.data as unknown[]));
      skipToken = res.skipToken ?? undefined;
    } while (skipToken);
  }
  return { rows, reads };
}

/**
 * Subscriptions, then their resources and automation groups. `onSubscriptions` hears of the subscriptions as soon
 * as they are known, so work that needs only them (the change feed) can run while Resource Graph pages. Resource
 * Graph's own tenantId of each subscription, resource and group is checked too: a row of another home tenant is
 * dropped, and a subscription Resource Graph places in another tenant is dropped with everything in it.
 */
export async function discover(
  clients: AzureClients,
  tenant: TenantRecord,
  automationResourceGroup: string,
  only?: readonly string[],
  onSubscriptions?: (subscriptions: readonly DiscoveredSubscription[]) => void,
): Promise<Discovery> {
  const listed = await listHomeSubscriptions(clients, tenant, only);
  const ids = listed.subscriptions.map((s) => s.subscriptionId);
  if (ids.length === 0) return { subscriptions: [], resources: [], automationGroups: [], foreign: listed.foreign, allHome: listed.allHome, disabledHome: listed.disabledHome, reads: listed.reads };
  onSubscriptions?.(listed.subscriptions);
  const resourcesQuery = `Resources | where type in~ (${DISCOVERED_TYPES.map(quote).join(', ')}) | project id, name, type, location, kind, sku, subscriptionId, resourceGroup, tenantId | order by id asc`;
  const groupsQuery = `ResourceContainers | where type =~ 'microsoft.resources/subscriptions/resourcegroups' | where name =~ ${quote(automationResourceGroup)} | project id, name, type, location, subscriptionId, tenantId | order by id asc`;
  const [res, groups, check] = await Promise.all([queryGraph(clients, ids, resourcesQuery), queryGraph(clients, ids, groupsQuery), queryGraph(clients, ids, HOME_TENANT_QUERY)]);
  const subs = confirmHome(listed, disagreeing(check.rows, tenant.tenantId), check.reads);
  const mine = new Set(subs.subscriptions.map((s) => s.subscriptionId));
  const tid = tenant.tenantId.toLowerCase();
  const ours = (r: { subscriptionId: string; tenantId?: string | null }) => mine.has(r.subscriptionId.toLowerCase()) && (!r.tenantId || r.tenantId.toLowerCase() === tid);
  const resources: DiscoveredResource[] = [];
  for (const raw of res.rows) {
    const r = rowSchema.safeParse(raw);
    if (!r.success || !ours(r.data)) continue; // a row we cannot read, or not the tenant's, is not a target
    const sku = r.data.sku;
    resources.push({
      id: r.data.id,
      name: r.data.name,
      type: r.data.type.toLowerCase(),
      location: r.data.location ?? '',
      kind: r.data.kind ?? undefined,
      skuName: typeof sku === 'string' ? sku : (sku?.name ?? undefined),
      subscriptionId: r.data.subscriptionId.toLowerCase(),
      resourceGroup: r.data.resourceGroup ?? '',
    });
  }
  const automationGroups: DiscoveredGroup[] = [];
  for (const raw of groups.rows) {
    const g = rowSchema.safeParse({ type: 'microsoft.resources/subscriptions/resourcegroups', ...(raw as object) });
    if (g.success && ours(g.data)) automationGroups.push({ id: g.data.id, subscriptionId: g.data.subscriptionId.toLowerCase(), location: g.data.location ?? '' });
  }
  return { subscriptions: subs.subscriptions, resources, automationGroups, foreign: subs.foreign, allHome: subs.allHome, disabledHome: subs.disabledHome, reads: subs.reads + res.reads + groups.reads };
}
