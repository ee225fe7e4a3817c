import { afterEach, describe, expect, it } from 'vitest';
import { activityLogMessages, simIdentity } from '../../../sim/activityLogRecords.js';
import { newActivityEvent } from '../../../sim/routes/activityLog.js';
import { createStorageAccountAs } from '../../../sim/customerActions.js';
import { createMemoryMarkerTable, createPendingWork } from '../../../src/lib/eventDriven/pendingWork.js';
import { createSignalSink } from '../../../src/lib/eventDriven/signalSink.js';
import type { TargetedRunExtras } from '../../../src/lib/eventDriven/targetedRun.js';
import { handleIngestBatch } from '../../../src/lib/ingest/handleIngestBatch.js';
import { createMemoryOutputs } from '../../../src/lib/ingest/outputs/memoryOutputs.js';
import type { OcsfEvent } from '../../../src/lib/ingest/types.js';
import { handleReconcileWorkItem } from '../../../src/lib/reconcile/fanOut.js';
import { reconcileTenant } from '../../../src/lib/reconcile/reconcileTenant.js';
import { ACME, S1, loadFixtureScenario, startHarness, type SimHarness } from '../reconcile/simHarness.js';

const RG = `/subscriptions/${S1}/resourceGroups/app/providers`;
const KV = `${RG}/Microsoft.KeyVault/vaults/acme-kv`;
let h: SimHarness | undefined;
afterEach(async () => { await h?.stop(); h = undefined; });

async function world() {
  h = await startHarness({ scenario: loadFixtureScenario('acme.scenario.json') });
  const x = h;
  await reconcileTenant(ACME, x.deps);
  await reconcileTenant(ACME, x.deps);
  const appOid = simIdentity(x.sim.state, 'simulator-token', S1).objectId;
  const self = new Set([appOid]);
  const queued: object[] = [];
  const pending = createPendingWork(createMemoryMarkerTable(), { delayMs: 0 });
  const sink = createSignalSink({ pending, queue: { send: async (m) => void queued.push(m) }, delaySeconds: 0 });
  const known = [...new Set((await x.registry.listCoverage(ACME)).map((e) => e.subscriptionId))];
  const fed = new Set(x.sim.state.activityOfSubscription(S1).map((e) => e.eventDataId));
  let seq = 0;
  const extras: TargetedRunExtras = { pending, self, requeue: { send: async (m) => void queued.push(m) } };
  return {
    x,
    async feed() {
      const bodies = activityLogMessages(x.sim.state, [S1], 0, (e) => !fed.has(e.eventDataId));
      for (const b of bodies) for (const e of b.events) fed.add(e.eventDataId);
      const outputs = createMemoryOutputs();
      await handleIngestBatch({ bodies: bodies.map((b) => b.body), messages: bodies.map(() => ({ partitionId: '0', sequenceNumber: seq++ })), binding: { tenantId: ACME, hub: 'h' }, subscriptionIds: known, ingestTime: Date.now(), outputs });
      const before = queued.length;
      await sink(ACME, outputs.batches.flatMap((b) => b.events), { knownSubscriptions: new Set(known), self, automationResourceGroup: x.settings.provider.automationResourceGroup });
      return queued.slice(before);
    },
    async run(items: object[]) {
      const findings: OcsfEvent[] = [];
      for (const item of items) await handleReconcileWorkItem(item, { ...x.deps, ...extras, writeFindings: async (_t, f) => void findings.push(...f) });
      return findings;
    },
  };
}

/**
 * Found in review (2026-12-03): records a customer can put into their own hub raised High findings blaming a person
 * of their choosing for changes that never happened. Each case raised one before its fix.
 */
describe('no tamper finding without a change of ours to undo', () => {
  it('a delete record naming a setting on a target we never covered: our first creation undoes nothing', async () => {
    const w = await world();
    const acct = createStorageAccountAs(w.x.sim, 'customer-admin', S1, { name: 'acmenew', resourceGroup: 'app', location: 'westeurope' });
    const blob = `${acct.id}/blobServices/default`;
    w.x.sim.state.recordActivity(newActivityEvent(S1, 'victim', w.x.sim.now(), { resourceId: `${blob}/providers/Microsoft.Insights/diagnosticSettings/mdr-export`, operationName: 'Microsoft.Insights/diagnosticSettings/delete', resourceProviderName: 'Microsoft.Insights' }));
    const findings = await w.run(await w.feed());
    expect(findings).toEqual([]);
    const entry = (await w.x.registry.listCoverage(ACME)).find((e) => e.resourceId.toLowerCase() === blob.toLowerCase());
    expect(entry).toMatchObject({ state: 'created' });
    expect(entry?.tamper).toBeUndefined();
  });

  it('a back-dated delete record against a setting we wrote recently and that is in sync', async () => {
    const w = await world();
    w.x.sim.state.recordActivity(newActivityEvent(S1, 'victim', Date.parse('2020-01-01T00:00:00Z'), { resourceId: `${KV}/providers/Microsoft.Insights/diagnosticSettings/mdr-export`, operationName: 'Microsoft.Insights/diagnosticSettings/delete', resourceProviderName: 'Microsoft.Insights' }));
    w.x.sim.clearRequests();
    const findings = await w.run(await w.feed());
    expect(w.x.sim.requests.filter((r) => r.kind !== 'read' && r.principal === 'simulator-token')).toEqual([]);
    expect(findings).toEqual([]);
    expect((await w.x.registry.listCoverage(ACME)).find((e) => e.target === 'keyvault-diagnostics' && e.resourceId === KV)?.tamper).toBeUndefined();
  });

  it('a delete record dated just before our first write of a setting (state created): nothing of ours was undone', async () => {
    const w = await world();
    const kv = (await w.x.registry.listCoverage(ACME)).find((e) => e.target === 'keyvault-diagnostics' && e.resourceId === KV)!;
    expect(kv.state).toBe('created');
    w.x.sim.state.recordActivity(newActivityEvent(S1, 'victim', Date.parse(kv.wroteAt!) - 60_000, { resourceId: `${KV}/providers/Microsoft.Insights/diagnosticSettings/mdr-export`, operationName: 'Microsoft.Insights/diagnosticSettings/delete', resourceProviderName: 'Microsoft.Insights' }));
    const findings = await w.run(await w.feed());
    expect(findings).toEqual([]);
  });
});
