import { afterEach, describe, expect, it } from 'vitest';
import { newActivityEvent } from '../../../sim/routes/activityLog.js';
import { addStorageAccount } from '../../../sim/state.js';
import { createAzureClients, staticTokenCredential, type AzureClients } from '../../../src/lib/azure/clientFactory.js';
import { reconcileTenant, type ReconcileReport } from '../../../src/lib/reconcile/reconcileTenant.js';
import { ACME, S1, loadFixtureScenario, settingsFor, startHarness, type SimHarness } from './simHarness.js';

/**
 * The activity log as the reconciler's change feed, against the simulator (which logs every change, as ARM does):
 * a converged tenant's run reads the feed instead of every diagnostic-settings LIST, and still repairs what a
 * customer changed.
 */
const RG = `/subscriptions/${S1}/resourceGroups/app/providers`;
const GPV2 = `${RG}/Microsoft.Storage/storageAccounts/acmegpv2`;
const KV = `${RG}/Microsoft.KeyVault/vaults/acme-kv`;

let h: SimHarness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function converged(): Promise<SimHarness> {
  h = await startHarness({ scenario: loadFixtureScenario('acme.scenario.json') });
  await reconcileTenant(ACME, h.deps);
  h.sim.clearRequests();
  // a second run that confirms convergence and leaves a change-feed mark
  const r = await reconcileTenant(ACME, h.deps);
  expect(h.writes()).toEqual([]);
  expect(r.errors).toEqual([]);
  h.sim.clearRequests();
  return h;
}

/** Diagnostic-settings LISTs the run made, by the resource they were on. */
const settingsReads = (x: SimHarness) =>
  x.sim.requests.filter((q) => q.method === 'GET' && /\/providers\/Microsoft\.Insights\/diagnosticSettings$/i.test(q.path)).map((q) => q.path.replace(/\/providers\/Microsoft\.Insights\/diagnosticSettings$/i, ''));
const feedReads = (x: SimHarness) => x.sim.requests.filter((q) => /\/eventtypes\/management\/values$/i.test(q.path));
const coverage = (r: ReconcileReport, id: string) => r.plan.filter((a) => a.resourceId.toLowerCase() === id.toLowerCase()).map((a) => a.coverage);

/** Someone in the customer's tenant, with their own identity. */
const customerClients = (x: SimHarness): AzureClients =>
  createAzureClients({ armEndpoint: x.sim.url, credential: staticTokenCredential('customer-admin'), tlsCa: x.sim.ca, retry: { retryDelayInMs: 5, maxRetryDelayInMs: 20 } });

describe('reconcile with the activity log as change feed (scenario acme)', () => {
  it('takes every diagnostic-setting target of a quiet tenant from the ledger, reading only the feed', async () => {
    const x = await converged();
    const r = await reconcileTenant(ACME, x.deps);
    expect(x.writes()).toEqual([]);
    expect(settingsReads(x)).toEqual([]);
    const watched = r.plan.filter((a) => ['activity-log', 'storage-diagnostics', 'keyvault-diagnostics'].includes(a.target) && a.kind !== 'blocked');
    expect(r.trusted).toBeGreaterThanOrEqual(watched.length);
    expect(watched.every((a) => a.coverage === 'streaming' && /unchanged in the activity log/.test(a.reason))).toBe(true);
    // the crowded account stays reported as slots-exhausted, with its holders, without a read
    expect(r.plan.find((a) => a.resourceId.includes('/acmecrowded/'))).toMatchObject({ coverage: 'slots-exhausted', detail: expect.stringContaining('held by: c1, c2, c3, c4, c5') });
    // one page per provider of the only delegated subscription: Insights, KeyVault, Storage
    expect(feedReads(x).map((q) => q.path.toLowerCase())).toEqual(Array(3).fill(`/subscriptions/${S1}/providers/microsoft.insights/eventtypes/management/values`));
    // 1 subscription list, 3 Resource Graph queries (resources, automation groups, home-tenant check), 3 feed pages,
    // 1 data-export list per workspace (2) and 1 automation list: nothing per diagnostic-setting target
    expect(r.armReads).toBeLessThanOrEqual(10);
  });

  it("re-reads exactly what a customer changed and repairs it, even moments after our own write", async () => {
    const x = await converged();
    // Runs share the simulator's clock; each timer tick is 15 minutes later.
    const deps = { ...x.deps, now: () => new Date(x.sim.now()) };
    const tick = async () => {
      x.sim.advanceClock(15 * 60_000);
      x.sim.clearRequests();
      return reconcileTenant(ACME, deps);
    };
    const customer = await customerClients(x).monitor();
    const blob = `${GPV2}/blobServices/default`;
    await customer.diagnosticSettings.delete(blob.slice(1), 'mdr-export');
    const ours = await customer.diagnosticSettings.get(KV.slice(1), 'mdr-export');
    await customer.diagnosticSettings.createOrUpdate(KV.slice(1), 'mdr-export', { eventHubAuthorizationRuleId: ours.eventHubAuthorizationRuleId, eventHubName: ours.eventHubName, logs: [{ category: 'AuditEvent', enabled: true }] });
    const r = await tick();
    expect(settingsReads(x).sort()).toEqual([blob, KV].sort());
    expect(coverage(r, blob)).toEqual(['repaired']);
    expect(coverage(r, KV)).toEqual(['repaired']);
    expect(x.writes().map((w) => `${w.method} ${w.path}`).sort()).toEqual([`PUT ${blob}/providers/Microsoft.Insights/diagnosticSettings/mdr-export`, `PUT ${KV}/providers/Microsoft.Insights/diagnosticSettings/mdr-export`].sort());
    // our repairs are not news on the next tick
    await tick();
    expect(settingsReads(x)).toEqual([]);
    expect(x.writes()).toEqual([]);
    // a customer change right after our own write is
    await customer.diagnosticSettings.delete(KV.slice(1), 'mdr-export');
    const again = await tick();
    expect(settingsReads(x)).toEqual([KV]);
    expect(coverage(again, KV)).toEqual(['repaired']);
    await customer.diagnosticSettings.delete(KV.slice(1), 'mdr-export');
    // within the same second as our repair: still seen, because only our own write is excluded
    x.sim.clearRequests();
    const sameInstant = await reconcileTenant(ACME, deps);
    expect(coverage(sameInstant, KV)).toEqual(['repaired']);
  });

  it('covers a storage account the customer deleted and re-created under the same name', async () => {
    const x = await converged();
    x.sim.state.delete(GPV2);
    addStorageAccount(x.sim.state, S1, { name: 'acmegpv2', resourceGroup: 'app', location: 'westeurope', kind: 'StorageV2', sku: 'Standard_LRS' });
    // what ARM logs for the PUT that re-created it
    x.sim.state.recordActivity(newActivityEvent(S1, 'customer-admin', Date.now(), { resourceId: GPV2, operationName: 'Microsoft.Storage/storageAccounts/write', resourceProviderName: 'Microsoft.Storage' }));
    const r = await reconcileTenant(ACME, x.deps);
    const services = ['blob', 'file', 'queue', 'table'].map((s) => `${GPV2}/${s}Services/default`);
    expect(settingsReads(x).sort()).toEqual(services);
    for (const s of services) expect(coverage(r, s)).toEqual(['repaired']);
  });

  it('reads everything when the feed cannot be read, and reaches the same state', async () => {
    const x = await converged();
    x.sim.setFaults({ rate500: 1, paths: /eventtypes/i });
    const logs: string[] = [];
    const r = await reconcileTenant(ACME, { ...x.deps, logger: { debug() {}, info() {}, warn: (m: string) => void logs.push(m), error() {}, child() { return this; } } });
    x.sim.setFaults(undefined);
    expect(r.trusted).toBe(0);
    expect(logs).toContain('reconcile.changeFeedUnavailable');
    expect(settingsReads(x).length).toBeGreaterThanOrEqual(9);
    expect(x.writes()).toEqual([]);
    expect(r.result).toBe('succeeded');
  });

  it('re-reads every target once the resync period has run out, on --full, and with resync disabled', async () => {
    const x = await converged();
    const all = (await reconcileTenant(ACME, { ...x.deps, now: () => new Date(Date.now() + 25 * 3_600_000) })).trusted;
    expect(all).toBe(0);
    const fullReads = settingsReads(x).length;
    expect(fullReads).toBeGreaterThanOrEqual(9);
    x.sim.clearRequests();
    expect((await reconcileTenant(ACME, x.deps, { full: true })).trusted).toBe(0);
    expect(settingsReads(x).length).toBe(fullReads);
    x.sim.clearRequests();
    const off = { ...x.deps, settings: settingsFor(loadFixtureScenario('acme.scenario.json'), { MDR_RECONCILE_RESYNC_HOURS: '0' }) };
    expect((await reconcileTenant(ACME, off)).trusted).toBe(0);
    expect(settingsReads(x).length).toBe(fullReads);
    expect(feedReads(x)).toEqual([]);
    expect(x.writes()).toEqual([]);
  });

  it('fails the run cleanly when Resource Graph and the registry fail while the feed is being read', async () => {
    const x = await converged();
    x.sim.setFaults({ rate500: 1, paths: /ResourceGraph/i });
    const registry = { ...x.registry, listChangeMarks: async () => Promise.reject(new Error('table storage unavailable')) };
    // A transient discovery failure throws (the queue retries the item); the feed started alongside must not leave a
    // stray rejection behind (vitest fails the run on one).
    await expect(reconcileTenant(ACME, { ...x.deps, registry })).rejects.toMatchObject({ kind: 'transient' });
    x.sim.setFaults(undefined);
    await new Promise((r) => setTimeout(r, 50));
  });

  it('reads a subscription in full when it has no change-feed mark yet', async () => {
    h = await startHarness({ scenario: loadFixtureScenario('acme.scenario.json') });
    await reconcileTenant(ACME, h.deps);
    expect((await h.registry.listChangeMarks(ACME)).map((m) => m.subscriptionId.toLowerCase())).toEqual([S1.toLowerCase()]);
    // the first run had no mark, so it read the feed nowhere
    expect(feedReads(h)).toEqual([]);
  });
});
