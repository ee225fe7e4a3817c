import { afterEach, describe, expect, it } from 'vitest';
import { convergedWorld, type EventDrivenWorld } from './eventDrivenWorld.js';
import { simIdentity } from '../../../sim/activityLogRecords.js';
import { newActivityEvent } from '../../../sim/routes/activityLog.js';
import { createStorageAccountAs } from '../../../sim/customerActions.js';
import { validateOcsfEvent } from '../../../src/lib/ingest/ocsf/validate.js';
import type { CoverageEntry } from '../../../src/lib/registry/types.js';
import { ACME, S1, S2 } from '../reconcile/simHarness.js';

/**
 * Event-driven coverage end to end against the ARM simulator (scenario acme): the simulator's activity log as the
 * tenant's activity-log setting would stream it → ingest → change signals → pending work → targeted work items →
 * the reconcile queue handler. Only the queue and the marker table are in memory here (signalSink.int.test.ts runs
 * them on Azurite).
 */
const RG = `/subscriptions/${S1}/resourceGroups/app/providers`;
const KV = `${RG}/Microsoft.KeyVault/vaults/acme-kv`;
const CROWDED_BLOB = `${RG}/Microsoft.Storage/storageAccounts/acmecrowded/blobServices/default`;

let w0: EventDrivenWorld | undefined;
afterEach(async () => {
  await w0?.h.stop();
  w0 = undefined;
});
const converged = async (opts: { self?: boolean } = {}) => (w0 = await convergedWorld(opts));

const settingPath = (on: string, name = 'mdr-export') => `${on}/providers/Microsoft.Insights/diagnosticSettings/${name}`;
const without = (entries: CoverageEntry[], ids: string[]) => entries.filter((e) => !ids.some((id) => e.resourceId.toLowerCase().startsWith(id.toLowerCase()))).sort((a, b) => `${a.target}${a.resourceId}`.localeCompare(`${b.target}${b.resourceId}`));

describe('event-driven coverage against the simulator (scenario acme)', () => {
  it('puts a deleted setting of ours back and reports the tamper: who, what, when, from where', async () => {
    const w = await converged();
    const ledgerBefore = await w.ledger();
    const tenantBefore = await w.h.registry.getTenant(ACME);
    const marksBefore = await w.h.registry.listChangeMarks(ACME);
    const monitor = await w.customer.monitor();
    await monitor.diagnosticSettings.delete(KV.slice(1), 'mdr-export');
    const items = await w.feed();
    expect(items).toHaveLength(1);
    w.h.sim.clearRequests();
    const findings = await w.run(items);

    expect(w.ourWrites()).toEqual([`PUT ${settingPath(KV)}`]);
    expect(w.h.sim.state.get(settingPath(KV))).toBeDefined();
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(validateOcsfEvent(f)).toEqual({ ok: true, errors: [] });
    const customer = simIdentity(w.h.sim.state, 'customer-admin', S1);
    expect(f).toMatchObject({
      class_uid: 2004,
      metadata: { tenant_uid: ACME },
      actor: { user: { name: customer.name, uid: customer.objectId } },
      evidences: [{ src_endpoint: { ip: customer.ip }, api: { operation: 'microsoft.insights/diagnosticsettings/delete' } }],
      finding_info: { attacks: [{ sub_technique: { uid: 'T1562.008' }, tactic: { uid: 'TA0005' } }] },
      resources: [{ uid: settingPath(KV).toLowerCase(), name: 'mdr-export' }, { uid: KV }],
    });
    expect(f.finding_info).toMatchObject({ first_seen_time: expect.any(Number) });
    // The ledger records it on that target; every other entry, the change-feed marks and lastReconcile are untouched.
    const ledgerAfter = await w.ledger();
    const kv = ledgerAfter.find((e) => e.target === 'keyvault-diagnostics' && e.resourceId === KV);
    expect(kv).toMatchObject({ state: 'repaired', tamper: { findingUid: f.metadata.uid, caller: customer.name, callerIp: customer.ip, operation: 'microsoft.insights/diagnosticsettings/delete' } });
    expect(without(ledgerAfter, [KV])).toEqual(without(ledgerBefore, [KV]));
    expect(await w.h.registry.getTenant(ACME)).toEqual(tenantBefore);
    expect(await w.h.registry.listChangeMarks(ACME)).toEqual(marksBefore);
  });

  it('covers a storage account created after convergence with only the writes it needs', async () => {
    const w = await converged();
    const acct = createStorageAccountAs(w.h.sim, 'customer-admin', S1, { name: 'acmefresh', resourceGroup: 'app', location: 'westeurope' });
    const items = await w.feed();
    w.h.sim.clearRequests();
    const findings = await w.run(items);
    const services = ['blob', 'file', 'queue', 'table'].map((s) => `${acct.id}/${s}Services/default`);
    expect(w.ourWrites().sort()).toEqual(services.map((s) => `PUT ${settingPath(s)}`).sort());
    expect(findings).toEqual([]);
    const ledger = await w.ledger();
    for (const s of services) expect(ledger.find((e) => e.resourceId === s)).toMatchObject({ state: 'created', target: 'storage-diagnostics' });
  });

  it('does not loop on its own writes: no signal when it knows its identity, and a read that writes nothing when it does not', async () => {
    for (const self of [true, false]) {
      const w = await converged({ self });
      await (await w.customer.monitor()).diagnosticSettings.delete(KV.slice(1), 'mdr-export');
      createStorageAccountAs(w.h.sim, 'customer-admin', S1, { name: 'acmeloop', resourceGroup: 'app', location: 'westeurope' });
      await w.run(await w.feed());
      // The activity log now holds our five repairs.
      w.h.sim.clearRequests();
      const echo = await w.feed();
      expect(echo).toHaveLength(self ? 0 : 1);
      const findings = await w.run(echo);
      expect(w.ourWrites()).toEqual([]);
      expect(findings).toEqual([]);
      expect(await w.feed()).toEqual([]); // nothing new in the activity log: the loop ends here
      await w0?.h.stop();
      w0 = undefined;
    }
  });

  it('never writes an object that is not ours, and raises no finding, whatever the customer changes of their own', async () => {
    const w = await converged();
    const monitor = await w.customer.monitor();
    // The customer re-points their own vault setting, drops one of the five on the crowded account, and writes a
    // setting named like ours on a resource we do not watch.
    const theirs = await monitor.diagnosticSettings.get(KV.slice(1), 'customer-siem');
    await monitor.diagnosticSettings.createOrUpdate(KV.slice(1), 'customer-siem', { ...theirs, logs: [{ category: 'AuditEvent', enabled: true }] });
    await monitor.diagnosticSettings.delete(CROWDED_BLOB.slice(1), 'c1');
    w.h.sim.clearRequests();
    const findings = await w.run(await w.feed());
    expect(findings).toEqual([]);
    // The freed slot lets our setting in; nothing of the customer's is touched.
    expect(w.ourWrites()).toEqual([`PUT ${settingPath(CROWDED_BLOB)}`]);
    expect(w.ourWrites().every((x) => /\/mdr-[^/]+$/.test(x))).toBe(true);
    expect(w.h.sim.state.get(settingPath(KV, 'customer-siem'))?.properties.logs).toEqual([{ category: 'AuditEvent', enabled: true }]);
  });

  it('reports a re-point of ours as tamper once, even when the work item is delivered twice', async () => {
    const w = await converged();
    const monitor = await w.customer.monitor();
    const ours = await monitor.diagnosticSettings.get(KV.slice(1), 'mdr-export');
    await monitor.diagnosticSettings.createOrUpdate(KV.slice(1), 'mdr-export', { eventHubAuthorizationRuleId: ours.eventHubAuthorizationRuleId, eventHubName: 'elsewhere', logs: [{ category: 'AuditEvent', enabled: true }] });
    const items = await w.feed();
    w.h.sim.clearRequests();
    const first = await w.run(items);
    const second = await w.run(items); // the host redelivered the message
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ evidences: [{ api: { operation: 'microsoft.insights/diagnosticsettings/write' } }] });
    expect(second).toEqual([]);
    expect(w.ourWrites()).toEqual([`PUT ${settingPath(KV)}`]);
    expect(w.h.sim.state.get(settingPath(KV))?.properties.eventHubName).toBe(ours.eventHubName);
  });

  it("does nothing for a work item of this tenant naming another tenant's subscription", async () => {
    const w = await converged();
    const ledger = await w.ledger();
    const tenant = await w.h.registry.getTenant(ACME);
    const foreign = 'cccccccc-1111-0000-0000-000000000001';
    // Also the scenario's subscription that is not delegated to us.
    const undelegated = 'aaaaaaaa-2222-0000-0000-000000000002';
    const item = (sub: string) => ({ tenantId: ACME, targeted: { itemId: `x${sub.slice(0, 8)}`, work: { scope: { resourceIds: [`/subscriptions/${sub}/resourcegroups/app/providers/microsoft.storage/storageaccounts/theirs`, `/subscriptions/${sub}`], subscriptionIds: [], newSubscriptions: false, all: false }, evidence: [] } } });
    w.h.sim.clearRequests();
    await w.run([item(foreign), item(undelegated)]);
    expect(w.ourWrites()).toEqual([]);
    expect(await w.ledger()).toEqual(ledger);
    expect(await w.h.registry.getTenant(ACME)).toEqual(tenant);
  });

  it('looks for newly delegated subscriptions when a Lighthouse registration assignment is written, and reconciles only those', async () => {
    const w = await converged();
    const ledgerBefore = await w.ledger();
    // The customer delegates a second subscription; the registration assignment write shows in the activity log.
    w.h.sim.state.subscription(S2)!.delegated = true;
    const assignment = `/subscriptions/${S1}/providers/Microsoft.ManagedServices/registrationAssignments/0b1c2d3e-0000-4000-8000-000000000001`;
    w.h.sim.state.recordActivity(newActivityEvent(S1, 'customer-admin', w.h.sim.now(), { resourceId: assignment, operationName: 'Microsoft.ManagedServices/registrationAssignments/write', resourceProviderName: 'Microsoft.ManagedServices' }));
    const items = await w.feed();
    expect(items).toMatchObject([{ targeted: { work: { scope: { newSubscriptions: true } } } }]);
    w.h.sim.clearRequests();
    await w.run(items);
    expect(w.ourWrites().length).toBeGreaterThan(0);
    // In the customer's subscriptions, only the new one is written (listKeys of our hub's Send rule is in the provider's).
    expect(w.ourWrites().filter((x) => !x.includes(`/subscriptions/${S2}`) && !x.includes(`/subscriptions/${w.h.settings.provider.subscriptionId}`))).toEqual([]);
    const after = await w.ledger();
    expect(after.filter((e) => e.subscriptionId === S2).map((e) => e.target).sort()).toContain('activity-log');
    expect(after.filter((e) => e.subscriptionId !== S2)).toEqual(ledgerBefore);
  });
});
