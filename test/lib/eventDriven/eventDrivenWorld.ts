import { activityLogMessages, simIdentity } from '../../../sim/activityLogRecords.js';
import { createAzureClients, staticTokenCredential, type AzureClients } from '../../../src/lib/azure/clientFactory.js';
import { createMemoryMarkerTable, createPendingWork } from '../../../src/lib/eventDriven/pendingWork.js';
import { createSignalSink } from '../../../src/lib/eventDriven/signalSink.js';
import type { TargetedRunExtras } from '../../../src/lib/eventDriven/targetedRun.js';
import { handleIngestBatch } from '../../../src/lib/ingest/handleIngestBatch.js';
import { createMemoryOutputs } from '../../../src/lib/ingest/outputs/memoryOutputs.js';
import type { OcsfEvent } from '../../../src/lib/ingest/types.js';
import { handleReconcileWorkItem } from '../../../src/lib/reconcile/fanOut.js';
import { reconcileTenant } from '../../../src/lib/reconcile/reconcileTenant.js';
import type { CoverageEntry } from '../../../src/lib/registry/types.js';
import { ACME, S1, loadFixtureScenario, startHarness, type SimHarness } from '../reconcile/simHarness.js';

/**
 * Event-driven coverage end to end against the ARM simulator (scenario acme), converged by two reconcile runs: the
 * simulator's activity log as the tenant's activity-log setting would stream it → ingest → change signals → pending
 * work → targeted work items → the reconcile queue handler. Only the queue and the marker table are in memory.
 */
export interface EventDrivenWorld {
  h: SimHarness;
  /** The customer's own ARM clients (principal customer-admin). */
  customer: AzureClients;
  /** Every work item queued so far (by feeds and by the handler's requeues). */
  queued: object[];
  /** Feeds the activity-log events not fed yet through ingest; returns the work items it queued. */
  feed(): Promise<object[]>;
  /** Runs work items through the queue handler; returns the findings written. */
  run(items: object[]): Promise<OcsfEvent[]>;
  /** Writes the app made (principal simulator-token) since the last clearRequests. */
  ourWrites(): string[];
  ledger(): Promise<CoverageEntry[]>;
}

/** `self: false` leaves the app's own identity unknown to the signals (settings.eventDriven.selfPrincipalIds unset). */
export async function convergedWorld(opts: { self?: boolean } = {}): Promise<EventDrivenWorld> {
  const x = await startHarness({ scenario: loadFixtureScenario('acme.scenario.json') });
  await reconcileTenant(ACME, x.deps);
  await reconcileTenant(ACME, x.deps);
  const appOid = simIdentity(x.sim.state, 'simulator-token', S1).objectId;
  const self = new Set(opts.self === false ? [] : [appOid]);
  const queued: object[] = [];
  const pending = createPendingWork(createMemoryMarkerTable(), { delayMs: 0 });
  const sink = createSignalSink({ pending, queue: { send: async (m) => void queued.push(m) }, delaySeconds: 0 });
  const known = [...new Set((await x.registry.listCoverage(ACME)).map((e) => e.subscriptionId))];
  // Events up to now were streamed already; a feed sends each later event once.
  const fed = new Set(x.sim.state.activityOfSubscription(S1).map((e) => e.eventDataId));
  let seq = 0;
  x.sim.clearRequests();
  const extras: TargetedRunExtras = { pending, self, requeue: { send: async (m) => void queued.push(m) } };
  return {
    h: x,
    customer: createAzureClients({ armEndpoint: x.sim.url, credential: staticTokenCredential('customer-admin'), tlsCa: x.sim.ca, retry: { retryDelayInMs: 5, maxRetryDelayInMs: 20 } }),
    queued,
    async feed() {
      const bodies = activityLogMessages(x.sim.state, [S1], 0, (e) => !fed.has(e.eventDataId));
      for (const b of bodies) for (const e of b.events) fed.add(e.eventDataId);
      const outputs = createMemoryOutputs();
      await handleIngestBatch({ bodies: bodies.map((b) => b.body), messages: bodies.map(() => ({ partitionId: '0', sequenceNumber: seq++ })), binding: { tenantId: ACME, hub: 'h' }, subscriptionIds: known, ingestTime: Date.now(), outputs });
      const before = queued.length;
      await sink(ACME, outputs.batches.flatMap((b) => b.events), { knownSubscriptions: new Set(known), self, automationResourceGroup: x.settings.provider.automationResourceGroup, prefix: x.settings.prefix });
      return queued.slice(before);
    },
    async run(items) {
      const findings: OcsfEvent[] = [];
      for (const item of items) await handleReconcileWorkItem(item, { ...x.deps, ...extras, writeFindings: async (_t, f) => void findings.push(...f) });
      return findings;
    },
    ourWrites: () => x.sim.requests.filter((r) => r.kind !== 'read' && r.principal === 'simulator-token').map((r) => `${r.method} ${r.path}`),
    ledger: () => x.registry.listCoverage(ACME),
  };
}
