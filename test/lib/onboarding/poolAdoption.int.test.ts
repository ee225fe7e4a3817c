import type { HttpResponseInit } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArmSimulator, type ArmSimulator } from '../../../sim/armSimulator.js';
import { parseScenario } from '../../../sim/scenario.js';
import { addNamespace } from '../../../sim/state.js';
import { namespaceNameFor } from '../../../src/lib/onboarding/namespacePool.js';
import { useAzurite } from '../../support/azurite.js';
import { onboardingHttpWorld } from './onboardingHttpWorld.js';

// infra/main.bicep creates each region's first pool namespace (<prefix>-<region>-01, infra/modules/pool.bicep).
// The app adopts such a namespace instead of treating the region as empty: the first onboarding after an infra
// deployment runs within the request. Only a namespace that is provably ours is adopted: its id in the pool resource
// group of the provider subscription, our name for the region, the region's location. Azurite + the ARM simulator.
const PROVIDER = '11111111-1111-1111-1111-111111111111';
const PROVIDER_SUB = '22222222-2222-2222-2222-222222222222';
const POOL_RG = 'mdr-ingest';
const T1 = 'bbbbbbbb-0000-4000-8000-000000000001';
const T2 = 'bbbbbbbb-0000-4000-8000-000000000002';
const REGION = 'westeurope';

const az = useAzurite();
let sim: ArmSimulator;
beforeAll(async () => {
  // As infra/main.bicep leaves the pool: the first namespace of the region, in the pool resource group; plus two
  // kinds that must not be adopted: our name in another resource group, other names in the pool resource group.
  sim = await startArmSimulator({
    scenario: parseScenario({
      provider: { tenantId: PROVIDER, subscriptionId: PROVIDER_SUB, poolResourceGroup: POOL_RG },
      eventHubNamespaces: [
        { name: namespaceNameFor('infra', REGION, 1), resourceGroup: POOL_RG, location: REGION },
        { name: namespaceNameFor('elsewhere', REGION, 1), resourceGroup: 'someone-elses-rg', location: REGION },
        // near misses of 'othername-westeurope-01' (not our scheme for westeurope)
        { name: 'othername-westeurope-1', resourceGroup: POOL_RG, location: REGION },
        { name: 'othername-westeurope-01-old', resourceGroup: POOL_RG, location: REGION },
        { name: 'othername-northeurope-01', resourceGroup: POOL_RG, location: REGION },
      ],
    }),
    asyncOperationPolls: 2,
  });
}, 60_000);
afterAll(async () => {
  await sim?.stop();
});

function world(namePrefix: string, extra: Record<string, string> = {}) {
  const { deps, put, drainQueue } = onboardingHttpWorld(az, sim, {
    MDR_PROVIDER_TENANT_ID: PROVIDER,
    MDR_PROVIDER_SUBSCRIPTION_ID: PROVIDER_SUB,
    MDR_INGEST_PRINCIPAL_ID: '33333333-3333-3333-3333-333333333333',
    MDR_EH_POOL_REGIONS: REGION,
    MDR_EH_POOL_RESOURCE_GROUP: POOL_RG,
    MDR_EH_POOL_NAME_PREFIX: namePrefix,
    ...extra,
  });
  const first = namespaceNameFor(namePrefix, REGION, 1);
  const poolId = (name: string) => `/subscriptions/${PROVIDER_SUB}/resourceGroups/${POOL_RG}/providers/Microsoft.EventHub/namespaces/${name}`;
  /** PUTs on the namespace resource itself (not its hubs or rules): a namespace create. */
  const namespacePuts = (name: string) => sim.requests.filter((r) => r.method === 'PUT' && /\/providers\/Microsoft\.EventHub\/namespaces\/[^/]+$/i.test(r.path) && r.path.toLowerCase().endsWith(`/${name.toLowerCase()}`));
  return { deps, put, drainQueue, first, poolId, namespacePuts };
}

const hubsOf = (r: HttpResponseInit) => (r.jsonBody as { hubs: { namespace: string; state: string }[] }).hubs;

describe('adopting pool namespaces that infra/main.bicep created', () => {
  it('onboards the first tenant of a region within the request into the infra-created namespace, without creating a namespace', async () => {
    const w = world('infra');
    const res = await w.put(T1, { displayName: 'Contoso' });
    expect(res.status).toBe(201); // created within the request, not 202
    expect(hubsOf(res)).toEqual([expect.objectContaining({ namespace: w.first, state: 'ready' })]);
    expect(w.namespacePuts(w.first)).toEqual([]);
    expect(await w.deps.registry.listOperations(T1)).toEqual([]);
    expect(await w.deps.registry.listNamespaces(REGION)).toEqual([
      expect.objectContaining({ namespace: w.first, namespaceId: w.poolId(w.first), state: 'ready', tier: 'Standard', maxHubs: 10, tenants: [T1] }),
    ]);
    // the next tenant shares it, and a repeated PUT stays 200 with nothing created
    expect((await w.put(T2, { displayName: 'Fabrikam' })).status).toBe(201);
    expect((await w.put(T1, { displayName: 'Contoso' })).status).toBe(200);
    expect((await w.deps.registry.listNamespaces(REGION)).map((x) => x.tenants.length)).toEqual([2]);
    expect(w.namespacePuts(w.first)).toEqual([]);
  });

  it('adopts it even when pool growth is off (adopting is not growing)', async () => {
    const w = world('infra', { MDR_EH_POOL_GROWTH: 'false' });
    const res = await w.put(T1, { displayName: 'Contoso' });
    expect(res.status).toBe(201);
    expect(hubsOf(res)[0]?.namespace).toBe(w.first);
  });

  it('answers 202 while the existing namespace is still being provisioned, then adopts it without a namespace PUT once it is', async () => {
    const w = world('creating');
    const ns = addNamespace(sim.state, PROVIDER_SUB, POOL_RG, w.first, REGION, 'Standard', 1, 'Creating');
    const res = await w.put(T1, { displayName: 'Contoso' });
    expect(res.status).toBe(202);
    expect(await w.deps.registry.listNamespaces(REGION)).toEqual([]); // the PUT only read
    ns.properties.provisioningState = 'Succeeded'; // the infra deployment finishes
    await w.drainQueue();
    expect((await w.deps.registry.listOperations(T1)).map((o) => o.status)).toEqual(['Succeeded']);
    expect(await w.deps.registry.listNamespaces(REGION)).toEqual([expect.objectContaining({ namespace: w.first, state: 'ready', tenants: [T1] })]);
    expect(w.namespacePuts(w.first)).toEqual([]);
  });

  it('does not adopt our name in another resource group: the pool grows in its own resource group (202)', async () => {
    const w = world('elsewhere');
    const res = await w.put(T1, { displayName: 'Contoso' });
    expect(res.status).toBe(202);
    await w.drainQueue();
    expect(await w.deps.registry.listNamespaces(REGION)).toEqual([expect.objectContaining({ namespace: w.first, namespaceId: w.poolId(w.first), state: 'ready' })]);
    expect(w.namespacePuts(w.first).map((r) => r.path.toLowerCase())).toEqual([w.poolId(w.first).toLowerCase()]);
  });

  it('does not adopt a namespace of the pool resource group that has another name (202, a namespace of ours is created)', async () => {
    const w = world('othername');
    expect((await w.put(T1, { displayName: 'Contoso' })).status).toBe(202);
    await w.drainQueue();
    const recorded = await w.deps.registry.listNamespaces(REGION);
    expect(recorded.map((x) => x.namespace)).toEqual([w.first]);
    expect(recorded[0]?.namespaceId).toBe(w.poolId(w.first));
    expect(w.namespacePuts(w.first)).toHaveLength(1);
  });

  it('refuses a namespace with our name in the pool resource group but in another location, within the request, recording and creating nothing', async () => {
    const w = world('misplaced');
    addNamespace(sim.state, PROVIDER_SUB, POOL_RG, w.first, 'northeurope', 'Standard', 1);
    const res = await w.put(T1, { displayName: 'Contoso' });
    expect(res.status).toBe(424);
    expect(JSON.stringify(res.jsonBody)).toMatch(/is in northeurope, not westeurope: it is not adopted/);
    expect(await w.deps.registry.listNamespaces(REGION)).toEqual([]);
    expect(await w.deps.registry.listOperations(T1)).toEqual([]);
    expect(w.namespacePuts(w.first)).toEqual([]);
  });
});
