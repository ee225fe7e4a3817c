import { afterEach, describe, expect, it } from 'vitest';
import { activityLogMessages, simIdentity } from '../../../sim/activityLogRecords.js';
import { newActivityEvent } from '../../../sim/routes/activityLog.js';
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
      await sink(ACME, outputs.batches.flatMap((b) => b.events), { knownSubscriptions: new Set(known), self, automationResourceGroup: x.settings.provider.automationResourceGroup, prefix: x.settings.prefix });
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
 * Found in review (2026-12-03): twenty records about anything else, dated after the real one, pushed the evidence of
 * our deleted setting out of the work item: the run repaired it and raised no finding.
 */
describe('tamper evidence under a flood of other records', () => {
  it('keeps the evidence about our object first: the repair raises its finding', async () => {
    const w = await world();
    const { createAzureClients, staticTokenCredential } = await import('../../../src/lib/azure/clientFactory.js');
    const monitor = await createAzureClients({ armEndpoint: w.x.sim.url, credential: staticTokenCredential('intruder'), tlsCa: w.x.sim.ca, retry: { retryDelayInMs: 5, maxRetryDelayInMs: 20 } }).monitor();
    await monitor.diagnosticSettings.delete(KV.slice(1), 'mdr-export');
    for (let i = 0; i < 25; i++)
      w.x.sim.state.recordActivity(newActivityEvent(S1, 'someone', w.x.sim.now() + 1000 + i, { resourceId: `/subscriptions/${S1}/providers/Microsoft.Insights/diagnosticSettings/noise${i}`, operationName: 'Microsoft.Insights/diagnosticSettings/delete', resourceProviderName: 'Microsoft.Insights' }));
    const items = await w.feed();
    const evidence = (items[0] as { targeted: { work: { evidence: { objectName: string }[] } } }).targeted.work.evidence;
    expect(evidence).toHaveLength(20);
    expect(evidence[0]?.objectName).toBe('mdr-export');
    const findings = await w.run(items);
    expect(findings).toHaveLength(1);
    expect((await w.x.registry.listCoverage(ACME)).find((e) => e.target === 'keyvault-diagnostics' && e.resourceId === KV)?.tamper?.object).toContain('mdr-export');
  });
});
