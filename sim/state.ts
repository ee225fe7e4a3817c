import { randomUUID } from 'node:crypto';
import type { SimActivityEvent } from './routes/activityLog.js';
import type { Scenario, ScenarioSubscription } from './scenario.js';
import { addDelegation } from './routes/managedServices.js';

/** One ARM resource as the simulator stores it: wire shape plus the bits routing needs. */
export interface SimResource {
  id: string; // canonical casing
  name: string;
  type: string; // canonical ARM type, e.g. Microsoft.Storage/storageAccounts
  subscriptionId: string;
  resourceGroup?: string;
  location?: string;
  kind?: string;
  sku?: Record<string, unknown>;
  tags?: Record<string, string>;
  etag?: string;
  properties: Record<string, unknown>;
}

export interface SimSubscription {
  subscriptionId: string;
  displayName: string;
  state: string;
  homeTenantId: string;
  /** Visible to the provider only when delegated (Lighthouse); the provider's own subscription is always visible. */
  delegated: boolean;
  /** Tenants other than the provider that manage it through their own delegation (listed in `managedByTenants`). */
  managedByTenants?: string[];
}

export interface AsyncOperation {
  id: string;
  remainingPolls: number;
  status: 'InProgress' | 'Succeeded' | 'Failed';
  onSucceeded?: () => void;
  /** The resource being created: a GET of it also advances the operation (Azure finishes whether or not anyone polls). */
  resourceId?: string;
}

const lower = (s: string) => s.toLowerCase();
const parentOf = (id: string) => lower(id.slice(0, id.lastIndexOf('/')));

/**
 * Mutable ARM state. Resources (including diagnostic settings, hubs, rules) live in one map keyed by lower-cased
 * id, with an index by collection path (the id minus its last segment) so LIST is cheap at 10,000 resources.
 */
export class SimState {
  readonly providerTenantId: string;
  readonly providerSubscriptionId: string;
  readonly subscriptions = new Map<string, SimSubscription>();
  readonly tenants = new Map<string, { tenantId: string; displayName: string }>();
  /** Write-only `connectionString`s of automation EventHub actions, by lower-cased automation id (never returned on GET). */
  readonly automationSecrets = new Map<string, string[]>();
  /** Function app settings by lower-cased site id. */
  readonly appSettings = new Map<string, Record<string, string>>();
  readonly asyncOperations = new Map<string, AsyncOperation>();
  /**
   * The subscription activity log: lower-cased subscription id → one event per successful write/delete/action
   * (armSimulator records them), oldest first — what ActivityLogs_List reads.
   */
  private readonly activityBySub = new Map<string, SimActivityEvent[]>();
  recordActivity(e: SimActivityEvent): void {
    const key = lower(e.subscriptionId);
    const list = this.activityBySub.get(key);
    if (list) list.push(e);
    else this.activityBySub.set(key, [e]);
  }
  activityOfSubscription(subscriptionId: string): readonly SimActivityEvent[] {
    return this.activityBySub.get(lower(subscriptionId)) ?? [];
  }
  /** The simulator's clock (tests may move it forward). */
  clock: () => number = Date.now;
  private readonly resources = new Map<string, SimResource>();
  private readonly collections = new Map<string, Set<string>>();

  constructor(providerTenantId: string, providerSubscriptionId: string) {
    this.providerTenantId = providerTenantId;
    this.providerSubscriptionId = providerSubscriptionId;
  }

  subscription(id: string): SimSubscription | undefined {
    return this.subscriptions.get(lower(id));
  }
  addSubscription(s: SimSubscription): void {
    this.subscriptions.set(lower(s.subscriptionId), s);
  }
  /** Simulates the customer removing the Lighthouse delegation: the subscription vanishes and calls get 403. */
  revokeDelegation(subscriptionId: string): void {
    const s = this.subscription(subscriptionId);
    if (s) s.delegated = false;
  }
  /** True when the provider may call under this subscription. */
  accessible(subscriptionId: string): boolean {
    const s = this.subscription(subscriptionId);
    return !!s && (s.delegated || lower(s.subscriptionId) === lower(this.providerSubscriptionId));
  }

  get(id: string): SimResource | undefined {
    return this.resources.get(lower(id));
  }
  put(r: SimResource): SimResource {
    const key = lower(r.id);
    this.resources.set(key, r);
    const parent = parentOf(r.id);
    let set = this.collections.get(parent);
    if (!set) this.collections.set(parent, (set = new Set()));
    set.add(key);
    return r;
  }
  /** Deletes the resource and everything under it; returns whether it existed. */
  delete(id: string): boolean {
    const key = lower(id);
    const existed = this.resources.has(key);
    const prefix = `${key}/`;
    for (const k of [...this.resources.keys()]) if (k === key || k.startsWith(prefix)) this.unlink(k);
    return existed;
  }
  private unlink(key: string): void {
    this.resources.delete(key);
    this.collections.get(key.slice(0, key.lastIndexOf('/')))?.delete(key);
  }
  /** Direct children under a collection path, e.g. `.../namespaces/ns/eventhubs`. */
  list(collectionPath: string): SimResource[] {
    const keys = this.collections.get(lower(collectionPath.replace(/\/+$/, '')));
    if (!keys) return [];
    const out: SimResource[] = [];
    for (const k of keys) {
      const r = this.resources.get(k);
      if (r) out.push(r);
    }
    return out.sort((a, b) => (lower(a.id) < lower(b.id) ? -1 : 1));
  }
  all(): IterableIterator<SimResource> {
    return this.resources.values();
  }
  get size(): number {
    return this.resources.size;
  }
}

export const storageServicesByKind = (kind: string, sku: string): string[] => {
  if (kind === 'BlobStorage' || kind === 'BlockBlobStorage') return ['blob'];
  if (kind === 'FileStorage') return ['file'];
  if (kind === 'StorageV2' && sku.startsWith('Premium')) return ['blob'];
  return ['blob', 'queue', 'table', 'file'];
};

export const rgId = (sub: string, rg: string) => `/subscriptions/${sub}/resourceGroups/${rg}`;
export const providerId = (sub: string, rg: string, type: string, name: string) => `${rgId(sub, rg)}/providers/${type}/${name}`;

export function addStorageAccount(st: SimState, sub: string, a: { name: string; resourceGroup: string; location: string; kind: string; sku: string }): SimResource {
  const id = providerId(sub, a.resourceGroup, 'Microsoft.Storage/storageAccounts', a.name);
  const tier = a.sku.startsWith('Premium') ? 'Premium' : 'Standard';
  const res = st.put({
    id, name: a.name, type: 'Microsoft.Storage/storageAccounts', subscriptionId: sub, resourceGroup: a.resourceGroup, location: a.location,
    kind: a.kind, sku: { name: a.sku, tier },
    properties: { provisioningState: 'Succeeded', primaryEndpoints: { blob: `https://${a.name}.blob.core.windows.net/` } },
  });
  // Service sub-resources exist only for the kinds that have them (azure-facts §1): settings on others 404.
  for (const svc of storageServicesByKind(a.kind, a.sku)) {
    st.put({ id: `${id}/${svc}Services/default`, name: 'default', type: `Microsoft.Storage/storageAccounts/${svc}Services`, subscriptionId: sub,
      resourceGroup: a.resourceGroup, location: a.location, properties: {} });
  }
  return res;
}

/**
 * A table of a workspace, as Tables_ListByWorkspace (2025-07-01, Tables.json) answers it: an Azure table in the
 * Analytics plan at the workspace's retention. What the reconciler reads to know which Entra tables a workspace holds.
 */
export function addWorkspaceTable(st: SimState, ws: SimResource, name: string): SimResource {
  return st.put({ id: `${ws.id}/tables/${name}`, name, type: 'Microsoft.OperationalInsights/workspaces/tables', subscriptionId: ws.subscriptionId, resourceGroup: ws.resourceGroup,
    properties: { retentionInDays: 30, totalRetentionInDays: 30, archiveRetentionInDays: 0, plan: 'Analytics', retentionInDaysAsDefault: true, totalRetentionInDaysAsDefault: true,
      provisioningState: 'Succeeded', schema: { name, tableType: 'Microsoft', tableSubType: 'Any', source: 'microsoft', columns: [], standardColumns: [] } } });
}

export function addResourceGroup(st: SimState, sub: string, name: string, location: string): SimResource {
  return st.put({ id: rgId(sub, name), name, type: 'Microsoft.Resources/resourceGroups', subscriptionId: sub, resourceGroup: name, location,
    properties: { provisioningState: 'Succeeded' } });
}

export function addNamespace(st: SimState, sub: string, rg: string, name: string, location: string, sku: string, capacity: number, provisioningState = 'Succeeded'): SimResource {
  const id = providerId(sub, rg, 'Microsoft.EventHub/namespaces', name);
  const now = new Date().toISOString();
  const ns = st.put({
    id, name, type: 'Microsoft.EventHub/Namespaces', subscriptionId: sub, resourceGroup: rg, location,
    sku: { name: sku, tier: sku, capacity },
    properties: { provisioningState, status: 'Active', serviceBusEndpoint: `https://${name}.servicebus.windows.net:443/`, metricId: `${sub}:${name}`, createdAt: now, updatedAt: now, kafkaEnabled: sku !== 'Basic' },
  });
  st.put({ id: `${id}/authorizationRules/RootManageSharedAccessKey`, name: 'RootManageSharedAccessKey', type: 'Microsoft.EventHub/Namespaces/AuthorizationRules',
    subscriptionId: sub, resourceGroup: rg, location, properties: { rights: ['Listen', 'Manage', 'Send'] } });
  return ns;
}

export function addHub(st: SimState, ns: SimResource, name: string, properties: Record<string, unknown>): SimResource {
  const partitionCount = typeof properties.partitionCount === 'number' ? properties.partitionCount : 4;
  const now = new Date().toISOString();
  const hub = st.put({
    id: `${ns.id}/eventhubs/${name}`, name, type: 'Microsoft.EventHub/Namespaces/EventHubs', subscriptionId: ns.subscriptionId,
    resourceGroup: ns.resourceGroup, location: ns.location,
    properties: { messageRetentionInDays: 1, ...properties, partitionCount, partitionIds: Array.from({ length: partitionCount }, (_, i) => String(i)), status: 'Active', createdAt: now, updatedAt: now },
  });
  st.put({ id: `${hub.id}/consumergroups/$Default`, name: '$Default', type: 'Microsoft.EventHub/Namespaces/EventHubs/ConsumerGroups', subscriptionId: ns.subscriptionId,
    resourceGroup: ns.resourceGroup, location: ns.location, properties: { createdAt: now, updatedAt: now } });
  return hub;
}

function seedSubscription(st: SimState, tenantId: string, s: ScenarioSubscription): void {
  const sub = s.subscriptionId;
  st.addSubscription({ subscriptionId: sub, displayName: s.displayName, state: s.state, homeTenantId: tenantId, delegated: s.delegated, managedByTenants: s.managedByTenants });
  // The Lighthouse registrations behind the visibility: the provider's, and each other managing tenant's.
  if (s.delegated) addDelegation(st, sub, st.providerTenantId, { grantsDelete: s.delegationGrantsDelete, manageeTenantId: tenantId });
  for (const other of s.managedByTenants) addDelegation(st, sub, other, { grantsDelete: true, manageeTenantId: tenantId });
  const rgs = new Map(s.resourceGroups.map((g) => [lower(g.name), g.location]));
  const ensureRg = (name: string, location: string) => {
    if (!rgs.has(lower(name))) rgs.set(lower(name), location);
    if (!st.get(rgId(sub, name))) addResourceGroup(st, sub, name, rgs.get(lower(name)) ?? location);
  };
  for (const g of s.resourceGroups) ensureRg(g.name, g.location);
  for (const a of s.storageAccounts) {
    ensureRg(a.resourceGroup, a.location);
    addStorageAccount(st, sub, a);
  }
  for (const v of s.keyVaults) {
    ensureRg(v.resourceGroup, v.location);
    st.put({ id: providerId(sub, v.resourceGroup, 'Microsoft.KeyVault/vaults', v.name), name: v.name, type: 'Microsoft.KeyVault/vaults', subscriptionId: sub,
      resourceGroup: v.resourceGroup, location: v.location, properties: { tenantId, sku: { family: 'A', name: 'standard' }, vaultUri: `https://${v.name}.vault.azure.net/` } });
  }
  for (const w of s.workspaces) {
    ensureRg(w.resourceGroup, w.location);
    const ws = st.put({ id: providerId(sub, w.resourceGroup, 'Microsoft.OperationalInsights/workspaces', w.name), name: w.name, type: 'Microsoft.OperationalInsights/workspaces',
      subscriptionId: sub, resourceGroup: w.resourceGroup, location: w.location,
      properties: { customerId: w.customerId ?? randomUUID(), provisioningState: 'Succeeded', sku: { name: 'PerGB2018' }, retentionInDays: 30 } });
    for (const t of w.tables) addWorkspaceTable(st, ws, t);
    for (const e of w.dataExports) {
      st.put({ id: `${ws.id}/dataExports/${e.name}`, name: e.name, type: 'Microsoft.OperationalInsights/workspaces/dataExports', subscriptionId: sub, resourceGroup: w.resourceGroup,
        properties: { dataExportId: randomUUID(), tableNames: e.tableNames, enable: e.enable, destination: { resourceId: e.destinationResourceId, type: e.destinationResourceId.toLowerCase().includes('microsoft.eventhub') ? 'EventHub' : 'StorageAccount', ...(e.eventHubName ? { metaData: { eventHubName: e.eventHubName } } : {}) } } });
    }
  }
  for (const d of s.diagnosticSettings) {
    const { resourceId, name, ...props } = d;
    const clean = Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined));
    const target = st.get(resourceId)?.id ?? resourceId; // canonical casing, like settings the simulator creates
    st.put({ id: `${target}/providers/microsoft.insights/diagnosticSettings/${name}`, name, type: 'Microsoft.Insights/diagnosticSettings', subscriptionId: sub, properties: clean });
  }
  for (const a of s.automations) {
    ensureRg(a.resourceGroup, a.location);
    const actions: Record<string, unknown>[] = [];
    if (a.eventHubResourceId) actions.push({ actionType: 'EventHub', eventHubResourceId: a.eventHubResourceId, sasPolicyName: 'customer-send' });
    if (a.workspaceResourceId) actions.push({ actionType: 'Workspace', workspaceResourceId: a.workspaceResourceId });
    st.put({ id: providerId(sub, a.resourceGroup, 'Microsoft.Security/automations', a.name), name: a.name, type: 'Microsoft.Security/automations', subscriptionId: sub,
      resourceGroup: a.resourceGroup, location: a.location, etag: randomUUID(), tags: {},
      properties: { isEnabled: a.isEnabled, scopes: [{ scopePath: `/subscriptions/${sub}` }], sources: a.eventSources.map((eventSource) => ({ eventSource })), actions } });
  }
  for (const al of s.alerts) {
    const base = al.resourceGroup ? rgId(sub, al.resourceGroup) : `/subscriptions/${sub}`;
    st.put({ id: `${base}/providers/Microsoft.Security/locations/${al.location}/alerts/${al.name}`, name: al.name, type: 'Microsoft.Security/Locations/alerts', subscriptionId: sub,
      ...(al.resourceGroup ? { resourceGroup: al.resourceGroup } : {}),
      properties: { status: al.status, severity: al.severity, alertDisplayName: al.alertDisplayName, alertType: 'SIM_SuspiciousActivity', systemAlertId: al.name, vendorName: 'Microsoft',
        productName: 'Microsoft Defender for Cloud', compromisedEntity: al.compromisedEntity ?? '', startTimeUtc: '2026-11-20T10:00:00Z', endTimeUtc: '2026-11-20T10:05:00Z', timeGeneratedUtc: '2026-11-20T10:06:00Z', intent: 'Execution', resourceIdentifiers: [] } });
  }
}

/** A Function App site with its app settings (what webApps.listApplicationSettings / updateApplicationSettings see). */
export function addFunctionApp(st: SimState, subscriptionId: string, resourceGroup: string, name: string, location: string): void {
  if (!st.get(rgId(subscriptionId, resourceGroup))) addResourceGroup(st, subscriptionId, resourceGroup, location);
  const site = st.put({ id: providerId(subscriptionId, resourceGroup, 'Microsoft.Web/sites', name), name, type: 'Microsoft.Web/sites', kind: 'functionapp,linux',
    subscriptionId, resourceGroup, location, properties: { state: 'Running' } });
  st.appSettings.set(lower(site.id), { FUNCTIONS_WORKER_RUNTIME: 'node' });
}

export function buildState(scenario: Scenario): SimState {
  const p = scenario.provider;
  const st = new SimState(p.tenantId, p.subscriptionId);
  st.tenants.set(lower(p.tenantId), { tenantId: p.tenantId, displayName: 'Provider' });
  st.addSubscription({ subscriptionId: p.subscriptionId, displayName: 'MDR provider', state: 'Enabled', homeTenantId: p.tenantId, delegated: false });
  const firstNsRegion = scenario.eventHubNamespaces[0]?.location ?? 'westeurope';
  addResourceGroup(st, p.subscriptionId, p.poolResourceGroup, firstNsRegion);
  for (const n of scenario.eventHubNamespaces) {
    if (!st.get(rgId(p.subscriptionId, n.resourceGroup))) addResourceGroup(st, p.subscriptionId, n.resourceGroup, n.location);
    const ns = addNamespace(st, p.subscriptionId, n.resourceGroup, n.name, n.location, n.sku, n.capacity);
    for (const h of n.hubs) addHub(st, ns, h.name, { partitionCount: h.partitionCount });
  }
  for (const fa of [...(p.functionApp ? [p.functionApp] : []), ...p.ingestApps]) addFunctionApp(st, p.subscriptionId, fa.resourceGroup, fa.name, firstNsRegion);
  for (const t of scenario.tenants) {
    st.tenants.set(lower(t.tenantId), { tenantId: t.tenantId, displayName: t.displayName });
    for (const s of t.subscriptions) seedSubscription(st, t.tenantId, s);
  }
  return st;
}
