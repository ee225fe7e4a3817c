import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateScenario } from '../../../sim/generateScenario.js';
import { buildFanOut, handleReconcileWorkItem } from '../../../src/lib/reconcile/fanOut.js';
import { createRegistry } from '../../../src/lib/registry/createRegistry.js';
import type { TenantRegistry } from '../../../src/lib/registry/tenantRegistry.js';
import { useAzurite } from '../../support/azurite.js';
import { settingsFor, startHarness, tenantRecord, type SimHarness } from './simHarness.js';

// Two tenants: the first has subscriptions 1 and 3, the second subscription 2 (generateScenario spreads round-robin).
const scenario = generateScenario({ subscriptions: 3, resources: 12, tenants: 2, seed: 5 });
const [first, second] = scenario.tenants.map((t) => t.tenantId) as [string, string];

describe('fan-out and queue handling with the Azure Table registry (Azurite)', () => {
  const az = useAzurite();
  let registry: TenantRegistry;
  let h: SimHarness;
  beforeAll(async () => {
    registry = createRegistry(settingsFor(scenario, { AzureWebJobsStorage: az.connectionString }));
    await registry.putTenant(tenantRecord(second, { displayName: 'Globex' }));
    h = await startHarness({ scenario, registry });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('enqueues one item per tenant, split into per-subscription items above the threshold', async () => {
    const whole = await buildFanOut({ registry, clients: h.clients, split: 50 });
    expect(whole.map((i) => i.tenantId).sort()).toEqual([first, second].sort());
    expect(whole.every((i) => i.subscriptionIds === undefined)).toBe(true);
    const split = await buildFanOut({ registry, clients: h.clients, split: 1 });
    expect(split.filter((i) => i.tenantId === first).map((i) => i.subscriptionIds?.length)).toEqual([1, 1]);
  });

  it("isolates one tenant's missing delegation from the other tenants' runs", async () => {
    const revoked = scenario.tenants[1]!.subscriptions[0]!.subscriptionId;
    h.sim.state.revokeDelegation(revoked);
    const items = await buildFanOut({ registry, clients: h.clients, split: 1 });
    const reports = await Promise.all(items.map((i) => handleReconcileWorkItem(JSON.stringify(i), h.deps)));
    const byTenant = (t: string) => reports.filter((r) => r?.tenantId === t);
    expect(byTenant(second).map((r) => r?.result)).toEqual(['failed']);
    expect(byTenant(second)[0]?.errors[0]?.message).toMatch(/Lighthouse delegation/);
    expect(byTenant(first).map((r) => r?.result)).toEqual(['succeeded', 'succeeded']);
    // per-subscription items each add their entries to the Table-storage ledger
    const ledger = await registry.listCoverage(first);
    expect(new Set(ledger.map((e) => e.subscriptionId)).size).toBe(2);
    // generated subscriptions have no automation resource group: Defender export is reported, not attempted
    expect(ledger.filter((e) => e.target !== 'defender-export').every((e) => e.state === 'created')).toBe(true);
    expect(ledger.filter((e) => e.target === 'defender-export').map((e) => e.state)).toEqual(['unsupported', 'unsupported']);
    expect((await registry.getTenant(second))?.lastReconcile?.result).toBe('failed');
  });

  it('reads back a steady-state run from Table storage with every reachable target streaming and no ARM writes', async () => {
    h.sim.clearRequests();
    // Two hours later: past the grace during which a new setting keeps its `created` state in the ledger.
    const r = await handleReconcileWorkItem({ tenantId: first }, { ...h.deps, now: () => new Date(Date.now() + 2 * 3_600_000) });
    expect(h.writes()).toEqual([]);
    const ledger = await registry.listCoverage(first);
    expect(ledger).toHaveLength(r?.plan.length ?? -1);
    expect(new Set(ledger.filter((e) => e.target !== 'defender-export').map((e) => e.state))).toEqual(new Set(['streaming']));
  });

  it('rejects a malformed queue message with the reason, for the poison queue', async () => {
    await expect(handleReconcileWorkItem('{"tenantId":"nope"}', h.deps)).rejects.toThrow(/tenantId: tenantId must be a tenant GUID/);
  });
});
