import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileTenant, type ReconcileReport } from '../../../src/lib/reconcile/reconcileTenant.js';
import { teardownTenantExports } from '../../../src/lib/reconcile/teardown.js';
import { ACME, S1, S2, loadFixtureScenario, startHarness, tenantRecord, type SimHarness } from './simHarness.js';

const app = `/subscriptions/${S1}/resourceGroups/app/providers`;
const stateOf = (r: ReconcileReport, suffix: string) => r.plan.filter((a) => a.resourceId.toLowerCase().endsWith(suffix.toLowerCase())).map((a) => a.coverage);

describe('reconcile against the ARM simulator (scenario acme)', () => {
  let h: SimHarness;
  let first: ReconcileReport;
  beforeAll(async () => {
    h = await startHarness({ scenario: loadFixtureScenario('acme.scenario.json') });
  });
  afterAll(async () => h?.stop());

  it('plans without writing in dry-run mode and reports the region without a hub', async () => {
    const plan = await reconcileTenant(ACME, h.deps, { dryRun: true });
    expect(h.writes()).toEqual([]);
    expect(plan.plan.find((a) => a.resourceId.endsWith('acme-kv-us'))).toMatchObject({ kind: 'blocked', coverage: 'no-hub-in-region' });
    expect(plan.actions.create).toBeGreaterThan(0);
  });

  it('covers a fresh tenant: only the services each storage kind has, slots and rule limits reported', async () => {
    h.sim.clearRequests();
    first = await reconcileTenant(ACME, h.deps);
    expect(stateOf(first, `/subscriptions/${S1}`)).toEqual(['created']);
    expect(stateOf(first, `/subscriptions/${S1}/resourceGroups/MDRAutomation`)).toEqual(['created']);
    // StorageV2 Standard: all four services
    expect(first.plan.filter((a) => a.resourceId.includes('/acmegpv2/')).map((a) => a.resourceId.split('/').at(-2))).toEqual(['blobServices', 'fileServices', 'queueServices', 'tableServices']);
    // premium BlockBlobStorage: blob only; FileStorage: file only
    expect(first.plan.filter((a) => a.resourceId.includes('/acmepremblob/')).map((a) => a.resourceId.split('/').at(-2))).toEqual(['blobServices']);
    expect(first.plan.filter((a) => a.resourceId.includes('/acmefiles/')).map((a) => a.resourceId.split('/').at(-2))).toEqual(['fileServices']);
    const crowded = first.plan.find((a) => a.resourceId.includes('/acmecrowded/'));
    expect(crowded).toMatchObject({ kind: 'blocked', coverage: 'slots-exhausted' });
    expect(crowded?.detail).toBe('held by: c1, c2, c3, c4, c5');
    expect(stateOf(first, '/workspaces/acme-entra')).toEqual(['created']);
    expect(stateOf(first, '/workspaces/acme-busy')).toEqual(['slots-exhausted']);
    expect(first.plan.find((a) => a.resourceId.endsWith('/workspaces/acme-busy'))?.detail).toContain('siem-9');
    expect(stateOf(first, '/vaults/acme-kv')).toEqual(['created']);
    expect(first.result).toBe('succeeded');
    // nothing from the undelegated or disabled subscriptions
    expect(first.plan.some((a) => a.subscriptionId !== S1)).toBe(false);
  });

  it('provisions a hub for a vault in a region without one, then covers the vault', async () => {
    expect(h.provisioned).toEqual(['eastus']);
    expect(stateOf(first, '/vaults/acme-kv-us')).toEqual(['created']);
    expect((await h.registry.listHubs(ACME)).map((x) => x.region).sort()).toEqual(['eastus', 'westeurope']);
  });

  it('writes the coverage ledger and the tenant summary', async () => {
    const ledger = await h.registry.listCoverage(ACME);
    expect(ledger).toHaveLength(first.plan.length);
    expect(ledger.find((e) => e.resourceId.includes('/acmecrowded/'))?.detail).toContain('held by: c1, c2, c3, c4, c5');
    expect((await h.registry.getTenant(ACME))?.lastReconcile).toMatchObject({ result: 'succeeded', summary: first.counts });
  });

  it('issues zero writes on a second run with no drift', async () => {
    h.sim.clearRequests();
    const second = await reconcileTenant(ACME, h.deps);
    expect(h.writes()).toEqual([]);
    expect(second.actions.create ?? 0).toBe(0);
    expect(second.actions.update ?? 0).toBe(0);
    expect(Object.keys(second.counts).sort()).toEqual(['slots-exhausted', 'streaming']);
  });

  it("repairs our setting after a customer deletes it and leaves the customer's own setting untouched", async () => {
    const monitor = await h.clients.monitor();
    const kv = `${app}/Microsoft.KeyVault/vaults/acme-kv`.slice(1);
    const customerBefore = await monitor.diagnosticSettings.get(kv, 'customer-siem');
    await monitor.diagnosticSettings.delete(kv, 'mdr-export');
    // and narrow the categories of our activity-log setting
    const sub = `subscriptions/${S1}`;
    const ours = await monitor.diagnosticSettings.get(sub, 'mdr-export');
    await monitor.diagnosticSettings.createOrUpdate(sub, 'mdr-export', { eventHubAuthorizationRuleId: ours.eventHubAuthorizationRuleId, eventHubName: ours.eventHubName, logs: [{ category: 'Administrative', enabled: true }] });
    h.sim.clearRequests();
    const r = await reconcileTenant(ACME, h.deps);
    expect(stateOf(r, '/vaults/acme-kv')).toEqual(['repaired']);
    expect(stateOf(r, `/subscriptions/${S1}`)).toEqual(['repaired']);
    expect(h.writes().map((w) => `${w.method} ${w.path}`).sort()).toEqual([
      `PUT /subscriptions/${S1}/providers/Microsoft.Insights/diagnosticSettings/mdr-export`,
      `PUT ${app}/Microsoft.KeyVault/vaults/acme-kv/providers/Microsoft.Insights/diagnosticSettings/mdr-export`,
    ]);
    expect(await monitor.diagnosticSettings.get(kv, 'customer-siem')).toEqual(customerBefore);
  });

  it('covers a subscription on the run after it is delegated', async () => {
    const s2 = h.sim.state.subscription(S2);
    if (!s2) throw new Error('scenario lacks the second subscription');
    s2.delegated = true;
    const r = await reconcileTenant(ACME, h.deps);
    expect(r.plan.filter((a) => a.subscriptionId === S2).map((a) => `${a.target}:${a.coverage}`).sort()).toEqual([
      'activity-log:created',
      'defender-export:created',
      ...Array(4).fill('storage-diagnostics:created'),
    ]);
  });

  it('teardown removes only our prefixed objects', async () => {
    const monitor = await h.clients.monitor();
    const dry = await teardownTenantExports({ tenant: tenantRecord(), clients: h.clients, settings: h.settings, dryRun: true });
    expect(dry.removed.length).toBeGreaterThan(0);
    h.sim.clearRequests();
    const done = await teardownTenantExports({ tenant: tenantRecord(), clients: h.clients, settings: h.settings });
    expect(done.failed).toEqual([]);
    expect(done.removed).toEqual(dry.removed);
    expect(h.writes().every((w) => w.method === 'DELETE' && /\/mdr-[^/]+$/.test(w.path))).toBe(true);
    expect((await monitor.diagnosticSettings.get(`${app}/Microsoft.KeyVault/vaults/acme-kv`.slice(1), 'customer-siem')).name).toBe('customer-siem');
    const after = await reconcileTenant(ACME, h.deps, { dryRun: true });
    expect(after.actions.none ?? 0).toBe(0);
  });
});

describe('reconcile under 30% injected 429s with Retry-After', () => {
  it('reaches the same end state as a clean run, and a clean follow-up run writes nothing', async () => {
    const scenario = loadFixtureScenario('acme.scenario.json');
    const clean = await startHarness({ scenario });
    const faulty = await startHarness({ scenario, maxRetries: 12, seed: 7 });
    try {
      const expected = await reconcileTenant(ACME, clean.deps);
      faulty.sim.setFaults({ rate429: 0.3, retryAfterSeconds: 0 });
      const got = await reconcileTenant(ACME, faulty.deps);
      expect(faulty.sim.counts().faults).toBeGreaterThan(0);
      const view = (r: ReconcileReport) => r.plan.map((a) => `${a.target} ${a.resourceId} ${a.coverage}`);
      expect(view(got)).toEqual(view(expected));
      faulty.sim.setFaults(undefined);
      faulty.sim.clearRequests();
      await reconcileTenant(ACME, faulty.deps);
      expect(faulty.writes()).toEqual([]);
    } finally {
      await Promise.all([clean.stop(), faulty.stop()]);
    }
  });
});
