import azf from '@azure/functions';
import type { HttpResponseInit } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { startArmSimulator } from '../../../sim/armSimulator.js';
import { parseScenario, type ScenarioInput } from '../../../sim/scenario.js';
import { createAzureClients, staticTokenCredential } from '../../../src/lib/azure/clientFactory.js';
import { parseSettings } from '../../../src/lib/config/settings.js';
import { createDeleteTenantHandler, createPutTenantHandler, type OnboardingHttpDeps } from '../../../src/lib/onboarding/httpHandlers.js';
import { ingestTriggers } from '../../../src/lib/onboarding/ingestTriggers.js';
import { createRegistry } from '../../../src/lib/registry/createRegistry.js';
import { useAzurite } from '../../support/azurite.js';

const { HttpRequest, InvocationContext } = azf;

const PROVIDER = '11111111-1111-1111-1111-111111111111';
const PROVIDER_SUB = '22222222-2222-2222-2222-222222222222';
const CUSTOMER = 'cccccccc-0000-4000-8000-000000000001';
const CUSTOMER_SUB = 'dddddddd-0000-4000-8000-000000000001';
const APP_ID = `/subscriptions/${PROVIDER_SUB}/resourceGroups/mdr-app/providers/Microsoft.Web/sites/mdr-func`;
const STORAGE_SECRET = 'DefaultEndpointsProtocol=https;AccountName=mdrstore;AccountKey=c2VjcmV0LWtleS1kby1ub3QtbG9n;EndpointSuffix=core.windows.net';
const SECRET = /SharedAccessKey|AccountKey|c2VjcmV0|Endpoint=sb:\/\//i;
const tid = (i: number) => `aaaaaaaa-0000-4000-8000-${String(i).padStart(12, '0')}`;

const scenario: ScenarioInput = {
  provider: { tenantId: PROVIDER, subscriptionId: PROVIDER_SUB, poolResourceGroup: 'mdr-ingest', functionApp: { resourceGroup: 'mdr-app', name: 'mdr-func' } },
  tenants: [
    {
      tenantId: CUSTOMER,
      displayName: 'Customer',
      subscriptions: [
        {
          subscriptionId: CUSTOMER_SUB,
          displayName: 'Customer prod',
          resourceGroups: [{ name: 'MDRAutomation', location: 'westeurope' }, { name: 'secops', location: 'westeurope' }],
          diagnosticSettings: [
            { resourceId: `/subscriptions/${CUSTOMER_SUB}`, name: 'customer-siem', workspaceId: `/subscriptions/${CUSTOMER_SUB}/resourceGroups/secops/providers/Microsoft.OperationalInsights/workspaces/siem`, logs: [{ categoryGroup: 'allLogs', enabled: true }] },
            { resourceId: `/subscriptions/${CUSTOMER_SUB}`, name: 'mdr-export', eventHubAuthorizationRuleId: `/subscriptions/${PROVIDER_SUB}/resourceGroups/mdr-ingest/providers/Microsoft.EventHub/namespaces/mdr-ingest-westeurope-01/authorizationRules/mdr-diagnostics`, eventHubName: `mdr-${CUSTOMER}`, logs: [{ categoryGroup: 'allLogs', enabled: true }] },
          ],
          automations: [
            { name: 'mdr-defender-export', resourceGroup: 'MDRAutomation', location: 'westeurope', eventHubResourceId: `/subscriptions/${PROVIDER_SUB}/resourceGroups/mdr-ingest/providers/Microsoft.EventHub/namespaces/mdr-ingest-westeurope-01/eventhubs/mdr-${CUSTOMER}` },
            { name: 'customer-soar', resourceGroup: 'secops', location: 'westeurope', workspaceResourceId: `/subscriptions/${CUSTOMER_SUB}/resourceGroups/secops/providers/Microsoft.OperationalInsights/workspaces/siem` },
          ],
        },
      ],
    },
  ],
};

const az = useAzurite();
let tables = 0;

async function world(env: Record<string, string> = {}) {
  const sim = await startArmSimulator({ scenario: parseScenario(scenario), asyncOperationPolls: 1 });
  sim.state.appSettings.set(APP_ID.toLowerCase(), { FUNCTIONS_WORKER_RUNTIME: 'node', AzureWebJobsStorage: STORAGE_SECRET });
  const baseEnv = {
    MDR_PROVIDER_TENANT_ID: PROVIDER,
    MDR_PROVIDER_SUBSCRIPTION_ID: PROVIDER_SUB,
    MDR_INGEST_PRINCIPAL_ID: '33333333-3333-3333-3333-333333333333',
    MDR_FUNCTION_APP_RESOURCE_ID: APP_ID,
    MDR_EH_POOL_REGIONS: 'westeurope',
    AzureWebJobsStorage: az.connectionString,
    MDR_TABLE_PREFIX: `onb${++tables}x${Date.now() % 100000}`,
  };
  const make = (extra: Record<string, string>) => {
    const settings = parseSettings({ ...baseEnv, ...env, ...extra });
    return settings;
  };
  const settings = make({});
  const clients = createAzureClients({ armEndpoint: sim.url, credential: staticTokenCredential(), tlsCa: sim.ca, retry: { maxRetries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 50 } });
  const registry = createRegistry(settings);
  const logs: string[] = [];
  const responses: string[] = [];
  const depsFor = (s = settings): OnboardingHttpDeps => ({ settings: s, registry, clients, lroPollMs: 10 });
  const ctx = () => new InvocationContext({ functionName: 'tenants', invocationId: 'inv', logHandler: (level, ...args) => logs.push(`${level} ${args.map(String).join(' ')}`) });
  const send = async (h: (r: InstanceType<typeof HttpRequest>, c: InstanceType<typeof InvocationContext>) => Promise<HttpResponseInit>, method: string, id: string, body?: unknown, query = '') => {
    const req = new HttpRequest({ method, url: `http://localhost/api/tenants/${id}${query}`, params: { id }, ...(body === undefined ? {} : { body: { string: JSON.stringify(body) } }) });
    const res = (await h(req, ctx())) as HttpResponseInit & { jsonBody: Record<string, unknown> };
    responses.push(JSON.stringify(res));
    return res;
  };
  const put = (id: string, s = settings) => send(createPutTenantHandler(depsFor(s)), 'PUT', id, { displayName: `Tenant ${id.slice(-4)}` });
  const del = (id: string, query = '') => send(createDeleteTenantHandler(depsFor()), 'DELETE', id, undefined, query);
  const appSettings = () => ({ ...(sim.state.appSettings.get(APP_ID.toLowerCase()) ?? {}) });
  const poolHubs = () => {
    const out: Record<string, string[]> = {};
    for (const ns of sim.state.list(`/subscriptions/${PROVIDER_SUB}/resourceGroups/mdr-ingest/providers/Microsoft.EventHub/namespaces`)) out[ns.name] = sim.state.list(`${ns.id}/eventhubs`).map((h) => h.name);
    return out;
  };
  return { sim, settings, make, registry, logs, responses, put, del, appSettings, poolHubs, baseEnv };
}

async function inBatches<T>(items: T[], size: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

describe('onboarding against the ARM simulator and Azurite', () => {
  it('onboarding 25 tenants in one region fills three Standard namespaces 10/10/5, growing the pool twice', async () => {
    const w = await world();
    try {
      const ids = Array.from({ length: 25 }, (_, i) => tid(i + 1));
      const statuses: number[] = [];
      await inBatches(ids, 5, async (id) => statuses.push((await w.put(id)).status!));
      expect(statuses.every((s) => s === 201)).toBe(true);
      const hubs = w.poolHubs();
      expect(Object.keys(hubs).sort()).toEqual(['mdr-ingest-westeurope-01', 'mdr-ingest-westeurope-02', 'mdr-ingest-westeurope-03']);
      expect(Object.keys(hubs).sort().map((n) => hubs[n]!.length)).toEqual([10, 10, 5]);
      const records = (await w.registry.listNamespaces('westeurope')).sort((a, b) => a.namespace.localeCompare(b.namespace));
      expect(records.map((n) => [n.tenants.length, n.state])).toEqual([[10, 'ready'], [10, 'ready'], [5, 'ready']]);
      expect(w.sim.requests.filter((r) => r.method === 'PUT' && /\/namespaces\/[^/]+$/.test(r.path))).toHaveLength(3);
      // every hub has its consumer group and Send rule, every namespace its diagnostics rule
      const nsId = `/subscriptions/${PROVIDER_SUB}/resourceGroups/mdr-ingest/providers/Microsoft.EventHub/namespaces/mdr-ingest-westeurope-03`;
      expect(w.sim.state.list(`${nsId}/authorizationRules`).map((r) => r.name).filter((n) => n.startsWith('mdr-'))).toEqual(['mdr-diagnostics']);
      const someHub = `${nsId}/eventhubs/${hubs['mdr-ingest-westeurope-03']![0]}`;
      expect(w.sim.state.list(`${someHub}/authorizationRules`).map((r) => [r.name, r.properties.rights])).toEqual([['mdr-send', ['Send']]]);
      expect(w.sim.state.list(`${someHub}/consumergroups`).map((c) => c.name)).toContain('mdr-ingest');
    } finally {
      await w.sim.stop();
    }
  }, 120_000);

  it('twelve concurrent onboardings for one free slot: exactly one succeeds and the namespace is never over-filled', async () => {
    const w = await world();
    try {
      for (let i = 1; i <= 9; i++) expect((await w.put(tid(i))).status).toBe(201);
      const noGrowth = w.make({ MDR_EH_POOL_GROWTH: 'false' });
      const racers = Array.from({ length: 12 }, (_, i) => tid(100 + i));
      const results = await Promise.all(racers.map((id) => w.put(id, noGrowth)));
      expect(results.map((r) => r.status).sort()).toEqual([201, ...Array<number>(11).fill(503)]);
      for (const r of results.filter((x) => x.status === 503)) expect(r.jsonBody.detail).toMatch(/pool in westeurope is full/);
      expect(w.poolHubs()['mdr-ingest-westeurope-01']).toHaveLength(10);
      expect((await w.registry.listNamespaces('westeurope'))[0]!.tenants).toHaveLength(10);
      // ARM saw exactly one racer's hub created, and never a hub refused for quota
      const racerHubPuts = w.sim.requests.filter((r) => r.method === 'PUT' && /\/eventhubs\/[^/]+$/.test(r.path) && racers.some((id) => r.path.endsWith(id)));
      expect(racerHubPuts.map((r) => r.status)).toEqual([200]);
      expect(w.sim.requests.filter((r) => r.status >= 400 && r.method !== 'GET')).toEqual([]);
    } finally {
      await w.sim.stop();
    }
  }, 120_000);

  it('a repeated PUT with the same body sends no write to ARM', async () => {
    const w = await world();
    try {
      expect((await w.put(tid(1))).status).toBe(201);
      w.sim.clearRequests();
      const again = await w.put(tid(1));
      expect(again.status).toBe(200);

      expect(again.jsonBody.changed).toBe(false);
      expect(w.sim.requests.length).toBeGreaterThan(0); // it did verify
      expect(w.sim.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    } finally {
      await w.sim.stop();
    }
  }, 60_000);

  it('onboarding and pool growth update the app settings so the load-time registration sees the new hub; offboarding removes it', async () => {
    const w = await world();
    try {
      for (let i = 1; i <= 10; i++) await w.put(tid(i));
      const grower = tid(11);
      await w.put(grower);
      const after = w.appSettings();
      expect(after.AzureWebJobsStorage).toBe(STORAGE_SECRET);
      const triggers = ingestTriggers(parseSettings({ ...w.baseEnv, ...after }), after);
      expect(triggers).toHaveLength(11);
      const t = triggers.find((x) => x.tenantId === grower)!;
      expect(t).toMatchObject({ eventHubName: `mdr-${grower}`, consumerGroup: 'mdr-ingest', connection: 'MDR_EHNS_MDR_INGEST_WESTEUROPE_02', fullyQualifiedNamespace: 'mdr-ingest-westeurope-02.servicebus.windows.net' });
      expect(after[`${t.connection}__fullyQualifiedNamespace`]).toBe('mdr-ingest-westeurope-02.servicebus.windows.net');

      const off = await w.del(grower);
      expect(off.status).toBe(200);
      const final = w.appSettings();
      const left = ingestTriggers(parseSettings({ ...w.baseEnv, ...final }), final);
      expect(left.map((x) => x.tenantId)).not.toContain(grower);
      expect(left).toHaveLength(10);
      expect(final['MDR_EHNS_MDR_INGEST_WESTEUROPE_02__fullyQualifiedNamespace']).toBeUndefined();
    } finally {
      await w.sim.stop();
    }
  }, 120_000);

  it('DELETE removes exactly what we created (our exports, then the hub) and nothing the customer owns', async () => {
    const w = await world();
    try {
      expect((await w.put(CUSTOMER)).status).toBe(201);
      const dry = await w.del(CUSTOMER, '?dryRun=true');
      expect(dry.status).toBe(200);
      expect((dry.jsonBody.removed as { name: string }[]).map((r) => r.name.split('/').pop()).sort()).toEqual(['mdr-defender-export', 'mdr-export', `mdr-${CUSTOMER}`].sort());
      w.sim.clearRequests();
      expect((await w.del(CUSTOMER, '?dryRun=true')).status).toBe(200);
      expect(w.sim.requests.filter((r) => r.method === 'DELETE' || r.method === 'PUT')).toEqual([]);

      const res = await w.del(CUSTOMER);
      expect(res.status).toBe(200);
      expect(res.jsonBody).toMatchObject({ status: 'offboarded', failed: [] });
      const deletes = w.sim.requests.filter((r) => r.method === 'DELETE').map((r) => r.path);
      // Our exports and hub, then — last — the provider's Lighthouse registration assignment.
      expect(deletes.slice(0, -1).map((p) => p.split('/').pop()).sort()).toEqual(['mdr-defender-export', 'mdr-export', `mdr-${CUSTOMER}`].sort());
      expect(deletes.at(-1)).toMatch(new RegExp(`^/subscriptions/${CUSTOMER_SUB}/providers/Microsoft.ManagedServices/registrationAssignments/`, 'i'));
      expect(deletes.every((p) => !/customer-/.test(p))).toBe(true);
      // customer-owned objects are still there
      expect(w.sim.state.get(`/subscriptions/${CUSTOMER_SUB}/resourceGroups/secops/providers/Microsoft.Security/automations/customer-soar`)).toBeDefined();
      expect(JSON.stringify([...w.sim.state.list(`/subscriptions/${CUSTOMER_SUB}/providers/Microsoft.Insights/diagnosticSettings`)].map((d) => d.name))).toContain('customer-siem');
      expect((await w.registry.getTenant(CUSTOMER))?.status).toBe('offboarded');
      expect(await w.registry.listHubs(CUSTOMER)).toEqual([]);
    } finally {
      await w.sim.stop();
    }
  }, 60_000);

  it('no response body or log line carries a key or connection string', async () => {
    const w = await world();
    try {
      await w.put(tid(1));
      await w.put(tid(1));
      await w.del(tid(1), '?dryRun=true');
      await w.del(tid(1));
      expect(w.responses.length).toBe(4);
      for (const line of [...w.responses, ...w.logs]) expect(line).not.toMatch(SECRET);
    } finally {
      await w.sim.stop();
    }
  }, 60_000);
});
