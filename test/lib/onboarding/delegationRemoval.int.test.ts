import { afterEach, describe, expect, it } from 'vitest';
import { parseScenario } from '../../../sim/scenario.js';
import { offboardTenant, type OffboardDeps, type TeardownFn } from '../../../src/lib/onboarding/offboardTenant.js';
import { reconcileTenant } from '../../../src/lib/reconcile/reconcileTenant.js';
import { teardownTenantExports } from '../../../src/lib/reconcile/teardown.js';
import { ACME, startHarness, type SimHarness } from '../reconcile/simHarness.js';

const S1 = 'aaaaaaaa-1111-0000-0000-000000000001';
const S2 = 'aaaaaaaa-2222-0000-0000-000000000002';
const OTHER_MSP = 'eeeeeeee-0000-0000-0000-000000000001';
const PROVIDER = 'bbbbbbbb-0000-0000-0000-000000000001';

function scenario(over: { s2GrantsDelete?: boolean } = {}) {
  const sub = (id: string, extra: Record<string, unknown> = {}) => ({
    subscriptionId: id,
    displayName: `acme-${id.slice(9, 13)}`,
    resourceGroups: [{ name: 'MDRAutomation', location: 'westeurope' }, { name: 'app', location: 'westeurope' }],
    keyVaults: [{ name: `kv-${id.slice(9, 13)}`, resourceGroup: 'app', location: 'westeurope' }],
    ...extra,
  });
  return parseScenario({
    provider: { tenantId: PROVIDER, subscriptionId: 'bbbbbbbb-1111-0000-0000-000000000001', poolResourceGroup: 'rg-pool' },
    tenants: [
      // S1 is also delegated to another MSP: its delegation is the customer's business, never ours to remove.
      { tenantId: ACME, displayName: 'Acme', subscriptions: [sub(S1, { managedByTenants: [OTHER_MSP] }), sub(S2, { delegationGrantsDelete: over.s2GrantsDelete ?? true })] },
      { tenantId: OTHER_MSP, displayName: 'Another MSP' },
    ],
  });
}

const assignmentsOf = (h: SimHarness, sub: string) =>
  h.sim.state.list(`/subscriptions/${sub}/providers/Microsoft.ManagedServices/registrationAssignments`).map((a) => String(h.sim.state.get(String(a.properties.registrationDefinitionId))?.properties.managedByTenantId));

/**
 * Offboarding removes the provider's own Lighthouse registration assignments through the delegated Managed Services
 * Registration assignment Delete Role — last, after every object of ours is verified gone (the delegation is what
 * lets us see and remove them), only while the tenant is still being offboarded, and only the provider's.
 */
describe('offboarding removes the Lighthouse delegation (ARM simulator)', () => {
  let h: SimHarness | undefined;
  afterEach(async () => h?.stop());

  async function onboarded(over: { s2GrantsDelete?: boolean } = {}): Promise<{ h: SimHarness; deps: OffboardDeps }> {
    h = await startHarness({ scenario: scenario(over) });
    await reconcileTenant(ACME, h.deps);
    h.sim.clearRequests();
    return { h, deps: { settings: h.settings, registry: h.registry, clients: h.clients, delegationPollMs: 1 } };
  }

  it("removes the provider's registration assignment in each subscription, after the verified teardown, and keeps another tenant's", async () => {
    const { h, deps } = await onboarded();
    expect(assignmentsOf(h, S1).sort()).toEqual([PROVIDER, OTHER_MSP].sort());
    const off = await offboardTenant(deps, ACME);
    expect(off).toMatchObject({ verified: true, failed: [], status: 'offboarded' });
    expect(off.delegationRemoval.byProvider).toMatchObject({ verified: true, failed: [], kept: [{ subscriptionId: S1, managedByTenantId: OTHER_MSP }] });
    expect(off.delegationRemoval.byProvider.removed.map((r) => r.subscriptionId).sort()).toEqual([S1, S2]);
    expect(assignmentsOf(h, S1)).toEqual([OTHER_MSP]);
    expect(assignmentsOf(h, S2)).toEqual([]);
    expect(h.sim.state.accessible(S1) || h.sim.state.accessible(S2)).toBe(false);
    // Order: every request for our objects in the customer's subscriptions came before the first assignment delete.
    const reqs = h.sim.requests;
    const firstDelegationDelete = reqs.findIndex((r) => r.method === 'DELETE' && /registrationAssignments/i.test(r.path));
    const lastTeardown = reqs.map((r, i) => (/^\/subscriptions\/aaaaaaaa/i.test(r.path) && !/ManagedServices/i.test(r.path) ? i : -1)).reduce((a, b) => Math.max(a, b), -1);
    expect(firstDelegationDelete).toBeGreaterThan(lastTeardown);
    expect(reqs.filter((r) => r.method === 'DELETE' && /diagnosticSettings/i.test(r.path)).length).toBeGreaterThan(0);
    // The customer still has the policies and definitions to remove: the commands say how.
    expect(off.delegationRemoval.note).toMatch(/removed its registration assignments in 2 subscription/);
    expect(off.delegationRemoval.commands.join('\n')).toContain('az managedservices definition delete');
  });

  it('keeps the delegation while objects of ours remain, and says why', async () => {
    const { h, deps } = await onboarded();
    const unverified: TeardownFn = async (a) => ({ ...(await teardownTenantExports(a)), verified: false, remaining: [{ target: 'keyvault-diagnostics', resourceId: '/x', name: 'mdr-export' }] });
    const off = await offboardTenant({ ...deps, teardown: unverified }, ACME);
    expect(off.status).toBe('offboarding');
    expect(off.delegationRemoval.byProvider).toMatchObject({ removed: [], verified: false, skipped: expect.stringContaining('not all removed') });
    expect(h.sim.requests.filter((r) => r.method === 'DELETE' && /registrationAssignments/i.test(r.path))).toEqual([]);
    expect(assignmentsOf(h, S2)).toEqual([PROVIDER]);
    expect(off.delegationRemoval.note).toContain('could not remove');
  });

  it('falls back to the customer commands, with the reason, where the delegation does not grant the Delete role', async () => {
    const { h, deps } = await onboarded({ s2GrantsDelete: false });
    const off = await offboardTenant(deps, ACME);
    const d = off.delegationRemoval.byProvider;
    expect(d.removed.map((r) => r.subscriptionId)).toEqual([S1]);
    expect(d.failed).toEqual([{ subscriptionId: S2, reason: expect.stringMatching(/registrationAssignments\/delete|AuthorizationFailed|delegation does not grant/) }]);
    expect(d.verified).toBe(false);
    expect(assignmentsOf(h, S2)).toEqual([PROVIDER]);
    expect(off.delegationRemoval.note).toContain(S2);
    expect(off.delegationRemoval.commands.join('\n')).toContain('az managedservices assignment delete');
    // Our objects are gone either way: the tenant is offboarded, a repeated DELETE retries the delegation.
    expect(off.status).toBe('offboarded');
  });

  it('leaves the delegation of a tenant onboarded again while it was being offboarded (the fence)', async () => {
    const { h, deps } = await onboarded();
    const reonboarded: TeardownFn = async (a) => {
      const r = await teardownTenantExports(a);
      const t = (await h.registry.getTenant(ACME))!;
      await h.registry.putTenant({ ...t, status: 'active' }); // PUT /api/tenants/{id} came in meanwhile
      return r;
    };
    const off = await offboardTenant({ ...deps, teardown: reonboarded }, ACME);
    expect(off.delegationRemoval.byProvider).toMatchObject({ removed: [], skipped: expect.stringContaining('onboarded again') });
    expect(assignmentsOf(h, S1).sort()).toEqual([PROVIDER, OTHER_MSP].sort());
    // The newer intent wins whole: the hubs stay too, and the status is the PUT's.
    expect(off).toMatchObject({ status: 'active', verified: false });
    expect(off.removed.filter((r) => r.kind === 'event-hub')).toEqual([]);
    expect((await h.registry.listHubs(ACME)).length).toBeGreaterThan(0);
  });

  it('leaves nothing of ours behind a reconcile write that reaches ARM after the delegation is gone: ARM refuses it', async () => {
    h = await startHarness({ scenario: scenario() });
    const x = h;
    const write = x.sim.hold((m, p) => m === 'PUT' && p.toLowerCase() === `/subscriptions/${S2}/providers/microsoft.insights/diagnosticsettings/mdr-export`);
    const run = reconcileTenant(ACME, x.deps);
    await write.reached; // planned while the tenant was active
    const off = await offboardTenant({ settings: x.settings, registry: x.registry, clients: x.clients, delegationPollMs: 1 }, ACME);
    expect(off.delegationRemoval.byProvider.verified).toBe(true);
    write.release();
    const report = await run;
    expect(report.plan.find((a) => a.target === 'activity-log' && a.subscriptionId === S2)).toMatchObject({ coverage: 'forbidden' });
    const ours = [...x.sim.state.all()].filter((r) => r.type === 'Microsoft.Insights/diagnosticSettings' && r.name.startsWith('mdr-'));
    expect(ours).toEqual([]);
  });

  it('in a dry run, lists the assignments it would remove and removes nothing', async () => {
    const { h, deps } = await onboarded();
    const off = await offboardTenant(deps, ACME, { dryRun: true });
    expect(off.delegationRemoval.byProvider.removed.map((r) => r.subscriptionId).sort()).toEqual([S1, S2]);
    expect(h.sim.requests.filter((r) => r.kind !== 'read')).toEqual([]);
    expect(assignmentsOf(h, S2)).toEqual([PROVIDER]);
  });
});
