import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAzureClients, staticTokenCredential, type AzureClients } from '../../src/lib/azure/clientFactory.js';
import { startArmSimulator, type ArmSimulator } from '../../sim/armSimulator.js';
import { loadScenario, type Scenario } from '../../sim/scenario.js';
import { generateScenario } from '../../sim/generateScenario.js';

const PROVIDER_SUB = 'b1d4e6f8-2a3c-4e5f-8a7b-9c0d1e2f3a04';
const PROD = '4a7e2c91-0b3d-4e6f-a58c-7d2e1f9b3c62';
const DEV = 'c2f9a4d7-8e1b-4c3a-9f6e-2b5d8a1c4e73';
const POOL_RG = 'rg-mdr-eventhubs';
const WEU_NS = 'ehns-mdr-weu-01';
const ns = (name: string) => `/subscriptions/${PROVIDER_SUB}/resourceGroups/${POOL_RG}/providers/Microsoft.EventHub/namespaces/${name}`;
const PROD_RG = (rg: string) => `/subscriptions/${PROD}/resourceGroups/${rg}`;
const KV_WEU = `${PROD_RG('rg-prod-security')}/providers/Microsoft.KeyVault/vaults/kv-contoso-prod-weu`;
const KV_UKS = `${PROD_RG('rg-prod-security')}/providers/Microsoft.KeyVault/vaults/kv-contoso-payments-uks`;
const BLOB_SVC = `${PROD_RG('rg-prod-data')}/providers/Microsoft.Storage/storageAccounts/stcontosoprodweu/blobServices/default`;
const fixture = (name: string): { body: unknown } => JSON.parse(readFileSync(new URL(`../fixtures/arm/${name}`, import.meta.url), 'utf8')) as { body: unknown };
/** Same keys and nesting as the documented example (values are ours). */
const shapeOf = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(shapeOf) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, shapeOf(x)])) : typeof v;
const strip = (id: string) => id.replace(/^\//, ''); // arm-monitor@8 resourceUri must not start with '/'
async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

let scenario: Scenario;
let sim: ArmSimulator;
let clients: AzureClients;
const clientsFor = (s: ArmSimulator, token = 'token-a') =>
  createAzureClients({ armEndpoint: s.url, credential: staticTokenCredential(token), tlsCa: s.ca, retry: { retryDelayInMs: 10, maxRetryDelayInMs: 50 } });

beforeAll(async () => {
  scenario = await loadScenario(new URL('../../scenarios/example.json', import.meta.url).pathname);
  sim = await startArmSimulator({ scenario, pageSize: 2, resourceGraphPageSize: 3, asyncOperationPolls: 2, recordResponses: true });
  clients = clientsFor(sim);
});
afterAll(async () => sim?.stop());

describe('ARM simulator against the real SDK clients', () => {
  it('lists delegated subscriptions across nextLink pages and hides a revoked one, whose calls then get 403', async () => {
    const client = await clients.subscriptions();
    sim.clearRequests();
    const subs = await collect(client.subscriptions.list());
    expect(subs.map((s) => s.subscriptionId).sort()).toEqual([PROD, PROVIDER_SUB, DEV, 'e5b1c8f3-7a2d-4e9b-b6c4-3f8a0d2e5b17'].sort());
    expect(sim.requests.filter((r) => r.path === '/subscriptions').length).toBe(2);
    const prod = subs.find((s) => s.subscriptionId === PROD);
    expect(prod?.managedByTenants?.[0]?.tenantId).toBe(scenario.provider.tenantId);
    expect(subs.find((s) => s.displayName?.includes('legacy'))?.state).toBe('Disabled');
    expect((await client.subscriptions.get(DEV)).displayName).toBe('contoso-dev');

    sim.state.revokeDelegation(DEV);
    try {
      const after = await collect(client.subscriptions.list());
      expect(after.map((s) => s.subscriptionId)).not.toContain(DEV);
      const mon = await clients.monitor();
      await expect(collect(mon.diagnosticSettings.list(`subscriptions/${DEV}`))).rejects.toMatchObject({ statusCode: 403, code: 'AuthorizationFailed' });
      await expect(client.subscriptions.get(DEV)).rejects.toMatchObject({ statusCode: 403 });
    } finally {
      const s = sim.state.subscription(DEV);
      if (s) s.delegated = true;
    }
  });

  it('pages Resource Graph results with a manual skipToken and rejects unsupported KQL', async () => {
    const graph = await clients.resourceGraph();
    const query = "Resources | where type in~ ('microsoft.storage/storageaccounts','microsoft.keyvault/vaults') | order by id asc | project id, name, type, location";
    sim.clearRequests();
    const rows: { id: string; type: string }[] = [];
    let skipToken: string | undefined;
    do {
      const page = await graph.resources({ query, subscriptions: [PROD, DEV], options: { resultFormat: 'objectArray', ...(skipToken ? { skipToken } : {}) } });
      rows.push(...(page.data as { id: string; type: string }[]));
      skipToken = page.skipToken;
    } while (skipToken);
    expect(rows).toHaveLength(7); // 4 storage accounts + 3 vaults in prod and dev
    expect(rows.map((r) => r.id)).toEqual([...rows.map((r) => r.id)].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)));
    expect(new Set(rows.map((r) => r.type))).toEqual(new Set(['microsoft.storage/storageaccounts', 'microsoft.keyvault/vaults']));
    const bodies = sim.requests.map((r) => r.body as { options?: Record<string, unknown> });
    expect(bodies).toHaveLength(3);
    const expectedKeys = (JSON.parse(readFileSync(new URL('../fixtures/arm/resourceGraphQuery.json', import.meta.url), 'utf8')) as { secondPageOptionsKeys: string[] }).secondPageOptionsKeys;
    for (const k of expectedKeys) expect(Object.keys(bodies[1]?.options ?? {})).toContain(k);
    expect(bodies[0]?.options?.$skipToken).toBeUndefined();

    const containers = await graph.resources({ query: "ResourceContainers | where type =~ 'microsoft.resources/subscriptions/resourcegroups' | where subscriptionId =~ '" + DEV + "'", subscriptions: [DEV] });
    expect((containers.data as { name: string }[]).map((r) => r.name)).toEqual(['rg-dev-apps', 'MDRAutomation']);
    await expect(graph.resources({ query: 'Resources | summarize count() by type', subscriptions: [PROD] })).rejects.toMatchObject({ statusCode: 400, code: 'InvalidQuery', message: expect.stringContaining('summarize') });
  });

  it('creates an Event Hubs namespace through the Azure-AsyncOperation LRO and manages hubs, consumer groups and rules', async () => {
    const eh = await clients.eventHub(PROVIDER_SUB);
    sim.clearRequests();
    const created = await eh.namespaces.createOrUpdate(POOL_RG, 'ehns-mdr-neu-01', { location: 'northeurope', sku: { name: 'Standard', tier: 'Standard', capacity: 1 } }, { updateIntervalInMs: 20 });
    expect(created.provisioningState).toBe('Succeeded');
    expect(sim.requests.map((r) => `${r.method} ${r.status} ${r.path.split('/').slice(-2).join('/')}`)).toEqual([
      'PUT 201 namespaces/ehns-mdr-neu-01',
      ...Array.from({ length: 3 }, () => expect.stringMatching(/^GET 200 operationStatus\//)),
      'GET 200 namespaces/ehns-mdr-neu-01',
    ]);
    expect((await collect(eh.namespaces.listByResourceGroup(POOL_RG))).map((n) => n.name).sort()).toEqual(['ehns-mdr-neu-01', WEU_NS]);

    const hub = await eh.eventHubs.createOrUpdate(POOL_RG, 'ehns-mdr-neu-01', 'tenant-a', { partitionCount: 4, messageRetentionInDays: 7 });
    expect(hub.partitionIds).toEqual(['0', '1', '2', '3']);
    expect(sim.requests.at(-1)?.body).toEqual({ properties: { partitionCount: 4, messageRetentionInDays: 7 } });
    await eh.consumerGroups.createOrUpdate(POOL_RG, 'ehns-mdr-neu-01', 'tenant-a', 'mdr-ingest', {});
    expect((await collect(eh.consumerGroups.listByEventHub(POOL_RG, 'ehns-mdr-neu-01', 'tenant-a'))).map((c) => c.name)).toEqual(['$Default', 'mdr-ingest']);
    expect((await eh.consumerGroups.get(POOL_RG, 'ehns-mdr-neu-01', 'tenant-a', '$Default')).name).toBe('$Default');

    const rules = await collect(eh.namespaces.listAuthorizationRules(POOL_RG, 'ehns-mdr-neu-01'));
    expect(rules.map((r) => r.name)).toEqual(['RootManageSharedAccessKey']);
    await eh.namespaces.createOrUpdateAuthorizationRule(POOL_RG, 'ehns-mdr-neu-01', 'mdr-diagnostics', { rights: ['Manage', 'Send', 'Listen'] });
    const nsKeys = await eh.namespaces.listKeys(POOL_RG, 'ehns-mdr-neu-01', 'mdr-diagnostics');
    expect(nsKeys.primaryConnectionString).toMatch(/^Endpoint=sb:\/\/ehns-mdr-neu-01\.servicebus\.windows\.net\/;SharedAccessKeyName=mdr-diagnostics;SharedAccessKey=[^;]+$/);
    await eh.eventHubs.createOrUpdateAuthorizationRule(POOL_RG, 'ehns-mdr-neu-01', 'tenant-a', 'defender-send', { rights: ['Send'] });
    const hubKeys = await eh.eventHubs.listKeys(POOL_RG, 'ehns-mdr-neu-01', 'tenant-a', 'defender-send');
    expect(hubKeys.primaryConnectionString).toMatch(/;EntityPath=tenant-a$/);

    await eh.eventHubs.delete(POOL_RG, 'ehns-mdr-neu-01', 'tenant-a');
    await expect(eh.eventHubs.get(POOL_RG, 'ehns-mdr-neu-01', 'tenant-a')).rejects.toMatchObject({ statusCode: 404 });
    await eh.namespaces.delete(POOL_RG, 'ehns-mdr-neu-01');
    expect(sim.state.get(ns('ehns-mdr-neu-01'))).toBeUndefined();
  });

  it('rejects the 11th event hub in a Standard namespace with QuotaExceeded', async () => {
    const eh = await clients.eventHub(PROVIDER_SUB);
    for (let i = 1; i <= 10; i++) await eh.eventHubs.createOrUpdate(POOL_RG, WEU_NS, `quota-${i}`, { partitionCount: 1 });
    await expect(eh.eventHubs.createOrUpdate(POOL_RG, WEU_NS, 'quota-11', { partitionCount: 1 })).rejects.toMatchObject({ statusCode: 400, code: 'QuotaExceeded' });
    for (let i = 1; i <= 10; i++) await eh.eventHubs.delete(POOL_RG, WEU_NS, `quota-${i}`);
  });

  it("answers a hub PUT beyond its namespace tier's retention or partition limit with the 400 ARM gives", async () => {
    // Microsoft docs, Event Hubs quotas: Standard 7 days and 32 partitions per hub, Premium 90 days and 100.
    const eh = await clients.eventHub(PROVIDER_SUB);
    const tooLong = eh.eventHubs.createOrUpdate(POOL_RG, WEU_NS, 'tier-a', { partitionCount: 4, retentionDescription: { cleanupPolicy: 'Delete', retentionTimeInHours: 169 } });
    await expect(tooLong).rejects.toMatchObject({ statusCode: 400, code: 'BadRequest', message: expect.stringContaining("for RetentionTimeInHours isn't valid for the Standard tier. the value can't exceed '168' hour(s)") });
    await expect(eh.eventHubs.createOrUpdate(POOL_RG, WEU_NS, 'tier-a', { partitionCount: 4, messageRetentionInDays: 8 })).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining("can't exceed '7' day(s)") });
    await expect(eh.eventHubs.createOrUpdate(POOL_RG, WEU_NS, 'tier-a', { partitionCount: 33 })).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining("The value '33' for PartitionCount isn't valid for the Standard tier. the value can't exceed '32'") });
    expect(sim.state.get(`${ns(WEU_NS)}/eventhubs/tier-a`)).toBeUndefined();
    // At the limits, and a later retention change beyond them on an existing hub is refused too.
    await eh.eventHubs.createOrUpdate(POOL_RG, WEU_NS, 'tier-a', { partitionCount: 32, retentionDescription: { cleanupPolicy: 'Delete', retentionTimeInHours: 168 } });
    await expect(eh.eventHubs.createOrUpdate(POOL_RG, WEU_NS, 'tier-a', { partitionCount: 32, retentionDescription: { cleanupPolicy: 'Delete', retentionTimeInHours: 720 } })).rejects.toMatchObject({ statusCode: 400 });
    await eh.eventHubs.delete(POOL_RG, WEU_NS, 'tier-a');

    await eh.namespaces.createOrUpdate(POOL_RG, 'ehns-mdr-prem-01', { location: 'westeurope', sku: { name: 'Premium', tier: 'Premium', capacity: 1 } }, { updateIntervalInMs: 20 });
    const premium = await eh.eventHubs.createOrUpdate(POOL_RG, 'ehns-mdr-prem-01', 'tier-p', { partitionCount: 100, retentionDescription: { cleanupPolicy: 'Delete', retentionTimeInHours: 2160 } });
    expect(premium.partitionIds).toHaveLength(100);
    await expect(eh.eventHubs.createOrUpdate(POOL_RG, 'ehns-mdr-prem-01', 'tier-p2', { partitionCount: 101 })).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining("isn't valid for the Premium tier. the value can't exceed '100'") });
    await eh.eventHubs.createOrUpdate(POOL_RG, 'ehns-mdr-prem-01', 'tier-p2', { partitionCount: 100 });
    // 200 partitions per processing unit, namespace-wide.
    await expect(eh.eventHubs.createOrUpdate(POOL_RG, 'ehns-mdr-prem-01', 'tier-p3', { partitionCount: 1 })).rejects.toMatchObject({ statusCode: 400, code: 'QuotaExceeded' });
    await eh.namespaces.delete(POOL_RG, 'ehns-mdr-prem-01');
  });

  it('puts, gets, pages and deletes diagnostic settings with the documented wire shape and enforces the Azure rules', async () => {
    const mon = await clients.monitor();
    const ruleId = `${ns(WEU_NS)}/authorizationRules/RootManageSharedAccessKey`;
    sim.clearRequests();
    const put = await mon.diagnosticSettings.createOrUpdate(strip(KV_WEU), 'mdr-export', { eventHubAuthorizationRuleId: ruleId, eventHubName: 'tenant-contoso', logs: [{ categoryGroup: 'allLogs', enabled: true }] });
    expect(put.eventHubName).toBe('tenant-contoso');
    const wire = sim.requests.at(-1);
    expect(wire?.path).toBe(`${KV_WEU}/providers/Microsoft.Insights/diagnosticSettings/mdr-export`);
    expect(shapeOf(wire?.body)).toEqual(shapeOf(fixture('diagnosticSettingPut.json').body));
    expect((await mon.diagnosticSettings.get(strip(KV_WEU), 'mdr-export')).logs).toEqual([{ categoryGroup: 'allLogs', enabled: true }]);
    expect((await collect(mon.diagnosticSettings.list(strip(KV_WEU)))).map((s) => s.name)).toEqual(['mdr-export', 'to-sentinel']);

    // Five customer settings on the blob service: one answer even with pageSize 2 (the spec's list is not pageable:
    // DiagnosticSettingsResourceCollection has only `value`), and a sixth is refused.
    sim.clearRequests();
    expect(await collect(mon.diagnosticSettings.list(strip(BLOB_SVC)))).toHaveLength(5);
    expect(sim.requests).toHaveLength(1);
    expect(Object.keys(sim.requests[0]?.response?.body as object)).toEqual(['value']);
    await expect(mon.diagnosticSettings.createOrUpdate(strip(BLOB_SVC), 'mdr-export', { eventHubAuthorizationRuleId: ruleId, logs: [{ category: 'StorageRead', enabled: true }] }))
      .rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('more than 5') });

    await expect(mon.diagnosticSettings.createOrUpdate(strip(KV_UKS), 'mdr-export', { eventHubAuthorizationRuleId: ruleId, logs: [{ categoryGroup: 'allLogs', enabled: true }] }))
      .rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('same region') });
    await expect(mon.diagnosticSettings.createOrUpdate(strip(KV_WEU), 'bad-cat', { eventHubAuthorizationRuleId: ruleId, logs: [{ category: 'StorageRead', enabled: true }] }))
      .rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining("Category 'StorageRead'") });
    const fileOnly = `${PROD_RG('rg-prod-dr')}/providers/Microsoft.Storage/storageAccounts/stcontosofilesneu`;
    await expect(mon.diagnosticSettings.createOrUpdate(strip(`${fileOnly}/blobServices/default`), 'mdr-export', { workspaceId: 'x', logs: [{ category: 'StorageRead', enabled: true }] }))
      .rejects.toMatchObject({ statusCode: 404, code: 'ResourceNotFound' });

    // Subscription scope is global: a namespace in any region is accepted.
    const act = await mon.diagnosticSettings.createOrUpdate(`subscriptions/${PROD}`, 'mdr-activity', { eventHubAuthorizationRuleId: ruleId, logs: [{ category: 'Administrative', enabled: true }] });
    expect(act.name).toBe('mdr-activity');
    await mon.diagnosticSettings.delete(strip(KV_WEU), 'mdr-export');
    await mon.diagnosticSettings.delete(strip(KV_WEU), 'mdr-export'); // absent: 204, still success
    expect(sim.requests.slice(-2).map((r) => r.status)).toEqual([200, 204]);
  });

  it('manages workspace data exports: documented body, region rule and the 10 enabled rules limit', async () => {
    const oi = await clients.operationalInsights(PROD);
    const dest = ns(WEU_NS);
    sim.clearRequests();
    const created = await oi.dataExports.createOrUpdate('rg-prod-security', 'log-contoso-sentinel', 'mdr-entra', { tableNames: ['SigninLogs'], destination: { resourceId: dest, eventHubName: 'tenant-contoso' }, enable: true });
    expect(created.destination?.type).toBe('EventHub');
    expect(sim.requests.at(-1)?.status).toBe(201);
    expect(shapeOf(sim.requests.at(-1)?.body)).toEqual(shapeOf(fixture('dataExportPut.json').body));

    const neu = await (await clients.eventHub(PROVIDER_SUB)).namespaces.createOrUpdate(POOL_RG, 'ehns-other-region', { location: 'northeurope', sku: { name: 'Standard', tier: 'Standard' } }, { updateIntervalInMs: 20 });
    await expect(oi.dataExports.createOrUpdate('rg-prod-security', 'log-contoso-sentinel', 'mdr-neu', { tableNames: ['AuditLogs'], destination: { resourceId: neu.id ?? '' }, enable: true }))
      .rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining("workspace region 'westeurope'") });

    for (let i = 2; i <= 10; i++) await oi.dataExports.createOrUpdate('rg-prod-security', 'log-contoso-sentinel', `rule-${i}`, { tableNames: ['AuditLogs'], destination: { resourceId: dest }, enable: true });
    await expect(oi.dataExports.createOrUpdate('rg-prod-security', 'log-contoso-sentinel', 'rule-11', { tableNames: ['AuditLogs'], destination: { resourceId: dest }, enable: true }))
      .rejects.toMatchObject({ statusCode: 400 });
    const disabled = await oi.dataExports.createOrUpdate('rg-prod-security', 'log-contoso-sentinel', 'rule-11', { tableNames: ['AuditLogs'], destination: { resourceId: dest }, enable: false });
    expect(disabled.enable).toBe(false);
    expect(await collect(oi.dataExports.listByWorkspace('rg-prod-security', 'log-contoso-sentinel'))).toHaveLength(11);
    for (let i = 2; i <= 11; i++) await oi.dataExports.delete('rg-prod-security', 'log-contoso-sentinel', `rule-${i}`);
    await oi.dataExports.delete('rg-prod-security', 'log-contoso-sentinel', 'mdr-entra');
    await oi.dataExports.delete('rg-prod-security', 'log-contoso-sentinel', 'mdr-entra'); // 404 is an expected delete status
    expect(sim.requests.at(-1)?.status).toBe(404);
  });

  it('stores Defender automations without ever returning the connection string, and pages the subscription list', async () => {
    const sec = await clients.security(PROD);
    const cs = 'Endpoint=sb://ehns-mdr-weu-01.servicebus.windows.net/;SharedAccessKeyName=defender-send;SharedAccessKey=abc=;EntityPath=tenant-contoso';
    for (const name of ['mdr-export', 'other-a', 'other-b']) {
      await sec.automations.createOrUpdate('rg-prod-security', name, {
        location: 'westeurope', isEnabled: true, scopes: [{ scopePath: `/subscriptions/${PROD}` }], sources: [{ eventSource: 'Alerts' }],
        actions: [{ actionType: 'EventHub', eventHubResourceId: `${ns(WEU_NS)}/eventhubs/tenant-contoso`, connectionString: cs }],
      });
    }
    // Wire: location top level, the rest nested under properties (the SDK model is flat).
    const sent = sim.requests.at(-1)?.body as { location?: string; properties?: { actions?: { actionType?: string }[]; isEnabled?: boolean } };
    expect(sent.location).toBe('westeurope');
    expect(sent.properties?.isEnabled).toBe(true);
    expect(sent.properties?.actions?.[0]?.actionType).toBe('EventHub');
    const got = await sec.automations.get('rg-prod-security', 'mdr-export');
    expect(got.actions?.[0]).toMatchObject({ actionType: 'EventHub', sasPolicyName: 'defender-send' });
    expect(JSON.stringify(got)).not.toContain('SharedAccessKey=');
    expect(sim.state.automationSecrets.get(`${PROD_RG('rg-prod-security')}/providers/Microsoft.Security/automations/mdr-export`.toLowerCase())).toEqual([cs]);
    sim.clearRequests();
    expect((await collect(sec.automations.list())).map((a) => a.name).sort()).toEqual(['mdr-export', 'other-a', 'other-b']);
    expect(sim.requests.length).toBe(2);
    await sec.automations.delete('rg-prod-security', 'other-a');
    await expect(sec.automations.get('rg-prod-security', 'other-a')).rejects.toMatchObject({ statusCode: 404 });
  });

  it('changes a Defender alert state with the state POSTs and 404s an unknown alert', async () => {
    const sec = await clients.security(PROD);
    const name = scenario.tenants[0]?.subscriptions[0]?.alerts[0]?.name ?? '';
    await sec.alerts.updateSubscriptionLevelStateToDismiss('westeurope', name);
    expect((await sec.alerts.getSubscriptionLevel('westeurope', name)).status).toBe('Dismissed');
    await sec.alerts.updateSubscriptionLevelStateToActivate('westeurope', name);
    expect((await sec.alerts.getSubscriptionLevel('westeurope', name)).status).toBe('Active');
    await expect(sec.alerts.updateSubscriptionLevelStateToResolve('westeurope', 'no-such-alert')).rejects.toMatchObject({ statusCode: 404 });
  });

  it('reads and replaces function app settings as WebSiteManagementClient sends them', async () => {
    const web = await clients.appService(PROVIDER_SUB);
    const fa = scenario.provider.functionApp;
    if (!fa) throw new Error('example scenario has a function app');
    await web.webApps.updateApplicationSettings(fa.resourceGroup, fa.name, { properties: { INGEST_HUBS: 'tenant-a,tenant-b' } });
    expect(sim.requests.at(-1)?.body).toEqual({ properties: { INGEST_HUBS: 'tenant-a,tenant-b' } });
    expect((await web.webApps.listApplicationSettings(fa.resourceGroup, fa.name)).properties).toEqual({ INGEST_HUBS: 'tenant-a,tenant-b' });
  });

  it('matches paths case-insensitively, returns canonical ids, and 404s a resource the customer deleted', async () => {
    const lowerPath = `${KV_WEU}/providers/microsoft.insights/diagnosticsettings/to-sentinel`.toLowerCase();
    const res = await fetchSim(sim, 'GET', `${lowerPath}?api-version=2021-05-01-preview`);
    expect(res.status).toBe(200);
    expect((res.body as { id: string }).id).toBe(`${KV_WEU}/providers/microsoft.insights/diagnosticSettings/to-sentinel`);
    const dev = `/subscriptions/${DEV}/resourceGroups/rg-dev-apps/providers/Microsoft.KeyVault/vaults/kv-contoso-dev-neu`;
    sim.state.delete(dev);
    const mon = await clients.monitor();
    await expect(collect(mon.diagnosticSettings.list(strip(dev)))).rejects.toMatchObject({ statusCode: 404, code: 'ResourceNotFound' });
  });

  it('answers unknown paths with an ARM 404 and never a 500', async () => {
    const res = await fetchSim(sim, 'GET', `/subscriptions/${PROD}/resourceGroups/x/providers/Microsoft.Compute/virtualMachines/vm1?api-version=2024-01-01`);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: { code: 'NoRegisteredProviderFound' } });
  });
});

async function fetchSim(s: ArmSimulator, method: string, path: string, body?: unknown, token = 'token-a'): Promise<{ status: number; body: unknown; headers: Record<string, string | string[] | undefined> }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(`${s.url}${path}`, { method, ca: s.ca, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as unknown) : undefined, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** A clock that stands still until the test moves it (advanceClock): bucket refills do not depend on how fast requests go. */
const stillClock = () => 1_700_000_000_000;

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

describe('ARM simulator throttling and faults', () => {
  it('returns 429 with Retry-After when a small read bucket is empty, and the SDK retries until the burst succeeds', async () => {
    const s = await startArmSimulator({ scenario, clock: stillClock, throttle: { readBucket: 5, readRefillPerSec: 5, writeBucket: 5, writeRefillPerSec: 5 } });
    try {
      const sub = await clientsFor(s).subscriptions();
      const burst = Promise.all(Array.from({ length: 8 }, () => sub.subscriptions.get(PROD)));
      // The clock stands still: 5 of the 8 drain the bucket, 3 are told to retry after 1 s; a second later it holds 5 again.
      await until(() => s.counts().throttled >= 3);
      s.advanceClock(1000);
      const results = await burst;
      expect(results.every((r) => r.subscriptionId === PROD)).toBe(true);
      const throttled = s.requests.filter((r) => r.status === 429);
      expect(throttled).toHaveLength(3);
      expect(s.counts().throttled).toBe(3);
      // 2 tokens left after the 3 retries: 2 of 7 pass, 5 are limited.
      const raws = await Promise.all(Array.from({ length: 7 }, () => fetchSim(s, 'GET', `/subscriptions/${PROD}?api-version=2022-12-01`)));
      expect(raws.filter((r) => r.status === 429)).toHaveLength(5);
      const limited = raws.find((r) => r.status === 429);
      expect(limited?.body).toMatchObject({ error: { code: 'TooManyRequests' } });
      expect(Number(limited?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(limited?.headers['x-ms-ratelimit-remaining-subscription-reads']).toBe('0');
    } finally {
      await s.stop();
    }
  }, 20_000);

  it('throttles per principal: another token has its own bucket', async () => {
    const s = await startArmSimulator({ scenario, clock: stillClock, throttle: { readBucket: 2, readRefillPerSec: 1, writeBucket: 2, writeRefillPerSec: 1 } });
    try {
      const statuses = async (token: string) => {
        const out: number[] = [];
        for (let i = 0; i < 3; i++) {
          const { request } = await import('node:https');
          out.push(await new Promise<number>((resolve, reject) => {
            const req = request(`${s.url}/subscriptions/${PROD}?api-version=x`, { ca: s.ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            });
            req.on('error', reject);
            req.end();
          }));
        }
        return out;
      };
      expect(await statuses('token-a')).toEqual([200, 200, 429]);
      expect(await statuses('token-b')).toEqual([200, 200, 429]);
      expect(s.requests.find((r) => r.status === 429)?.principal).toBe('token-a');
    } finally {
      await s.stop();
    }
  });

  it('limits Resource Graph queries per principal with a window quota', async () => {
    const s = await startArmSimulator({ scenario, clock: stillClock, throttle: true, resourceGraphQuota: { queries: 2, windowSeconds: 5 } });
    try {
      const q = { query: 'Resources', subscriptions: [PROD] };
      const r = [];
      for (let i = 0; i < 3; i++) r.push(await fetchSim(s, 'POST', '/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01', q));
      expect(r.map((x) => x.status)).toEqual([200, 200, 429]);
      expect(Number(r[2]?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect((await fetchSim(s, 'POST', '/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01', q, 'token-b')).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

  it('injects connection resets and slow responses', async () => {
    const s = await startArmSimulator({ scenario, faults: { rateReset: 1 } });
    try {
      await expect(fetchSim(s, 'GET', `/subscriptions/${PROD}?api-version=x`)).rejects.toThrow(/socket hang up|ECONNRESET/);
      expect(s.requests[0]?.faulted).toBe('reset');
      s.setFaults({ rateSlow: 1, slowMs: 150 });
      const t0 = Date.now();
      expect((await fetchSim(s, 'GET', `/subscriptions/${PROD}?api-version=x`)).status).toBe(200);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
      expect(s.requests[1]?.faulted).toBe('slow');
    } finally {
      await s.stop();
    }
  });

  it('injects seeded 429 and 500 faults that the SDK retries through, and records them', async () => {
    const s = await startArmSimulator({ scenario, seed: 7, faults: { rate429: 0.3, rate500: 0.2, retryAfterSeconds: 0, only: 'read' } });
    try {
      const sub = await clientsFor(s).subscriptions();
      for (let i = 0; i < 10; i++) expect((await sub.subscriptions.get(DEV)).subscriptionId).toBe(DEV);
      expect(s.counts().faults).toBeGreaterThan(0);
      expect(s.requests.filter((r) => r.faulted === '429' || r.faulted === '500').length).toBe(s.counts().faults);
      s.setFaults({ rate429NoRetryAfter: 1 });
      await expect(sub.subscriptions.get(DEV)).rejects.toMatchObject({ statusCode: 429 });
      expect(s.requests.filter((r) => r.faulted === '429-no-retry-after')).toHaveLength(1); // not retried without Retry-After
      s.setFaults({ rate409: 1, only: 'write' });
      expect((await sub.subscriptions.get(DEV)).subscriptionId).toBe(DEV); // reads are spared by only: 'write'
      const eh = await clientsFor(s).eventHub(PROVIDER_SUB);
      await expect(eh.eventHubs.createOrUpdate(POOL_RG, WEU_NS, 'x', { partitionCount: 1 })).rejects.toMatchObject({ statusCode: 409, code: 'AnotherOperationInProgress' });
    } finally {
      await s.stop();
    }
  });
});

describe('scenarios', () => {
  // How fast it generates is the bench's business (no timed assertions in tests); here: what it generates.
  it('generates 100 subscriptions with 10,000 resources, the same for the same seed, and the simulator serves them', async () => {
    const big = generateScenario({ subscriptions: 100, resources: 10_000, seed: 42 });
    const subs = big.tenants.flatMap((t) => t.subscriptions);
    expect(subs).toHaveLength(100);
    expect(subs.reduce((n, s) => n + s.storageAccounts.length + s.keyVaults.length, 0)).toBe(10_000);
    expect(generateScenario({ subscriptions: 100, resources: 10_000, seed: 42 })).toEqual(big);
    const s = await startArmSimulator({ scenario: big });
    try {
      const graph = await clientsFor(s).resourceGraph();
      const page = await graph.resources({ query: 'Resources | project id', subscriptions: subs.map((x) => x.subscriptionId) });
      expect(page.totalRecords).toBe(10_000);
      expect(page.count).toBe(1000);
      expect(page.skipToken).toBeTruthy();
    } finally {
      await s.stop();
    }
  });

  it('explains an invalid scenario file with the JSON path and what is expected', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scenario-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ provider: { tenantId: 'nope', subscriptionId: PROD, poolResourceGroup: 'rg' }, tenants: [{ tenantId: PROD, displayName: 'x', subscriptions: [{ subscriptionId: DEV, displayName: 'd', storageAccounts: [{ name: 'Bad_Name', resourceGroup: 'rg', location: 'westeurope', kind: 'StorageV2' }] }] }] }));
    await expect(loadScenario(file)).rejects.toThrow(/\$\.provider\.tenantId: expected a GUID[\s\S]*\$\.tenants\.0\.subscriptions\.0\.storageAccounts\.0\.name: expected 3-24 lowercase/);
  });

  it('logs every change under a subscription in the activity log, which ActivityLogs_List pages with its $filter kept', async () => {
    const from = new Date(sim.now() - 1000);
    const mon = await clients.monitor();
    const rule = `${ns(WEU_NS)}/authorizationRules/RootManageSharedAccessKey`;
    for (const name of ['al-1', 'al-2', 'al-3']) await mon.diagnosticSettings.createOrUpdate(strip(KV_WEU), name, { eventHubAuthorizationRuleId: rule, logs: [{ category: 'AuditEvent', enabled: true }] });
    await mon.diagnosticSettings.delete(strip(KV_WEU), 'al-2');
    await (await clientsFor(sim, 'someone-else').monitor()).diagnosticSettings.delete(strip(KV_WEU), 'al-3');
    await mon.diagnosticSettings.list(strip(KV_WEU)).next(); // reads are not logged
    const feed = (await clients.monitor(PROD)).activityLogs;
    sim.clearRequests();
    const window = `eventTimestamp ge '${from.toISOString()}' and eventTimestamp le '${new Date(sim.now() + 1000).toISOString()}'`;
    const events = await collect(feed.list(`${window} and resourceProvider eq 'Microsoft.Insights'`));
    expect(sim.requests.length).toBe(3); // five events, pages of two: the nextLinks kept the filter
    expect(events.map((e) => `${e.operationName?.value} ${e.resourceId?.split('/').at(-1)} ${e.caller}`)).toEqual([
      'Microsoft.Insights/diagnosticSettings/delete al-3 someone-else',
      'Microsoft.Insights/diagnosticSettings/delete al-2 token-a',
      'Microsoft.Insights/diagnosticSettings/write al-3 token-a',
      'Microsoft.Insights/diagnosticSettings/write al-2 token-a',
      'Microsoft.Insights/diagnosticSettings/write al-1 token-a',
    ]);
    expect(events[0]?.resourceId).toBe(`${KV_WEU}/providers/Microsoft.Insights/diagnosticSettings/al-3`);
    expect(events[0]?.eventTimestamp).toBeInstanceOf(Date);
    expect(await collect(feed.list(`${window} and resourceProvider eq 'Microsoft.Storage'`))).toEqual([]);
    // the service requires a start time and accepts only its documented patterns
    await expect(collect(feed.list(`resourceProvider eq 'Microsoft.Insights'`))).rejects.toMatchObject({ statusCode: 400 });
    await expect(collect(feed.list(`${window} and caller eq 'x'`))).rejects.toMatchObject({ statusCode: 400 });
  });

  it('returns events of the same millisecond newest first too (the clock stands still here)', async () => {
    const at = Date.UTC(2026, 10, 1, 12);
    const still = await startArmSimulator({ scenario, pageSize: 2, clock: () => at });
    try {
      const mon = await clientsFor(still).monitor();
      const rule = `${ns(WEU_NS)}/authorizationRules/RootManageSharedAccessKey`;
      for (const name of ['tie-1', 'tie-2']) await mon.diagnosticSettings.createOrUpdate(strip(KV_WEU), name, { eventHubAuthorizationRuleId: rule, logs: [{ category: 'AuditEvent', enabled: true }] });
      await mon.diagnosticSettings.delete(strip(KV_WEU), 'tie-1');
      const window = `eventTimestamp ge '${new Date(at - 1000).toISOString()}' and eventTimestamp le '${new Date(at + 1000).toISOString()}'`;
      const events = await collect((await clientsFor(still).monitor(PROD)).activityLogs.list(`${window} and resourceProvider eq 'Microsoft.Insights'`));
      expect(events.map((e) => `${e.operationName?.value} ${e.resourceId?.split('/').at(-1)}`)).toEqual([
        'Microsoft.Insights/diagnosticSettings/delete tie-1',
        'Microsoft.Insights/diagnosticSettings/write tie-2',
        'Microsoft.Insights/diagnosticSettings/write tie-1',
      ]);
    } finally {
      await still.stop();
    }
  });
});
