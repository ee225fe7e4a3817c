import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenCredential } from '@azure/identity';
import { createAzureClients, type AzureClients } from '../../../src/lib/azure/clientFactory.js';
import { startArmSimulator, type ArmSimulator } from '../../../sim/armSimulator.js';
import { loadScenario } from '../../../sim/scenario.js';

// Sovereign clouds need the token scope of THEIR ARM endpoint; a client that ignored the factory's scope option
// would ask for https://management.azure.com/.default and fail there. Every client must ask for `<endpoint>/.default`.
describe('createAzureClients', () => {
  let sim: ArmSimulator;
  let clients: AzureClients;
  const scopes: string[] = [];
  const credential: TokenCredential = {
    getToken: async (s) => {
      scopes.push(...(Array.isArray(s) ? s : [s]));
      return { token: 'scope-recorder', expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };

  beforeAll(async () => {
    const scenario = await loadScenario(new URL('../../../scenarios/example.json', import.meta.url).pathname);
    sim = await startArmSimulator({ scenario });
    clients = createAzureClients({ armEndpoint: `${sim.url}/`, credential, tlsCa: sim.ca });
  });
  afterAll(async () => sim?.stop());

  it('asks every SDK client for a token scoped to the configured ARM endpoint', async () => {
    const scenario = await loadScenario(new URL('../../../scenarios/example.json', import.meta.url).pathname);
    const sub = scenario.tenants[0]!.subscriptions[0]!.subscriptionId;
    const fa = scenario.provider.functionApp!;
    const calls: [string, () => Promise<unknown>][] = [
      ['subscriptions', async () => { for await (const _ of (await clients.subscriptions()).subscriptions.list()) break; }],
      ['resourceGraph', async () => (await clients.resourceGraph()).resources({ query: 'Resources | project id', subscriptions: [sub] })],
      ['monitor', async () => { for await (const _ of (await clients.monitor()).diagnosticSettings.list(`subscriptions/${sub}`)) break; }],
      ['eventHub', async () => { for await (const _ of (await clients.eventHub(scenario.provider.subscriptionId)).namespaces.list()) break; }],
      ['operationalInsights', async () => { for await (const _ of (await clients.operationalInsights(sub)).workspaces.list()) break; }],
      ['security', async () => { for await (const _ of (await clients.security(sub)).automations.list()) break; }],
      ['appService', async () => (await clients.appService(scenario.provider.subscriptionId)).webApps.listApplicationSettings(fa.resourceGroup, fa.name)],
    ];
    for (const [name, call] of calls) {
      scopes.length = 0;
      // The token is requested before the request is sent: an ARM error answer still shows the scope asked for.
      await call().catch((e: unknown) => {
        if (typeof (e as { statusCode?: unknown }).statusCode !== 'number') throw e;
      });
      expect({ name, scopes: [...new Set(scopes)] }).toEqual({ name, scopes: [`${sim.url}/.default`] });
    }
  });
});
