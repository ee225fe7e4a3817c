import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArmSimulator, type ArmSimulator } from '../../../sim/armSimulator.js';
import { parseScenario } from '../../../sim/scenario.js';
import { ALERT_STATES, setAlertState } from '../../../src/lib/alerts/alertState.js';
import { createAzureClients, staticTokenCredential, type AzureClients } from '../../../src/lib/azure/clientFactory.js';

/**
 * The state an alert had before a change is read at an api-version whose status enum names every state we write:
 * 2022-01-01 (AlertStatus Active, InProgress, Resolved, Dismissed), not the SDK's 2021-11-01 (no InProgress).
 * Specs: test/fixtures/specs/security.alerts.2021-11-01.json and security.alerts.2022-01-01.json.
 */
const T = 'aaaaaaaa-0000-0000-0000-000000000001';
const SUB = '00000000-0000-0000-0000-000000000001';
const LOC = 'centralus';
const RG = 'rg-app';

let sim: ArmSimulator;
let clients: AzureClients;
beforeAll(async () => {
  sim = await startArmSimulator({
    scenario: parseScenario({
      provider: { tenantId: 'bbbbbbbb-0000-0000-0000-000000000001', subscriptionId: 'bbbbbbbb-0000-0000-0000-00000000000f', poolResourceGroup: 'mdr-ingest' },
      tenants: [{ tenantId: T, displayName: 'Contoso', subscriptions: [{ subscriptionId: SUB, displayName: 'prod', resourceGroups: [{ name: RG, location: 'eastus' }],
        alerts: [{ name: 'sub-alert', location: LOC }, { name: 'rg-alert', location: LOC, resourceGroup: RG }] }] }],
    }),
  });
  clients = createAzureClients({ armEndpoint: sim.url, credential: staticTokenCredential(), tlsCa: sim.ca, retry: { maxRetries: 0 } });
});
afterAll(async () => {
  await sim?.stop();
});

describe('alert state read-back', () => {
  it.each([['subscription', undefined], ['resource-group', RG]] as const)('reports the previous state of every state it writes at %s level, InProgress included', async (_level, resourceGroup) => {
    const alertName = resourceGroup ? 'rg-alert' : 'sub-alert';
    const body = (state: (typeof ALERT_STATES)[number]) => ({ state, subscriptionId: SUB, location: LOC, ...(resourceGroup ? { resourceGroup } : {}) });
    let previous = (await setAlertState({ clients, tenant: { tenantId: T }, alertName, body: body('Active') })).to as string;
    for (const state of [...ALERT_STATES, 'Dismissed'] as const) {
      sim.clearRequests();
      const r = await setAlertState({ clients, tenant: { tenantId: T }, alertName, body: body(state) });
      expect(r.from, `after writing ${previous}`).toBe(previous);
      const reads = sim.requests.filter((x) => x.method === 'GET' && /\/alerts\/[^/]+$/.test(x.path));
      expect(reads.map((x) => x.apiVersion)).toEqual(['2022-01-01']);
      previous = state;
    }
  });
});
