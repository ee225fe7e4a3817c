import type { HttpResponseInit } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { createAlertStateHttpHandler } from '../../../src/lib/alerts/httpHandlers.js';
import { createHealthHttpHandler } from '../../../src/lib/health/httpHandlers.js';
import { createMemoryPartitionInfo } from '../../../src/lib/health/memoryPartitionInfo.js';
import type { HttpHandler } from '../../../src/lib/http/problem.js';
import { parseQuery, queryBoolean } from '../../../src/lib/http/query.js';
import {
  createDeleteTenantHandler,
  createGetOnboardingHandler,
  createGetTenantHandler,
  createListTenantsHandler,
  createPutTenantHandler,
} from '../../../src/lib/onboarding/httpHandlers.js';
import type { TeardownFn } from '../../../src/lib/onboarding/offboardTenant.js';
import { createCoverageHttpHandler, createReconcileHttpHandler } from '../../../src/lib/reconcile/httpHandlers.js';
import { httpRequest, invocation } from '../../support/http.js';
import { ONE_SUB, ONE_SUB_TENANT, oneSubscriptionTenant } from '../reconcile/fakeArm.js';

/** Issue #12, point 4: a typo in a query parameter is a 400 naming it, never a silent run for real. */
const T = ONE_SUB_TENANT;

async function world() {
  const one = await oneSubscriptionTenant();
  const teardowns: boolean[] = [];
  const teardown: TeardownFn = async ({ dryRun }) => {
    teardowns.push(dryRun);
    return { dryRun, removed: [], failed: [], verified: !dryRun, remaining: [], passes: 1 };
  };
  const onboarding = { settings: one.settings, registry: one.registry, clients: one.arm.clients, teardown };
  const health = { registry: one.registry, partitionInfo: createMemoryPartitionInfo(), settings: { health: { silenceThresholdMinutes: 120 }, cloud: { eventHubsSuffix: 'servicebus.windows.net' } } };
  const routes: Record<string, { handler: HttpHandler; method: string; path: string; params: Record<string, string>; body?: unknown }> = {
    'GET /tenants': { handler: createListTenantsHandler(onboarding), method: 'GET', path: 'tenants', params: {} },
    'GET /tenants/{id}': { handler: createGetTenantHandler(onboarding), method: 'GET', path: `tenants/${T}`, params: { id: T } },
    'PUT /tenants/{id}': { handler: createPutTenantHandler(onboarding), method: 'PUT', path: `tenants/${T}`, params: { id: T }, body: { displayName: 'Acme' } },
    'DELETE /tenants/{id}': { handler: createDeleteTenantHandler(onboarding), method: 'DELETE', path: `tenants/${T}`, params: { id: T } },
    'GET /tenants/{id}/onboarding': { handler: createGetOnboardingHandler(onboarding), method: 'GET', path: `tenants/${T}/onboarding`, params: { id: T } },
    'POST /tenants/{id}/reconcile': { handler: createReconcileHttpHandler(one.deps), method: 'POST', path: `tenants/${T}/reconcile`, params: { id: T } },
    'GET /tenants/{id}/coverage': { handler: createCoverageHttpHandler(one.deps), method: 'GET', path: `tenants/${T}/coverage`, params: { id: T } },
    'GET /tenants/{id}/health': { handler: createHealthHttpHandler(health), method: 'GET', path: `tenants/${T}/health`, params: { id: T } },
    'POST /tenants/{id}/alerts/{alertName}/state': {
      handler: createAlertStateHttpHandler({ clients: one.arm.clients, registry: one.registry }),
      method: 'POST',
      path: `tenants/${T}/alerts/a1/state`,
      params: { id: T, alertName: 'a1' },
      body: { state: 'Dismissed', subscriptionId: ONE_SUB, location: 'westeurope' },
    },
  };
  const call = async (route: string, query: string): Promise<HttpResponseInit & { jsonBody: { errors?: { field: string; message: string }[] } }> => {
    const r = routes[route]!;
    return (await r.handler(httpRequest({ method: r.method, path: `${r.path}${query}`, params: r.params, body: r.body }), invocation())) as HttpResponseInit & { jsonBody: { errors?: { field: string; message: string }[] } };
  };
  return { ...one, routes, call, teardowns };
}

describe('every HTTP handler rejects query parameters it does not take', () => {
  it.each([
    'GET /tenants',
    'GET /tenants/{id}',
    'PUT /tenants/{id}',
    'DELETE /tenants/{id}',
    'GET /tenants/{id}/onboarding',
    'POST /tenants/{id}/reconcile',
    'GET /tenants/{id}/coverage',
    'GET /tenants/{id}/health',
    'POST /tenants/{id}/alerts/{alertName}/state',
  ])('%s answers 400 naming an unknown parameter, and writes nothing', async (route) => {
    const w = await world();
    const res = await w.call(route, '?verbose=true&code=function-key-is-the-hosts');
    expect(res.status).toBe(400);
    expect(res.jsonBody.errors).toEqual([expect.objectContaining({ field: 'verbose', message: expect.stringContaining('unknown query parameter') })]);
    expect(w.arm.writes()).toEqual([]);
    expect(w.teardowns).toEqual([]);
  });
});

describe('a typo of dryRun never runs for real', () => {
  it.each(['?dryrun=true', '?dry-run=true', '?DryRun=true'])('DELETE /tenants/{id}%s answers 400 and offboards nothing', async (q) => {
    const w = await world();
    const res = await w.call('DELETE /tenants/{id}', q);
    expect(res.status).toBe(400);
    expect(res.jsonBody.errors?.[0]?.field).toBe(q.slice(1, q.indexOf('=')));
    expect(w.teardowns).toEqual([]);
    expect((await w.registry.getTenant(T))?.status).toBe('active');
  });

  it.each(['?dryrun=true', '?dry-run=true'])('POST /tenants/{id}/reconcile%s answers 400 and makes no ARM call', async (q) => {
    const w = await world();
    const res = await w.call('POST /tenants/{id}/reconcile', q);
    expect(res.status).toBe(400);
    expect(w.arm.calls).toEqual([]);
  });

  it.each(['?dryRun=1', '?dryRun=TRUE', '?dryRun=', '?dryRun=yes', '?dryRun=true&dryRun=false'])('answers 400 to the boolean %s (only true or false, once)', async (q) => {
    const w = await world();
    expect((await w.call('POST /tenants/{id}/reconcile', q)).status).toBe(400);
    expect((await w.call('DELETE /tenants/{id}', q)).status).toBe(400);
    expect(w.arm.calls).toEqual([]);
    expect(w.teardowns).toEqual([]);
  });

  it('still runs a dry run spelled right, and reads nothing it was not asked to', async () => {
    const w = await world();
    expect((await w.call('DELETE /tenants/{id}', '?dryRun=true')).status).toBe(200);
    expect(w.teardowns).toEqual([true]);
    expect((await w.call('POST /tenants/{id}/reconcile', '?dryRun=true&full=false')).status).toBe(200);
    expect(w.arm.writes()).toEqual([]);
  });
});

describe('parseQuery', () => {
  const q = (s: string) => ({ query: new URLSearchParams(s) });
  it('returns typed values and ignores the function key', () => {
    expect(parseQuery(q('dryRun=false&code=k'), { dryRun: queryBoolean.optional() })).toEqual({ dryRun: false });
  });
  it('names every problem at once', () => {
    try {
      parseQuery(q('dryRun=maybe&x=1&x=2'), { dryRun: queryBoolean.optional() });
      expect.unreachable();
    } catch (e) {
      expect((e as { problems: { field: string }[] }).problems.map((p) => p.field).sort()).toEqual(['dryRun', 'x', 'x']);
    }
  });
});
