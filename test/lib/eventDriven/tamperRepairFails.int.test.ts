import { afterEach, describe, expect, it } from 'vitest';
import { activityLogMessages, simIdentity } from '../../../sim/activityLogRecords.js';
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
    queued,
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
 * Found in review (2026-12-03): when the targeted run's repair failed, the item completed and its evidence was gone;
 * the timer later repaired the setting and no finding was ever raised.
 */
describe('tamper evidence when the repair fails', () => {
  const deleteOurs = async (w: Awaited<ReturnType<typeof world>>) => {
    const cf = await import('../../../src/lib/azure/clientFactory.js');
    const monitor = await cf.createAzureClients({ armEndpoint: w.x.sim.url, credential: cf.staticTokenCredential('intruder'), tlsCa: w.x.sim.ca, retry: { retryDelayInMs: 5, maxRetryDelayInMs: 20 } }).monitor();
    await monitor.diagnosticSettings.delete(KV.slice(1), 'mdr-export');
  };
  const kvEntry = async (w: Awaited<ReturnType<typeof world>>) => (await w.x.registry.listCoverage(ACME)).find((e) => e.target === 'keyvault-diagnostics' && e.resourceId === KV);

  it('goes back on the queue once with its target, and the retry that repairs raises the finding', async () => {
    const w = await world();
    await deleteOurs(w);
    const items = await w.feed();
    w.x.sim.setFaults({ rate503: 1, only: 'write', paths: /acme-kv\/providers\/Microsoft.Insights\/diagnosticSettings\/mdr-export/i });
    const first = await w.run(items);
    expect(first).toEqual([]);
    expect((await kvEntry(w))?.state).toBe('failed');
    const retry = w.queued.slice(-1)[0] as { targeted: { attempt?: number; work: { evidence: { objectName: string }[] } } };
    expect(retry.targeted).toMatchObject({ attempt: 2 });
    expect(retry.targeted.work.evidence.map((e) => e.objectName)).toEqual(['mdr-export']);
    w.x.sim.setFaults(undefined as never);
    const second = await w.run([retry]);
    expect(second).toHaveLength(1);
    expect((await kvEntry(w))?.tamper?.object).toContain('mdr-export');
  });

  it('raises the finding on the retry even when the timer repaired the setting first', async () => {
    const w = await world();
    await deleteOurs(w);
    const items = await w.feed();
    w.x.sim.setFaults({ rate503: 1, only: 'write', paths: /acme-kv\/providers\/Microsoft.Insights\/diagnosticSettings\/mdr-export/i });
    await w.run(items);
    const retry = w.queued.slice(-1)[0]!;
    w.x.sim.setFaults(undefined as never);
    await reconcileTenant(ACME, w.x.deps);
    expect((await kvEntry(w))?.state).toBe('repaired'); // ours had been there: re-creating it is a repair
    expect(await w.run([retry])).toHaveLength(1);
  });
});
