import azf from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { createAlertStateHttpHandler } from '../../../src/lib/alerts/httpHandlers.js';
import type { AzureClients } from '../../../src/lib/azure/clientFactory.js';
import { memoryLogger } from '../../../src/lib/log.js';
import { createMemoryRegistry } from '../../../src/lib/registry/memoryRegistry.js';

const { HttpRequest, InvocationContext } = azf;
const T = '11111111-1111-1111-1111-111111111111';
const SUB = '22222222-2222-2222-2222-222222222222';

/** Any ARM call is a failure here: bad input must be rejected before Azure is touched. */
function noArm(calls: string[]): AzureClients {
  const refuse = (what: string) => async () => {
    calls.push(what);
    throw new Error(`unexpected ARM call: ${what}`);
  };
  return {
    armEndpoint: 'https://unused.invalid',
    monitor: refuse('monitor'),
    eventHub: refuse('eventHub'),
    operationalInsights: refuse('operationalInsights'),
    security: refuse('security'),
    subscriptions: refuse('subscriptions'),
    resourceGraph: refuse('resourceGraph'),
    appService: refuse('appService'),
    managedServices: refuse('managedServices'),
  };
}

async function handler() {
  const registry = createMemoryRegistry();
  await registry.putTenant({ tenantId: T, displayName: 'Contoso', regions: ['eastus'], entraWorkspaceIds: [], options: { activityLog: true, storage: true, keyVault: true, entraDataExport: true, defenderAlerts: true, storageServices: ['blob'] }, status: 'active', createdAt: 'x', updatedAt: 'x' });
  const calls: string[] = [];
  const logger = memoryLogger();
  return { calls, logger, h: createAlertStateHttpHandler({ clients: noArm(calls), registry, logger }) };
}

const ctx = () => new InvocationContext({ functionName: 'alertState', invocationId: 'i-1' });
const post = (params: Record<string, string>, body: string | undefined) =>
  new HttpRequest({ method: 'POST', url: `http://localhost/api/tenants/${params.id}/alerts/${encodeURIComponent(params.alertName ?? '')}/state`, headers: { 'content-type': 'application/json' }, params, ...(body === undefined ? {} : { body: { string: body } }) });
const good = { state: 'Dismissed', subscriptionId: SUB, location: 'centralus' };

describe('alert-state HTTP handler input validation', () => {
  it.each([
    ['an unknown state', { ...good, state: 'Closed' }, 'state'],
    ['a missing subscription', { state: 'Resolved', location: 'centralus' }, 'subscriptionId'],
    ['a subscription that is not a GUID', { ...good, subscriptionId: '../../x' }, 'subscriptionId'],
    ['a location with a slash', { ...good, location: 'central/us' }, 'location'],
    ['a resource group of dots', { ...good, resourceGroup: '..' }, 'resourceGroup'],
    ['a resource group with a slash', { ...good, resourceGroup: 'rg/../x' }, 'resourceGroup'],
    ['an unknown field', { ...good, reason: 'fp' }, 'reason'],
  ])('answers 400 naming the field for %s', async (_n, body, field) => {
    const { h, calls } = await handler();
    const res = await h(post({ id: T, alertName: 'a1' }, JSON.stringify(body)), ctx());
    expect(res.status).toBe(400);
    expect(res.headers).toMatchObject({ 'content-type': 'application/problem+json' });
    const pj = res.jsonBody as { status: number; errors: { field: string; message: string }[]; type: string };
    expect(pj.status).toBe(400);
    expect(pj.errors.map((e) => e.field)).toContain(field);
    expect(calls).toEqual([]);
  });

  it.each([
    ['path traversal', '..', 'alertName'],
    ['a slash', 'a/b', 'alertName'],
    ['a control character', 'a\u0001b', 'alertName'],
    ['a backslash', 'a\\b', 'alertName'],
  ])('answers 400 for an alert name with %s', async (_n, alertName, field) => {
    const { h, calls } = await handler();
    const res = await h(post({ id: T, alertName }, JSON.stringify(good)), ctx());
    expect(res.status).toBe(400);
    expect((res.jsonBody as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual([field]);
    expect(calls).toEqual([]);
  });

  it('answers 400 for a tenant id that is not a GUID', async () => {
    const { h } = await handler();
    const res = await h(post({ id: 'contoso', alertName: 'a1' }, JSON.stringify(good)), ctx());
    expect(res.status).toBe(400);
    expect((res.jsonBody as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(['tenantId']);
  });

  it.each([
    ['malformed JSON', '{"state":'],
    ['an empty body', undefined],
    ['a JSON array', '[1]'],
  ])('answers 400 for %s', async (_n, body) => {
    const { h, calls } = await handler();
    const res = await h(post({ id: T, alertName: 'a1' }, body), ctx());
    expect(res.status).toBe(400);
    expect((res.jsonBody as { errors: unknown[] }).errors.length).toBeGreaterThan(0);
    expect(calls).toEqual([]);
  });

  it('answers 404 for a tenant that is not registered, without calling Azure', async () => {
    const { h, calls } = await handler();
    const res = await h(post({ id: '99999999-9999-9999-9999-999999999999', alertName: 'a1' }, JSON.stringify(good)), ctx());
    expect(res.status).toBe(404);
    expect((res.jsonBody as { detail: string }).detail).toContain('is not registered');
    expect(calls).toEqual([]);
  });

  it('answers 503 with Retry-After when Azure is unreachable', async () => {
    const registry = createMemoryRegistry();
    await registry.putTenant({ tenantId: T, displayName: 'C', regions: [], entraWorkspaceIds: [], options: { activityLog: true, storage: true, keyVault: true, entraDataExport: true, defenderAlerts: true, storageServices: [] }, status: 'active', createdAt: 'x', updatedAt: 'x' });
    const clients = { ...noArm([]), subscriptions: async () => ({ subscriptions: { list: () => ({ [Symbol.asyncIterator]: async function* () { throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }); } }) } }) } as unknown as AzureClients;
    const res = await createAlertStateHttpHandler({ clients, registry, logger: memoryLogger() })(post({ id: T, alertName: 'a1' }, JSON.stringify(good)), ctx());
    expect(res.status).toBe(503);
    expect(res.headers).toMatchObject({ 'retry-after': '60' });
  });
});
