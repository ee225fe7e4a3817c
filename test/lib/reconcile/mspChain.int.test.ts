import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertStateHttpHandler } from '../../../src/lib/alerts/httpHandlers.js';
import { offboardTenant } from '../../../src/lib/onboarding/offboardTenant.js';
import { ensureTenantHub } from '../../../src/lib/onboarding/onboardTenant.js';
import { knownSubscriptionIds } from '../../../src/lib/reconcile/knownSubscriptions.js';
import { reconcileTenant } from '../../../src/lib/reconcile/reconcileTenant.js';
import { httpRequest, invocation } from '../../support/http.js';
import { ingest, restAlert } from '../ingest/attributionFixtures.js';
import { loadFixtureScenario, startHarness, tenantRecord, type SimHarness } from './simHarness.js';

/**
 * Issue #12, point 1: A manages B's subscription through Lighthouse, and both are the provider's customers. The
 * provider sees B's subscription through B's own delegation; its managedByTenants lists the provider AND A, its
 * home tenant (tenantId) is B. Nothing done for A may touch B's subscription.
 */
const A = 'aaaaaaaa-0000-0000-0000-00000000000a';
const B = 'aaaaaaaa-0000-0000-0000-00000000000b';
const A_SUB = 'aaaaaaaa-1111-0000-0000-00000000000a';
const B_SUB = 'aaaaaaaa-2222-0000-0000-00000000000b';
const B_ALERT = '2518000000000000000_b-alert';

describe('A manages B\'s subscription, both are customers (scenario msp-chain)', () => {
  let h: SimHarness;
  const underB = () => h.sim.requests.filter((r) => r.path.toLowerCase().startsWith(`/subscriptions/${B_SUB}`));
  const writesUnderB = () => underB().filter((r) => r.kind !== 'read');

  beforeAll(async () => {
    h = await startHarness({ scenario: loadFixtureScenario('msp-chain.scenario.json') });
    await h.registry.putTenant(tenantRecord(B, { displayName: 'B' }));
    await ensureTenantHub({ settings: h.settings, registry: h.registry, clients: h.clients, lroPollMs: 5 }, B, 'westeurope');
    // B is covered first: its own reconcile writes B's exports into B's subscription.
    await reconcileTenant(B, h.deps);
    h.sim.clearRequests();
  });
  afterAll(async () => h?.stop());

  it("shows the chain as the simulator serves it: B's subscription lists A among its managing tenants, its tenantId is B", async () => {
    const subs = await h.clients.subscriptions();
    const b = await subs.subscriptions.get(B_SUB);
    expect(b.tenantId).toBe(B);
    expect((b.managedByTenants ?? []).map((m) => m.tenantId).sort()).toEqual([A, h.settings.provider.tenantId].sort());
  });

  it("reconciling A writes nothing into B's subscription, keeps it out of A's ledger and A's known subscriptions", async () => {
    const r = await reconcileTenant(A, h.deps);
    expect(r.result).toBe('succeeded');
    expect(writesUnderB()).toEqual([]);
    expect(r.plan.some((a) => a.subscriptionId === B_SUB)).toBe(false);
    expect((await h.registry.listCoverage(A)).map((e) => e.subscriptionId)).not.toContain(B_SUB);
    expect(await knownSubscriptionIds(h.registry, A)).toEqual([A_SUB]);
    expect(await knownSubscriptionIds(h.registry, B)).toEqual([B_SUB]);
  });

  it("does not flap: B's next reconcile finds B's exports as B left them", async () => {
    h.sim.clearRequests();
    const r = await reconcileTenant(B, h.deps);
    expect(writesUnderB()).toEqual([]);
    expect(r.plan.filter((a) => a.subscriptionId === B_SUB).every((a) => a.kind === 'none' || a.kind === 'blocked')).toBe(true);
  });

  it("gives records on A's hub that name B's subscription no trust: they are dead-lettered", async () => {
    const { events, res } = await ingest([restAlert(B_SUB)], await knownSubscriptionIds(h.registry, A));
    expect(events).toEqual([]);
    expect(res.byReason).toEqual({ 'tenant-mismatch': 1 });
  });

  it("answers 404 to an alert-state change for A on B's alert, and B's alert keeps its state", async () => {
    h.sim.clearRequests();
    const handler = createAlertStateHttpHandler({ clients: h.clients, registry: h.registry });
    const res = await handler(
      httpRequest({ method: 'POST', path: `tenants/${A}/alerts/${B_ALERT}/state`, params: { id: A, alertName: B_ALERT }, body: { state: 'Dismissed', subscriptionId: B_SUB, location: 'westeurope' } }),
      invocation(),
    );
    expect(res.status).toBe(404);
    expect((res.jsonBody as { type: string }).type).toContain('subscription-not-in-tenant');
    expect(writesUnderB()).toEqual([]);
    expect(h.sim.state.get(`/subscriptions/${B_SUB}/providers/Microsoft.Security/locations/westeurope/alerts/${B_ALERT}`)?.properties.status).toBe('Active');
  });

  it("offboarding A deletes nothing in B's subscription and leaves B streaming", async () => {
    h.sim.clearRequests();
    const r = await offboardTenant({ settings: h.settings, registry: h.registry, clients: h.clients }, A);
    expect(r.failed).toEqual([]);
    expect(r.removed.some((x) => x.resourceId.toLowerCase().includes(B_SUB))).toBe(false);
    expect(writesUnderB()).toEqual([]);
    const after = await reconcileTenant(B, h.deps);
    expect(after.plan.filter((a) => a.subscriptionId === B_SUB && a.kind !== 'blocked').every((a) => a.kind === 'none')).toBe(true);
  });
});
