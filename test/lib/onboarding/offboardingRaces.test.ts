import azf from '@azure/functions';
import type { HttpResponseInit } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../../src/lib/config/settings.js';
import { ConnectorError } from '../../../src/lib/errors.js';
import { createDeleteTenantHandler, createGetTenantHandler, createPutTenantHandler, type OnboardingHttpDeps } from '../../../src/lib/onboarding/httpHandlers.js';
import { runOnboardingOperation, type OnboardingWorkItem } from '../../../src/lib/onboarding/longOnboarding.js';
import type { TeardownFn } from '../../../src/lib/onboarding/offboardTenant.js';
import { createMemoryRegistry } from '../../../src/lib/registry/memoryRegistry.js';
import { fakeProviderArm } from './fakeProviderArm.js';

/**
 * Offboarding against what can happen around it: a queued onboarding, a PUT while it runs, a storage failure halfway,
 * two first PUTs at once. Found in review (2026-12-03); each case failed before its fix.
 */
const { HttpRequest, InvocationContext } = azf;
const APP_ID = '/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/mdr-app/providers/Microsoft.Web/sites/mdr-func';
const env = {
  MDR_PROVIDER_TENANT_ID: '11111111-1111-1111-1111-111111111111',
  MDR_PROVIDER_SUBSCRIPTION_ID: '22222222-2222-2222-2222-222222222222',
  MDR_INGEST_PRINCIPAL_ID: '33333333-3333-3333-3333-333333333333',
  MDR_FUNCTION_APP_RESOURCE_ID: APP_ID,
  MDR_EH_POOL_REGIONS: 'westeurope',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
};
const T1 = 'aaaaaaaa-0000-4000-8000-000000000001';
const SUB = 'bbbbbbbb-0000-4000-8000-000000000001';
const clean: TeardownFn = async ({ dryRun }) => ({ dryRun, removed: [], failed: [], verified: !dryRun, remaining: [], passes: 1 });

type Res = HttpResponseInit & { jsonBody: Record<string, unknown> };

function harness(opts: { queue?: boolean } = {}) {
  const settings = parseSettings(env);
  const arm = fakeProviderArm({ FUNCTIONS_WORKER_RUNTIME: 'node' });
  const registry = createMemoryRegistry();
  const sent: OnboardingWorkItem[] = [];
  const deps: OnboardingHttpDeps = { settings, registry, clients: arm.clients, lroPollMs: 1, teardown: clean };
  const queued: OnboardingHttpDeps = { ...deps, onboardingQueue: { send: async (i) => void sent.push(i) } };
  const ctx = () => new InvocationContext({ functionName: 't', invocationId: 'i', logHandler: () => {} });
  const call = async (d: OnboardingHttpDeps, kind: 'put' | 'del' | 'get', body?: unknown): Promise<Res> => {
    const make = { put: createPutTenantHandler, del: createDeleteTenantHandler, get: createGetTenantHandler }[kind];
    const method = { put: 'PUT', del: 'DELETE', get: 'GET' }[kind];
    const req = new HttpRequest({ method, url: `http://localhost/api/tenants/${T1}`, params: { tenantId: T1 }, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: { string: JSON.stringify(body) } }) });
    return (await make(d)(req, ctx())) as Res;
  };
  const hubsInArm = () => [...arm.objects.keys()].filter((k) => /\/hubs\/[^/]+$/.test(k));
  const boundTenants = () => (JSON.parse(arm.appSettings().MDR_INGEST_BINDINGS ?? '[]') as { tenantId: string }[]).map((b) => b.tenantId);
  return { deps: opts.queue ? queued : deps, plain: deps, registry, arm, sent, call, hubsInArm, boundTenants };
}

describe('offboarding and what races it', () => {
  it('cancels an onboarding queued before the DELETE: the queue worker no longer brings the tenant back', async () => {
    const h = harness({ queue: true });
    expect((await h.call(h.plain, 'put', { displayName: 'Contoso' })).status).toBe(201);
    // A second region whose pool namespace does not exist yet: the PUT answers 202 and queues the work.
    const accepted = await h.call(h.deps, 'put', { displayName: 'Contoso', regions: ['westeurope', 'northeurope'] });
    expect(accepted.status).toBe(202);
    const del = await h.call(h.deps, 'del');
    expect(del.jsonBody).toMatchObject({ status: 'offboarded', verified: true });

    const op = await runOnboardingOperation(h.deps, h.sent[0], { dequeueCount: 1, maxDequeueCount: 5 });
    expect(op).toMatchObject({ status: 'Failed', error: { kind: 'conflict', message: expect.stringContaining('offboarded') } });
    expect((await h.registry.getTenant(T1))?.status).toBe('offboarded');
    expect(await h.registry.listHubs(T1)).toEqual([]);
    expect(h.hubsInArm()).toEqual([]);
    expect(h.boundTenants()).toEqual([]);

    // Onboarding again afterwards is a new intent and works, queued or not.
    const again = await h.call(h.deps, 'put', { displayName: 'Contoso', regions: ['westeurope', 'northeurope'] });
    if (again.status === 202) await runOnboardingOperation(h.deps, h.sent.at(-1), { dequeueCount: 1, maxDequeueCount: 5 });
    expect((await h.registry.getTenant(T1))?.status).toBe('active');
    expect((await h.registry.listHubs(T1)).map((x) => x.region).sort()).toEqual(['northeurope', 'westeurope']);
  });

  it('a queued PUT accepted while the DELETE runs is the newer intent: it re-onboards even when the DELETE finished first', async () => {
    const h = harness({ queue: true });
    await h.call(h.plain, 'put', { displayName: 'Contoso' });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    let during: Res | undefined;
    const teardown: TeardownFn = async (a) => {
      await sleep(5); // distinct timestamps: the operation is created after the offboarding began
      during = await h.call(h.deps, 'put', { displayName: 'Contoso', regions: ['westeurope', 'northeurope'] });
      return clean(a);
    };
    const del = await h.call({ ...h.deps, teardown }, 'del');
    expect(during?.status).toBe(202);
    expect(del.jsonBody).toMatchObject({ status: 'offboarded' });
    const op = await runOnboardingOperation(h.deps, h.sent.at(-1), { dequeueCount: 1, maxDequeueCount: 5 });
    expect(op?.status).toBe('Succeeded');
    expect((await h.registry.getTenant(T1))?.status).toBe('active');
  });

  it('the worker also refuses an operation recorded before an offboarding that did not see it', async () => {
    const h = harness({ queue: true });
    await h.call(h.plain, 'put', { displayName: 'Contoso' });
    await h.call(h.deps, 'del');
    const offboarded = (await h.registry.getTenant(T1))!;
    // As if the PUT had written its operation just after the DELETE listed the tenant's operations.
    const before = new Date(Date.parse(offboarded.updatedAt) - 1000).toISOString();
    await h.registry.putOperation({ tenantId: T1, operationId: '0f0f0f0f-0000-4000-8000-000000000001', requestHash: 'x', request: { displayName: 'Contoso' }, status: 'NotStarted', createdAt: before, updatedAt: before, attempts: 0 });
    const op = await runOnboardingOperation(h.deps, { tenantId: T1, operationId: '0f0f0f0f-0000-4000-8000-000000000001' }, { dequeueCount: 1, maxDequeueCount: 5 });
    expect(op?.status).toBe('Failed');
    expect((await h.registry.getTenant(T1))?.status).toBe('offboarded');
  });

  it('a repeated DELETE releases the slots a failure halfway left taken, and unwires the hub from the ingest app', async () => {
    const h = harness();
    await h.call(h.plain, 'put', { displayName: 'Contoso' });
    expect(h.boundTenants()).toEqual([T1]);
    const putNamespace = h.registry.putNamespace.bind(h.registry);
    let failures = 1;
    h.registry.putNamespace = async (ns) => {
      if (failures-- > 0) throw new ConnectorError('transient', 'update mdrNamespaces: 503 Server Busy');
      return putNamespace(ns);
    };
    const first = await h.call(h.plain, 'del');
    expect(first.jsonBody).toMatchObject({ status: 'offboarding', failed: [expect.objectContaining({ reason: expect.stringContaining('503') })] });

    const second = await h.call(h.plain, 'del');
    expect(second.jsonBody).toMatchObject({ status: 'offboarded', verified: true, failed: [] });
    expect((await h.registry.listNamespaces()).flatMap((n) => n.tenants)).toEqual([]);
    expect((await h.registry.listIngestApps()).flatMap((a) => a.hubs)).toEqual([]);
    expect(h.hubsInArm()).toEqual([]);
    expect(h.boundTenants()).toEqual([]);
  });

  it('a PUT while the DELETE tears down wins: hubs, bindings and the active status stay', async () => {
    const h = harness();
    await h.call(h.plain, 'put', { displayName: 'Contoso' });
    let during: Res | undefined;
    const del = await h.call({ ...h.plain, teardown: async (a) => ((during = await h.call(h.plain, 'put', { displayName: 'Contoso' })), clean(a)) }, 'del');
    expect(during?.jsonBody.tenant).toMatchObject({ status: 'active' });
    expect(del.jsonBody).toMatchObject({ status: 'active', verified: false });
    expect((del.jsonBody.removed as { kind: string }[]).filter((r) => r.kind === 'event-hub')).toEqual([]);
    expect((await h.registry.listHubs(T1)).map((x) => x.region)).toEqual(['westeurope']);
    expect(h.hubsInArm()).toHaveLength(1);
    expect(h.boundTenants()).toEqual([T1]);
  });

  it('a PUT that lands between the fence and the hub delete: the DELETE puts the hub back', async () => {
    const h = harness();
    await h.call(h.plain, 'put', { displayName: 'Contoso' });
    const deleteHub = h.registry.deleteHub.bind(h.registry);
    h.registry.deleteHub = async (tenantId, region) => {
      const t = (await h.registry.getTenant(tenantId))!;
      await h.registry.putTenant({ ...t, status: 'onboarding' }); // the PUT's first write, after the DELETE's fence read
      return deleteHub(tenantId, region);
    };
    const del = await h.call(h.plain, 'del');
    expect(del.jsonBody).toMatchObject({ verified: false });
    expect((await h.registry.listHubs(T1)).map((x) => x.region)).toEqual(['westeurope']);
    expect(h.hubsInArm()).toHaveLength(1);
    expect(h.boundTenants()).toEqual([T1]);
  });

  it('after a verified offboarding the tenant shows no coverage and ingest trusts none of its subscriptions', async () => {
    const h = harness();
    await h.call(h.plain, 'put', { displayName: 'Contoso' });
    const now = new Date().toISOString();
    await h.registry.putCoverage(T1, [{ tenantId: T1, subscriptionId: SUB, resourceId: `/subscriptions/${SUB}`, target: 'activity-log', region: 'global', state: 'streaming', updatedAt: now } as never]);
    await h.registry.putKnownSubscriptions(T1, [{ tenantId: T1, subscriptionId: SUB, displayName: 'prod', discoveredAt: now }], { replaceAll: true });
    expect((await h.call(h.plain, 'get')).jsonBody.coverage).toEqual({ total: 1, byState: { streaming: 1 } });
    expect((await h.call(h.plain, 'del')).jsonBody).toMatchObject({ status: 'offboarded' });
    expect((await h.call(h.plain, 'get')).jsonBody.coverage).toEqual({ total: 0, byState: {} });
    expect(await h.registry.listKnownSubscriptions(T1)).toEqual([]);
  });

  it('two first PUTs at once: one 201 Created, one 200', async () => {
    const h = harness();
    const both = await Promise.all([h.call(h.plain, 'put', { displayName: 'Contoso' }), h.call(h.plain, 'put', { displayName: 'Contoso' })]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 201]);
  });
});
