import azf from '@azure/functions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startArmSimulator, type ArmSimulator } from '../../../sim/armSimulator.js';
import { parseScenario, type ScenarioInput } from '../../../sim/scenario.js';
import { makeAlertStateCommand } from '../../../src/cli/commands/alertState.js';
import { main } from '../../../src/cli/main.js';
import type { CliIo } from '../../../src/cli/types.js';
import { createAlertStateHttpHandler } from '../../../src/lib/alerts/httpHandlers.js';
import { createAzureClients, staticTokenCredential, type AzureClients } from '../../../src/lib/azure/clientFactory.js';
import { memoryLogger } from '../../../src/lib/log.js';
import { createMemoryRegistry } from '../../../src/lib/registry/memoryRegistry.js';
import type { TenantRecord } from '../../../src/lib/registry/types.js';

const { HttpRequest, InvocationContext } = azf;

const PROVIDER = 'bbbbbbbb-0000-0000-0000-000000000001';
const PSUB = 'bbbbbbbb-0000-0000-0000-00000000000f';
const T = 'aaaaaaaa-0000-0000-0000-000000000001';
const T2 = 'aaaaaaaa-0000-0000-0000-000000000002';
const SUB = '00000000-0000-0000-0000-000000000001';
const SUB_REVOKED = '00000000-0000-0000-0000-000000000002';
const SUB_OTHER = '00000000-0000-0000-0000-000000000003';
const LOC = 'centralus';
const RG = 'rg-app';

const scenario: ScenarioInput = {
  provider: { tenantId: PROVIDER, subscriptionId: PSUB, poolResourceGroup: 'mdr-ingest' },
  tenants: [
    {
      tenantId: T,
      displayName: 'Contoso',
      subscriptions: [
        {
          subscriptionId: SUB,
          displayName: 'Contoso prod',
          resourceGroups: [{ name: RG, location: 'eastus' }],
          alerts: [
            { name: 'sub-alert-1', location: LOC },
            { name: 'rg-alert-1', location: LOC, resourceGroup: RG },
          ],
        },
        { subscriptionId: SUB_REVOKED, displayName: 'Contoso dev', alerts: [{ name: 'dev-alert', location: LOC }] },
      ],
    },
    { tenantId: T2, displayName: 'Fabrikam', subscriptions: [{ subscriptionId: SUB_OTHER, displayName: 'Fabrikam', alerts: [{ name: 'fab-alert', location: LOC }] }] },
  ],
};

const tenant = (tenantId: string): TenantRecord => ({
  tenantId,
  displayName: 'x',
  regions: ['eastus'],
  entraWorkspaceIds: [],
  options: { activityLog: true, storage: true, keyVault: true, entraDataExport: true, defenderAlerts: true, storageServices: ['blob'] },
  status: 'active',
  createdAt: '2026-11-01T00:00:00Z',
  updatedAt: '2026-11-01T00:00:00Z',
});

let sim: ArmSimulator;
let clients: AzureClients;
const registry = createMemoryRegistry();

beforeAll(async () => {
  sim = await startArmSimulator({ scenario: parseScenario(scenario) });
  clients = createAzureClients({ armEndpoint: sim.url, credential: staticTokenCredential(), tlsCa: sim.ca, retry: { maxRetries: 0 } });
  await registry.putTenant(tenant(T));
  await registry.putTenant(tenant(T2));
});
afterAll(async () => {
  await sim?.stop();
});
beforeEach(() => sim.clearRequests());

const alertId = (name: string, rg?: string) => `/subscriptions/${SUB}${rg ? `/resourceGroups/${rg}` : ''}/providers/Microsoft.Security/locations/${LOC}/alerts/${name}`;
const simStatus = (name: string, rg?: string) => sim.state.get(alertId(name, rg))?.properties.status;
const ctx = () => new InvocationContext({ functionName: 'alertState', invocationId: 'inv-1' });
function post(tenantId: string, alertName: string, body: unknown, headers: Record<string, string> = {}) {
  return new HttpRequest({
    method: 'POST',
    url: `http://localhost/api/tenants/${tenantId}/alerts/${alertName}/state`,
    headers: { 'content-type': 'application/json', ...headers },
    params: { id: tenantId, alertName },
    body: { string: typeof body === 'string' ? body : JSON.stringify(body) },
  });
}
function handler(c: AzureClients = clients, http = { easyAuth: false, platformAuthEnabled: false }) {
  const logger = memoryLogger();
  return { logger, h: createAlertStateHttpHandler({ clients: c, registry, logger, settings: { http } }) };
}
type Problem = { type: string; title: string; status: number; detail: string; errors?: { field: string; message: string }[] };

describe('alert-state sync against the ARM simulator', () => {
  it.each([
    ['Dismissed', 'dismiss', '2021-11-01'],
    ['Resolved', 'resolve', '2021-11-01'],
    ['InProgress', 'inProgress', '2022-01-01'],
    ['Active', 'activate', '2021-11-01'],
  ] as const)('sets a subscription-level alert to %s', async (state, action, apiVersion) => {
    const before = simStatus('sub-alert-1');
    const { h } = handler();
    const res = await h(post(T, 'sub-alert-1', { state, subscriptionId: SUB, location: LOC }), ctx());
    expect(res.status).toBe(200);
    expect(res.jsonBody).toMatchObject({ tenantId: T, subscriptionId: SUB, location: LOC, alertName: 'sub-alert-1', from: before, to: state });
    expect(simStatus('sub-alert-1')).toBe(state);
    expect(sim.requests.filter((r) => r.method === 'POST' && r.kind === 'write').map((r) => [r.path, r.apiVersion])).toEqual([[`${alertId('sub-alert-1')}/${action}`, apiVersion]]);
  });

  it.each([
    ['Dismissed', 'dismiss'],
    ['Resolved', 'resolve'],
    ['InProgress', 'inProgress'],
    ['Active', 'activate'],
  ] as const)('sets a resource-group-level alert to %s', async (state, action) => {
    const { h } = handler();
    const res = await h(post(T, 'rg-alert-1', { state, subscriptionId: SUB, location: LOC, resourceGroup: RG }), ctx());
    expect(res.status).toBe(200);
    expect(res.jsonBody).toMatchObject({ resourceGroup: RG, to: state });
    expect(simStatus('rg-alert-1', RG)).toBe(state);
    expect(sim.requests.filter((r) => r.method === 'POST' && r.kind === 'write').map((r) => r.path)).toEqual([`${alertId('rg-alert-1', RG)}/${action}`]);
  });

  it('logs the audit line with tenant, subscription, alert, previous and new state and the verified caller', async () => {
    sim.state.get(alertId('sub-alert-1'))!.properties.status = 'Active';
    const { h, logger } = handler(clients, { easyAuth: true, platformAuthEnabled: true });
    const principal = Buffer.from(JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'roles', val: 'Alerts.Write' }], name_typ: 'name', role_typ: 'roles' })).toString('base64');
    const headers = { 'x-ms-client-principal': principal, 'x-ms-client-principal-id': '11111111-2222-3333-4444-555555555555', 'x-ms-client-principal-name': 'analyst@mdr.example' };
    const res = await h(post(T, 'sub-alert-1', { state: 'Dismissed', subscriptionId: SUB, location: LOC }, headers), ctx());
    expect(res.status).toBe(200);
    const audit = logger.lines.filter((l) => l.event === 'alert.state_changed');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ level: 'info', fields: { tenantId: T, subscriptionId: SUB, alertName: 'sub-alert-1', from: 'Active', to: 'Dismissed', actor: 'analyst@mdr.example (11111111-2222-3333-4444-555555555555)' } });
  });

  it('never takes a caller header as the actor while App Service authentication is off: the actor is the function key', async () => {
    sim.state.get(alertId('sub-alert-1'))!.properties.status = 'Active';
    const { h, logger } = handler();
    const res = await h(post(T, 'sub-alert-1', { state: 'Dismissed', subscriptionId: SUB, location: LOC }, { 'x-ms-client-principal-name': 'someone-else@forged.example' }), ctx());
    expect(res.status).toBe(200);
    expect(logger.lines.find((l) => l.event === 'alert.state_changed')?.fields.actor).toBe('function key');
  });

  it('answers 404 with a clear message for an unknown alert and changes nothing', async () => {
    const { h, logger } = handler();
    const res = await h(post(T, 'no-such-alert', { state: 'Dismissed', subscriptionId: SUB, location: LOC }), ctx());
    expect(res.status).toBe(404);
    const p = res.jsonBody as Problem;
    expect(p.type).toBe('urn:azure-mdr-connector:problem:alert-not-found');
    expect(p.detail).toBe(`Defender alert 'no-such-alert' was not found in subscription ${SUB}, location ${LOC}`);
    expect(sim.requests.some((r) => r.method === 'POST' && r.kind === 'write')).toBe(false);
    expect(logger.lines.some((l) => l.event === 'alert.state_changed')).toBe(false);
  });

  it('answers 404 for an alert looked up at the wrong level (subscription-level alert under a resource group)', async () => {
    const { h } = handler();
    const res = await h(post(T, 'sub-alert-1', { state: 'Dismissed', subscriptionId: SUB, location: LOC, resourceGroup: RG }), ctx());
    expect(res.status).toBe(404);
    expect((res.jsonBody as Problem).detail).toContain(`resource group ${RG}`);
  });

  it('answers 404 for a subscription of another tenant, without touching its alerts', async () => {
    const { h } = handler();
    const res = await h(post(T, 'fab-alert', { state: 'Dismissed', subscriptionId: SUB_OTHER, location: LOC }), ctx());
    expect(res.status).toBe(404);
    expect((res.jsonBody as Problem).type).toBe('urn:azure-mdr-connector:problem:subscription-not-in-tenant');
    expect(sim.requests.some((r) => r.path.includes('Microsoft.Security'))).toBe(false);
  });

  it('answers 403 naming the missing Security Admin grant when the delegation was revoked', async () => {
    sim.state.revokeDelegation(SUB_REVOKED);
    const { h } = handler();
    const res = await h(post(T, 'dev-alert', { state: 'Resolved', subscriptionId: SUB_REVOKED, location: LOC }), ctx());
    expect(res.status).toBe(403);
    const p = res.jsonBody as Problem;
    expect(p.type).toBe('urn:azure-mdr-connector:problem:subscription-not-delegated');
    expect(p.detail).toContain('the delegation does not grant Security Admin on this subscription');
  });

  it("maps ARM's 403 AuthorizationFailed to 403 when the delegation disappears between the check and the call", async () => {
    const REVOKE_MID = SUB;
    // The subscription check passes; the delegation is then removed before the Security call (a real race).
    const racing: AzureClients = {
      ...clients,
      security: async (sub) => {
        sim.state.revokeDelegation(REVOKE_MID);
        return clients.security(sub);
      },
    };
    try {
      const { h } = handler(racing);
      const res = await h(post(T, 'sub-alert-1', { state: 'Resolved', subscriptionId: SUB, location: LOC }), ctx());
      expect(res.status).toBe(403);
      const p = res.jsonBody as Problem;
      expect(p.type).toBe('urn:azure-mdr-connector:problem:delegation-forbidden');
      expect(p.detail).toContain('the delegation does not grant Security Admin on this subscription');
      expect(sim.requests.some((r) => r.status === 403 && r.path.includes('/alerts/sub-alert-1'))).toBe(true);
    } finally {
      sim.state.subscription(REVOKE_MID)!.delegated = true;
    }
  });

  it.each([
    ['state', { state: 'Closed', subscriptionId: SUB, location: LOC }],
    ['subscriptionId', { state: 'Dismissed', subscriptionId: 'not-a-guid', location: LOC }],
    ['location', { state: 'Dismissed', subscriptionId: SUB }],
    ['resourceGroup', { state: 'Dismissed', subscriptionId: SUB, location: LOC, resourceGroup: '..' }],
  ])('answers 400 naming %s for an invalid body and sends nothing to ARM', async (field, body) => {
    const { h } = handler();
    const res = await h(post(T, 'sub-alert-1', body), ctx());
    expect(res.status).toBe(400);
    expect((res.jsonBody as Problem).errors?.map((e) => e.field)).toEqual([field]);
    expect(sim.requests).toEqual([]);
  });

  it('answers 400 for a path-traversal alert name and sends nothing to ARM', async () => {
    const { h } = handler();
    const res = await h(post(T, '..', { state: 'Dismissed', subscriptionId: SUB, location: LOC }), ctx());
    expect(res.status).toBe(400);
    expect((res.jsonBody as Problem).errors?.[0]?.field).toBe('alertName');
    expect(sim.requests).toEqual([]);
  });
});

describe('azure-mdr alert-state against the ARM simulator', () => {
  function io() {
    const out: string[] = [];
    const err: string[] = [];
    const value: CliIo = { stdin: [], stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) }, env: { USER: 'alice' } };
    return { value, out: () => out.join(''), err: () => err.join('') };
  }

  it('dismisses a resource-group-level alert and logs the audit line with the CLI user', async () => {
    sim.state.get(alertId('rg-alert-1', RG))!.properties.status = 'Active';
    const logger = memoryLogger();
    const o = io();
    const cmd = makeAlertStateCommand(async () => ({ clients, logger }));
    const code = await main(['alert-state', '--tenant', T, '--subscription', SUB, '--location', LOC, '--resource-group', RG, '--alert', 'rg-alert-1', '--state', 'Dismissed'], o.value, [cmd]);
    expect(code).toBe(0);
    expect(o.out()).toBe(`alert rg-alert-1: Active -> Dismissed (subscription ${SUB}, resource group ${RG})\n`);
    expect(simStatus('rg-alert-1', RG)).toBe('Dismissed');
    expect(logger.lines.find((l) => l.event === 'alert.state_changed')?.fields).toMatchObject({ actor: 'cli:alice', to: 'Dismissed' });
  });

  it('exits 1 with the not-found message for an unknown alert', async () => {
    const o = io();
    const cmd = makeAlertStateCommand(async () => ({ clients, logger: memoryLogger() }));
    const code = await main(['alert-state', '--tenant', T, '--subscription', SUB, '--location', LOC, '--alert', 'ghost', '--state', 'Resolved'], o.value, [cmd]);
    expect(code).toBe(1);
    expect(o.err()).toContain(`Defender alert 'ghost' was not found in subscription ${SUB}`);
  });

  it('exits 2 naming the flag for an invalid state', async () => {
    const o = io();
    const code = await main(['alert-state', '--tenant', T, '--subscription', SUB, '--location', LOC, '--alert', 'a', '--state', 'Closed'], o.value, [makeAlertStateCommand(async () => ({ clients, logger: memoryLogger() }))]);
    expect(code).toBe(2);
    expect(o.err()).toContain('--state expected one of Dismissed, Resolved, Active, InProgress');
  });
});
