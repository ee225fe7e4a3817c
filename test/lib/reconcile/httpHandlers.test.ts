import azf from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { handleReconcileWorkItem } from '../../../src/lib/reconcile/fanOut.js';
import { createCoverageHttpHandler, createReconcileHttpHandler } from '../../../src/lib/reconcile/httpHandlers.js';
import { ValidationError } from '../../../src/lib/errors.js';
import { ONE_SUB, ONE_SUB_TENANT, oneSubscriptionTenant } from './fakeArm.js';

const { HttpRequest, InvocationContext } = azf;
const T = ONE_SUB_TENANT;
const SUB = ONE_SUB;
const setup = oneSubscriptionTenant;
const ctx = () => new InvocationContext({ invocationId: 'i', functionName: 'f' });
const req = (method: string, url: string, id: string) => new HttpRequest({ method, url, params: { id } });

describe('POST /api/tenants/{id}/reconcile', () => {
  it('returns the plan without writing when dryRun=true', async () => {
    const { arm, deps } = await setup();
    const res = await createReconcileHttpHandler(deps)(req('POST', `http://h/api/tenants/${T}/reconcile?dryRun=true`, T), ctx());
    expect(res.status).toBe(200);
    expect((res.jsonBody as { actions: unknown }).actions).toEqual({ create: 1 });
    expect(arm.writes()).toEqual([]);
  });

  it('applies when dryRun is absent', async () => {
    const { arm, deps } = await setup();
    const res = await createReconcileHttpHandler(deps)(req('POST', `http://h/api/tenants/${T}/reconcile`, T), ctx());
    expect((res.jsonBody as { dryRun: boolean }).dryRun).toBe(false);
    expect(arm.writes()).toHaveLength(1);
  });

  it('reads every target again with full=true, which a quiet activity log otherwise spares', async () => {
    const { arm, deps } = await setup();
    const h = createReconcileHttpHandler(deps);
    await h(req('POST', `http://h/api/tenants/${T}/reconcile`, T), ctx());
    const settingsReads = () => arm.calls.filter((c) => c.op.startsWith('list ')).length;
    const before = settingsReads();
    expect((await h(req('POST', `http://h/api/tenants/${T}/reconcile`, T), ctx())).jsonBody).toMatchObject({ trusted: 1 });
    expect(settingsReads()).toBe(before);
    expect((await h(req('POST', `http://h/api/tenants/${T}/reconcile?full=true`, T), ctx())).jsonBody).toMatchObject({ trusted: 0 });
    expect(settingsReads()).toBe(before + 1);
    const bad = await h(req('POST', `http://h/api/tenants/${T}/reconcile?full=always`, T), ctx());
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.jsonBody)).toContain('full');
  });

  it('answers 400 for a malformed id and 404 for an unknown tenant', async () => {
    const { deps } = await setup();
    const h = createReconcileHttpHandler(deps);
    expect((await h(req('POST', 'http://h/api/tenants/acme/reconcile', 'acme'), ctx())).status).toBe(400);
    const other = 'cccccccc-0000-0000-0000-000000000001';
    expect((await h(req('POST', `http://h/api/tenants/${other}/reconcile`, other), ctx())).status).toBe(404);
  });
});

describe('GET /api/tenants/{id}/coverage', () => {
  it('serves the ledger with totals after a run', async () => {
    const { deps } = await setup();
    await createReconcileHttpHandler(deps)(req('POST', `http://h/api/tenants/${T}/reconcile`, T), ctx());
    const res = await createCoverageHttpHandler(deps)(req('GET', `http://h/api/tenants/${T}/coverage`, T), ctx());
    expect(res.status).toBe(200);
    const body = res.jsonBody as { totals: { byState: unknown; covered: number }; entries: { resourceId: string }[] };
    expect(body.totals.byState).toEqual({ created: 1 });
    expect(body.entries.map((e) => e.resourceId)).toEqual([`/subscriptions/${SUB}`]);
  });
});

describe('handleReconcileWorkItem', () => {
  it('reconciles the tenant named by a valid message', async () => {
    const { arm, deps } = await setup();
    const r = await handleReconcileWorkItem(JSON.stringify({ tenantId: T }), deps);
    expect(r?.counts).toEqual({ created: 1 });
    expect(arm.writes()).toHaveLength(1);
  });

  it('throws a ValidationError for a malformed message so it lands in poison with the reason', async () => {
    const { deps } = await setup();
    await expect(handleReconcileWorkItem({ tenant: T }, deps)).rejects.toThrow(ValidationError);
  });

  it('ends quietly for a tenant that is no longer registered', async () => {
    const { arm, deps } = await setup();
    expect(await handleReconcileWorkItem({ tenantId: 'cccccccc-0000-0000-0000-000000000001' }, deps)).toBeUndefined();
    expect(arm.calls).toEqual([]);
  });
});
