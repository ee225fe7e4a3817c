import type { HttpResponseInit } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArmSimulator, type ArmSimulator } from '../../../sim/armSimulator.js';
import { parseScenario } from '../../../sim/scenario.js';
import { useAzurite } from '../../support/azurite.js';
import { onboardingHttpWorld } from './onboardingHttpWorld.js';

// The long path of PUT /api/tenants/{id}: 202 + operation URL, the work item on the real storage queue (Azurite),
// the queue handler finishing it against the ARM simulator, GET on the operation; retries are the same operation.
const PROVIDER = '11111111-1111-1111-1111-111111111111';
const PROVIDER_SUB = '22222222-2222-2222-2222-222222222222';
const T1 = 'aaaaaaaa-0000-4000-8000-000000000001';
const T2 = 'aaaaaaaa-0000-4000-8000-000000000002';

const az = useAzurite();
let sim: ArmSimulator;
let n = 0;
beforeAll(async () => {
  sim = await startArmSimulator({ scenario: parseScenario({ provider: { tenantId: PROVIDER, subscriptionId: PROVIDER_SUB, poolResourceGroup: 'mdr-ingest' } }), asyncOperationPolls: 3 });
}, 30_000);
afterAll(async () => {
  await sim?.stop();
});

const world = () =>
  onboardingHttpWorld(az, sim, {
    MDR_PROVIDER_TENANT_ID: PROVIDER,
    MDR_PROVIDER_SUBSCRIPTION_ID: PROVIDER_SUB,
    MDR_INGEST_PRINCIPAL_ID: '33333333-3333-3333-3333-333333333333',
    MDR_EH_POOL_REGIONS: 'westeurope',
    MDR_EH_POOL_NAME_PREFIX: `long${++n}`,
  });

const body = (r: HttpResponseInit) => r.jsonBody as Record<string, unknown>;
const header = (r: HttpResponseInit, name: string) => (r.headers as Record<string, string> | undefined)?.[name];

describe('long onboarding (202 + operation)', () => {
  it('answers 202 with Location, Operation-Location and Retry-After when the pool must grow, and the operation reports the result once the queue work ran', async () => {
    const w = world();
    const res = await w.put(T1, { displayName: 'Contoso' });
    expect(res.status).toBe(202);
    const op = body(res).operation as { id: string; status: string };
    expect(op.status).toBe('NotStarted');
    const url = `/api/tenants/${T1}/operations/${op.id}`;
    expect(header(res, 'location')).toBe(url);
    expect(header(res, 'operation-location')).toBe(url);
    expect(Number(header(res, 'retry-after'))).toBeGreaterThan(0);
    // nothing was provisioned within the request
    expect(await w.deps.registry.listHubs(T1)).toEqual([]);

    const before = await w.getOp(T1, op.id);
    expect(before.status).toBe(200);
    expect(body(before).status).toBe('NotStarted');
    expect(header(before, 'retry-after')).toBeDefined();

    expect(await w.drainQueue()).toBe(1);
    const after = await w.getOp(T1, op.id);
    expect(body(after)).toMatchObject({ id: op.id, status: 'Succeeded' });
    expect(header(after, 'retry-after')).toBeUndefined();
    const hubs = (body(after).result as { hubs: { hub: string; region: string; state: string }[] }).hubs;
    expect(hubs).toEqual([expect.objectContaining({ hub: `mdr-${T1}`, region: 'westeurope', state: 'ready' })]);
    expect((await w.deps.registry.getTenant(T1))?.status).toBe('active');
  });

  it('gives a retried PUT the same operation and queues it again while it has not started; a finished one is not run twice', async () => {
    const w = world();
    const a = await w.put(T1, { displayName: 'Contoso' });
    const b = await w.put(T1, { displayName: 'Contoso' });
    expect(b.status).toBe(202);
    expect((body(b).operation as { id: string }).id).toBe((body(a).operation as { id: string }).id);
    expect(header(b, 'operation-location')).toBe(header(a, 'operation-location'));
    expect(await w.drainQueue()).toBe(2); // both deliveries handled; the second finds it finished
    expect((await w.deps.registry.listOperations(T1)).map((o) => [o.status, o.attempts])).toEqual([['Succeeded', 1]]);
  });

  it('refuses a different body while an operation is under way (409) and takes the quick path once the namespace is ready', async () => {
    const w = world();
    const a = await w.put(T1, { displayName: 'Contoso' });
    expect(a.status).toBe(202);
    const other = await w.put(T1, { displayName: 'Contoso renamed' });
    expect(other.status).toBe(409);
    await w.drainQueue();
    // the namespace exists and is ready now: the next tenant fits in it and is onboarded within the request
    const quick = await w.put(T2, { displayName: 'Fabrikam' });
    expect(quick.status).toBe(201);
    expect((body(quick).hubs as { namespace: string }[])[0]?.namespace).toBe((await w.deps.registry.listHubs(T1))[0]?.namespace);
    expect(await w.deps.registry.listOperations(T2)).toEqual([]);
    // and the renamed body now runs directly too (no operation under way, no growth needed)
    expect((await w.put(T1, { displayName: 'Contoso renamed' })).status).toBe(200);
  });

  it('answers 404 for an unknown operation and 400 for a malformed id', async () => {
    const w = world();
    expect((await w.getOp(T1, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await w.getOp(T1, '../../x')).status).toBe(400);
  });
});
