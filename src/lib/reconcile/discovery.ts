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
  /** ARM calls made (subscription pages + Resource Graph pages). */
  reads: number;
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
});

const DISABLED_STATES = new Set(['disabled', 'deleted']);

/**
 * Subscriptions the provider sees through the tenant's Lighthouse delegation: home tenant = the customer,
 * enabled (Warned/PastDue still stream). `only` narrows to a work item's subscriptions.
 */
export async function discoverSubscriptions(clients: AzureClients, tenant: TenantRecord, only?: readonly string[]): Promise<{ subscriptions: DiscoveredSubscription[]; reads: number }> {
  const client = await clients.subscriptions();
  const wanted = only ? new Set(only.map((s) => s.toLowerCase())) : undefined;
  const tid = tenant.tenantId.toLowerCase();
  const out: DiscoveredSubscription[] = [];
  for await (const s of client.subscriptions.list()) {
    const id = (s.subscriptionId ?? '').toLowerCase();
    if (!id || DISABLED_STATES.has((s.state ?? '').toLowerCase())) continue;
    const home = (s.tenantId ?? '').toLowerCase() === tid;
    const managedFor = home || (s.managedByTenants ?? []).some((m) => (m.tenantId ?? '').toLowerCase() === tid);
    if (!managedFor || (wanted && !wanted.has(id))) continue;
    out.push({ subscriptionId: id, displayName: s.displayName ?? id });
  }
  out.sort((a, b) => a.subscriptionId.localeCompare(b.subscriptionId));
  return { subscriptions: out, reads: 1 };
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
 * as they are known, so work that needs only them (the change feed) can run while Resource Graph pages.
 */
export async function discover(
  clients: AzureClients,
  tenant: TenantRecord,
  automationResourceGroup: string,
  only?: readonly string[],
  onSubscriptions?: (subscriptions: readonly DiscoveredSubscription[]) => void,
): Promise<Discovery> {
  const subs = await discoverSubscriptions(clients, tenant, only);
  const ids = subs.subscriptions.map((s) => s.subscriptionId);
  if (ids.length === 0) return { subscriptions: [], resources: [], automationGroups: [], reads: subs.reads };
  onSubscriptions?.(subs.subscriptions);
  const resourcesQuery = `Resources | where type in~ (${DISCOVERED_TYPES.map(quote).join(', ')}) | project id, name, type, location, kind, sku, subscriptionId, resourceGroup | order by id asc`;
  const groupsQuery = `ResourceContainers | where type =~ 'microsoft.resources/subscriptions/resourcegroups' | where name =~ ${quote(automationResourceGroup)} | project id, name, type, location, subscriptionId | order by id asc`;
  const [res, groups] = await Promise.all([queryGraph(clients, ids, resourcesQuery), queryGraph(clients, ids, groupsQuery)]);
  const resources: DiscoveredResource[] = [];
  for (const raw of res.rows) {
    const r = rowSchema.safeParse(raw);
    if (!r.success) continue; // a row we cannot read is not a target; Resource Graph rows are best effort
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
    if (g.success) automationGroups.push({ id: g.data.id, subscriptionId: g.data.subscriptionId.toLowerCase(), location: g.data.location ?? '' });
  }
  return { subscriptions: subs.subscriptions, resources, automationGroups, reads: subs.reads + res.reads + groups.reads };
}
