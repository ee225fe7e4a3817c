import azf from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAzureClients, staticTokenCredential } from '../../../src/lib/azure/clientFactory.js';
import type { AppServices } from '../../../src/lib/app/appServices.js';
import { parseSettings } from '../../../src/lib/config/settings.js';
import { createFanOutTimerHandler } from '../../../src/lib/reconcile/triggerHandlers.js';
import { createMemoryRegistry } from '../../../src/lib/registry/memoryRegistry.js';
import { storageTarget } from '../../../src/lib/storage/storageClients.js';
import { startArmSimulator, type ArmSimulator } from '../../../sim/armSimulator.js';
import { loadScenario } from '../../../sim/scenario.js';

const { InvocationContext, output } = azf;

describe('reconcile fan-out timer', () => {
  let sim: ArmSimulator;
  let services: AppServices;
  let appId: string;
  const tenantId = '3e8a9c21-6d4b-4f70-b2e5-a1c9d8f07b35';

  beforeAll(async () => {
    const scenario = await loadScenario(new URL('../../../scenarios/example.json', import.meta.url).pathname);
    sim = await startArmSimulator({ scenario });
    const fa = scenario.provider.functionApp!;
    appId = `/subscriptions/${scenario.provider.subscriptionId}/resourceGroups/${fa.resourceGroup}/providers/Microsoft.Web/sites/${fa.name}`;
    const settings = parseSettings({
      MDR_PROVIDER_TENANT_ID: scenario.provider.tenantId,
      MDR_PROVIDER_SUBSCRIPTION_ID: scenario.provider.subscriptionId,
      MDR_INGEST_PRINCIPAL_ID: '33333333-3333-3333-3333-333333333333',
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      MDR_FUNCTION_APP_RESOURCE_ID: appId,
    });
    const registry = createMemoryRegistry();
    const now = new Date().toISOString();
    await registry.putTenant({ tenantId, displayName: 'Contoso', regions: ['westeurope'], entraWorkspaceIds: [], options: { activityLog: true, storage: true, keyVault: true, entraDataExport: true, defenderAlerts: true, storageServices: ['blob'] }, status: 'active', createdAt: now, updatedAt: now });
    // A hub the registry knows but the app settings miss, as after two onboardings raced on the settings write.
    const nsId = `/subscriptions/${scenario.provider.subscriptionId}/resourceGroups/rg-mdr-eventhubs/providers/Microsoft.EventHub/namespaces/ehns-mdr-weu-01`;
    await registry.putNamespace({ region: 'westeurope', namespace: 'ehns-mdr-weu-01', namespaceId: nsId, tier: 'Standard', maxHubs: 10, hubCount: 1, tenants: [tenantId], state: 'ready' });
    await registry.putHub({ tenantId, region: 'westeurope', namespace: 'ehns-mdr-weu-01', namespaceId: nsId, hub: `mdr-${tenantId}`, consumerGroup: 'mdr-ingest', namespaceRuleId: `${nsId}/authorizationRules/mdr-diagnostics`, sendRuleId: `${nsId}/eventhubs/mdr-${tenantId}/authorizationRules/mdr-send`, state: 'ready', createdAt: now });
    services = { settings, registry, clients: createAzureClients({ armEndpoint: sim.url, credential: staticTokenCredential(), tlsCa: sim.ca }), storage: storageTarget(settings) };
  });
  afterAll(async () => sim?.stop());

  it('enqueues one work item per tenant and heals app settings that drifted from the registry', async () => {
    const queue = output.storageQueue({ queueName: 'mdr-reconcile', connection: 'AzureWebJobsStorage' });
    const ctx = new InvocationContext({ functionName: 'reconcile-fanout', invocationId: 'fanout-1' });
    const timer = { isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };
    await createFanOutTimerHandler(services, queue)(timer, ctx);

    expect((ctx.extraOutputs.get(queue) as string[]).map((m) => JSON.parse(m) as unknown)).toEqual([{ tenantId }]);
    const appSettings = sim.state.appSettings.get(appId.toLowerCase()) ?? {};
    expect(JSON.parse(appSettings.MDR_INGEST_BINDINGS ?? '[]')).toMatchObject([{ tenantId, region: 'westeurope', namespace: 'ehns-mdr-weu-01', hub: `mdr-${tenantId}` }]);
    expect(appSettings.MDR_EHNS_EHNS_MDR_WEU_01__fullyQualifiedNamespace).toBe('ehns-mdr-weu-01.servicebus.windows.net');
    expect(appSettings.FUNCTIONS_WORKER_RUNTIME).toBe('node');

    // In sync now: the next run only reads the settings (POST …/appsettings/list), it does not PUT them.
    sim.clearRequests();
    await createFanOutTimerHandler(services, queue)(timer, new InvocationContext({ functionName: 'reconcile-fanout', invocationId: 'fanout-2' }));
    expect(sim.requests.filter((r) => r.path.toLowerCase().includes('/config/appsettings')).map((r) => `${r.method} ${r.path.split('/').slice(-2).join('/')}`)).toEqual(['POST appsettings/list']);
  });
});
