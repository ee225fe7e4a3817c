import azf from '@azure/functions';
import type { HttpResponseInit } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../../src/lib/config/settings.js';
import {
  createDeleteTenantHandler,
  createGetOnboardingHandler,
  createGetTenantHandler,
  createListTenantsHandler,
  createPutTenantHandler,
  type OnboardingHttpDeps,
} from '../../../src/lib/onboarding/httpHandlers.js';
import { ingestTriggers } from '../../../src/lib/onboarding/ingestTriggers.js';
import type { TeardownFn } from '../../../src/lib/onboarding/offboardTenant.js';
import { createMemoryRegistry } from '../../../src/lib/registry/memoryRegistry.js';
import { fakeProviderArm } from './fakeProviderArm.js';

const { HttpRequest, InvocationContext } = azf;

const APP_ID = '/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/mdr-app/providers/Microsoft.Web/sites/mdr-func';
const baseEnv = {
  MDR_PROVIDER_TENANT_ID: '11111111-1111-1111-1111-111111111111',
  MDR_PROVIDER_SUBSCRIPTION_ID: '22222222-2222-2222-2222-222222222222',
  MDR_INGEST_PRINCIPAL_ID: '33333333-3333-3333-3333-333333333333',
  MDR_FUNCTION_APP_RESOURCE_ID: APP_ID,
  MDR_EH_POOL_REGIONS: 'westeurope',
  // A secret-bearing setting the app already has: it must never be echoed or logged.
  AzureWebJobsStorage: 'DefaultEndpointsProtocol=https;AccountName=mdrstore;AccountKey=c2VjcmV0LWtleS1kby1ub3QtbG9n;EndpointSuffix=core.windows.net',
};
const T1 = 'aaaaaaaa-0000-4000-8000-000000000001';
const SECRET = /SharedAccessKey|AccountKey|c2VjcmV0|Endpoint=sb:\/\//i;

function harness(env: Record<string, string> = {}, teardown?: TeardownFn) {
  const settings = parseSettings({ ...baseEnv, ...env });
  const arm = fakeProviderArm({ AzureWebJobsStorage: baseEnv.AzureWebJobsStorage, FUNCTIONS_WORKER_RUNTIME: 'node' });
  const registry = createMemoryRegistry();
  const logs: string[] = [];
  const deps: OnboardingHttpDeps = { settings, registry, clients: arm.clients, teardown: teardown ?? (async ({ dryRun }) => ({ dryRun, removed: [], failed: [], verified: !dryRun, remaining: [], passes: 1 })) };
  const ctx = () => new InvocationContext({ functionName: 'tenants', invocationId: 'inv-1', logHandler: (level, ...args) => logs.push(`${level} ${args.map(String).join(' ')}`) });
  const call = async (h: (r: InstanceType<typeof HttpRequest>, c: InstanceType<typeof InvocationContext>) => Promise<HttpResponseInit>, method: string, path: string, params: Record<string, string> = {}, body?: unknown) => {
    const req = new HttpRequest({ method, url: `http://localhost/api/${path}`, params, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: { string: typeof body === 'string' ? body : JSON.stringify(body) } }) });
    const res = await h(req, ctx());
    responses.push(JSON.stringify(res));
    return res as HttpResponseInit & { jsonBody: Record<string, unknown> };
  };
  const responses: string[] = [];
  const handlers = {
    put: createPutTenantHandler(deps),
    list: createListTenantsHandler(deps),
    get: createGetTenantHandler(deps),
    del: createDeleteTenantHandler(deps),
    onboarding: createGetOnboardingHandler(deps),
  };
  return { settings, arm, registry, logs, responses, call, handlers };
}

describe('onboarding HTTP handlers', () => {
  it('PUT onboards a tenant, provisions its hub and returns the onboarding material; a repeated PUT writes nothing', async () => {
    const h = harness();
    const r1 = await h.call(h.handlers.put, 'PUT', `tenants/${T1}`, { id: T1 }, { displayName: 'Contoso', managementGroupId: 'contoso-root' });
    expect(r1.status).toBe(201);
    expect(r1.jsonBody.tenant).toMatchObject({ tenantId: T1, status: 'active', regions: ['westeurope'] });
    expect(r1.jsonBody.hubs).toEqual([expect.objectContaining({ region: 'westeurope', namespace: 'mdr-ingest-westeurope-01', hub: `mdr-${T1}`, state: 'ready' })]);
    expect((r1.jsonBody.onboarding as { commands: string[] }).commands[0]).toContain('--management-group-id contoso-root');
    const writesAfterFirst = h.arm.writes().length;
    expect(writesAfterFirst).toBeGreaterThan(0);

    const r2 = await h.call(h.handlers.put, 'PUT', `tenants/${T1}`, { id: T1 }, { displayName: 'Contoso', managementGroupId: 'contoso-root' });
    expect(r2.status).toBe(200);
    expect(r2.jsonBody.changed).toBe(false);
    expect(h.arm.writes()).toHaveLength(writesAfterFirst);
    expect(r2.jsonBody.tenant).toEqual(r1.jsonBody.tenant);
  });

  it('answers 400 with a problem body naming each bad field', async () => {
    const h = harness();
    const r = await h.call(h.handlers.put, 'PUT', 'tenants/nope', { id: 'nope' }, { displayName: 7, regions: ['atlantis'], color: 'red' });
    expect(r.status).toBe(400);
    expect(r.headers).toMatchObject({ 'content-type': 'application/problem+json' });
    expect(r.jsonBody).toMatchObject({ status: 400, title: 'Invalid request', type: expect.stringContaining('validation') });
    expect((r.jsonBody.errors as { field: string }[]).map((e) => e.field).sort()).toEqual(['color', 'displayName', 'regions.0', 'tenantId']);
    const bad = await h.call(h.handlers.put, 'PUT', `tenants/${T1}`, { id: T1 }, '{not json');
    expect(bad.status).toBe(400);
    expect(bad.jsonBody.errors).toEqual([{ field: '(body)', message: 'expected a JSON object' }]);
    expect(h.arm.calls).toEqual([]);
  });

  it('answers 503 with a capacity problem when the pool is full and may not grow', async () => {
    const h = harness({ MDR_EH_POOL_GROWTH: 'false' });
    const r = await h.call(h.handlers.put, 'PUT', `tenants/${T1}`, { id: T1 }, { displayName: 'Contoso' });
    expect(r.status).toBe(503);
    expect(r.jsonBody.detail).toMatch(/pool in westeurope is full.*MDR_EH_POOL_GROWTH=false/);
  });

  it('GET lists tenants, shows one with hubs and coverage, and returns its onboarding template; unknown ids get 404', async () => {
    const h = harness();
    await h.call(h.handlers.put, 'PUT', `tenants/${T1}`, { id: T1 }, { displayName: 'Contoso' });
    await h.registry.putCoverage(T1, [{ tenantId: T1, resourceId: '/subscriptions/s', target: 'activity-log', subscriptionId: 's', region: 'global', state: 'streaming', updatedAt: 'now' }]);
    const list = await h.call(h.handlers.list, 'GET', 'tenants');
    expect((list.jsonBody.tenants as { tenantId: string }[]).map((t) => t.tenantId)).toEqual([T1]);
    const one = await h.call(h.handlers.get, 'GET', `tenants/${T1}`, { id: T1 });
    expect(one.jsonBody).toMatchObject({ tenant: { tenantId: T1, status: 'active' }, coverage: { total: 1, byState: { streaming: 1 } }, lastReconcile: null });
    expect(one.jsonBody.hubs).toHaveLength(1);
    const ob = await h.call(h.handlers.onboarding, 'GET', `tenants/${T1}/onboarding`, { id: T1 });
    expect(ob.status).toBe(200);
    expect((ob.jsonBody.template as { $schema: string }).$schema).toContain('managementGroupDeploymentTemplate');
    expect(ob.jsonBody.managementGroupId).toBe(T1);
    const missing = await h.call(h.handlers.get, 'GET', 'tenants/bbbbbbbb-0000-4000-8000-000000000009', { id: 'bbbbbbbb-0000-4000-8000-000000000009' });
    expect(missing.status).toBe(404);
  });

  it('onboarding wires the new hub into the app settings the ingest registration reads, and offboarding unwires it', async () => {
    const h = harness();
    await h.call(h.handlers.put, 'PUT', `tenants/${T1}`, { id: T1 }, { displayName: 'Contoso' });
    const after = h.arm.appSettings();
    expect(after.AzureWebJobsStorage).toBe(baseEnv.AzureWebJobsStorage); // foreign settings kept verbatim
    const loaded = parseSettings({ ...baseEnv, ...after });
    const triggers = ingestTriggers(loaded, after);
    expect(triggers).toEqual([
      expect.objectContaining({ tenantId: T1, region: 'westeurope', eventHubName: `mdr-${T1}`, consumerGroup: 'mdr-ingest', connection: 'MDR_EHNS_MDR_INGEST_WESTEUROPE_01', fullyQualifiedNamespace: 'mdr-ingest-westeurope-01.servicebus.windows.net' }),
    ]);

    const dry = await h.call(h.handlers.del, 'DELETE', `tenants/${T1}?dryRun=true`, { id: T1 });
    expect(dry.jsonBody).toMatchObject({ dryRun: true, status: 'active', removed: [expect.objectContaining({ kind: 'event-hub', name: `mdr-${T1}` })] });
    expect(h.arm.calls.filter((c) => c.startsWith('DELETE'))).toEqual([]);

    const gone = await h.call(h.handlers.del, 'DELETE', `tenants/${T1}`, { id: T1 });
    expect(gone.jsonBody).toMatchObject({ dryRun: false, status: 'offboarded', failed: [] });
    expect(h.arm.calls.filter((c) => c.startsWith('DELETE'))).toEqual([`DELETE /rg/mdr-ingest/ns/mdr-ingest-westeurope-01/hubs/mdr-${T1}`]);
    const final = h.arm.appSettings();
    expect(ingestTriggers(parseSettings({ ...baseEnv, ...final }), final)).toEqual([]);
    expect(Object.keys(final).filter((k) => k.endsWith('__fullyQualifiedNamespace'))).toEqual([]);
    expect((await h.registry.listNamespaces('westeurope'))[0]!.tenants).toEqual([]);
    expect((gone.jsonBody.delegationRemoval as { commands: string[] }).commands.join('\n')).toContain('az managedservices assignment delete');
  });

  it('reports what teardown could not remove and keeps the tenant offboarding', async () => {
    const h = harness({}, async ({ dryRun }) => ({ dryRun, removed: [{ target: 'activity-log', resourceId: '/subscriptions/s1', name: 'mdr-activity' }], failed: [{ resourceId: '/subscriptions/s2', reason: 'forbidden: delegation removed' }], verified: false, remaining: [], passes: 4 }));
    await h.call(h.handlers.put, 'PUT', `tenants/${T1}`, { id: T1 }, { displayName: 'Contoso' });
    const r = await h.call(h.handlers.del, 'DELETE', `tenants/${T1}`, { id: T1 });
    expect(r.jsonBody).toMatchObject({ status: 'offboarding', failed: [{ resourceId: '/subscriptions/s2', reason: 'forbidden: delegation removed' }] });
    expect((r.jsonBody.removed as { kind: string }[]).map((x) => x.kind)).toEqual(['activity-log', 'event-hub']);
  });

  it('never puts a key or connection string in a response or a log line', async () => {
    const h = harness();
    await h.call(h.handlers.put, 'PUT', `tenants/${T1}`, { id: T1 }, { displayName: 'Contoso' });
    await h.call(h.handlers.get, 'GET', `tenants/${T1}`, { id: T1 });
    await h.call(h.handlers.del, 'DELETE', `tenants/${T1}`, { id: T1 });
    expect(h.logs.length).toBeGreaterThan(0);
    for (const line of [...h.responses, ...h.logs]) expect(line).not.toMatch(SECRET);
  });
});
