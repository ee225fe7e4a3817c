import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import azf from '@azure/functions';
import { QueueClient } from '@azure/storage-queue';
import type { BlobServiceClient } from '@azure/storage-blob';
import { activityLogMessages, simIdentity } from '../../sim/activityLogRecords.js';
import type { ArmSimulator } from '../../sim/armSimulator.js';
import { createStorageAccountAs } from '../../sim/customerActions.js';
import { queueHostSettings, startQueueHost } from '../../sim/queueHost.js';
import type { AppServices } from '../../src/lib/app/appServices.js';
import { createAzureClients, staticTokenCredential } from '../../src/lib/azure/clientFactory.js';
import type { IngestBinding } from '../../src/lib/config/ingestBindings.js';
import { eventDrivenStores, ingestChangeHook, reconcileQueueExtras } from '../../src/lib/eventDriven/eventDrivenServices.js';
import { createIngestHandler } from '../../src/lib/ingest/ingestHandler.js';
import { validateOcsfEvent } from '../../src/lib/ingest/ocsf/validate.js';
import type { OcsfEvent } from '../../src/lib/ingest/types.js';
import type { EnsureHub } from '../../src/lib/reconcile/reconcileTenant.js';
import { createReconcileQueueHandler } from '../../src/lib/reconcile/triggerHandlers.js';
import type { CoverageEntry } from '../../src/lib/registry/types.js';

const { InvocationContext } = azf;

/**
 * The sandbox's event-driven step: after convergence, someone in the customer's tenant creates a storage account and
 * deletes our activity-log diagnostic setting. The activity-log records of both (as the tenant's activity-log setting
 * streams them) go through the real Event Hub handler; change signals become a targeted work item on the real
 * reconcile queue (Azurite), which a stand-in of the Functions queue trigger (host.json's polling settings) hands to
 * the real queue handler. Reported per change: the time from the record's arrival at ingest to our setting being in
 * place (the simulator's time of our PUT), and the tamper Detection Finding read back from the blob output.
 */
export interface EventDrivenChange {
  change: string;
  /** The ARM id whose coverage was restored. */
  resourceId: string;
  arrivedAt: string;
  coveredAt?: string;
  latencyMs?: number;
}

export interface EventDrivenResult {
  delaySeconds: number;
  maxPollingSeconds: number;
  records: number;
  workItems: number;
  changes: EventDrivenChange[];
  finding?: { uid: string; title: string; caller?: string; callerIp?: string; valid: boolean; errors: string[]; event: OcsfEvent };
  ledgerTamper?: CoverageEntry['tamper'];
  problems: string[];
}

const settingPath = (on: string) => `${on}/providers/Microsoft.Insights/diagnosticSettings/mdr-export`.toLowerCase();

export async function runEventDrivenDemo(o: {
  root: string;
  sim: ArmSimulator;
  services: AppServices;
  ensureHub: EnsureHub;
  tenantId: string;
  subscriptionId: string;
  resourceGroup: string;
  region: string;
  binding: IngestBinding;
  blobClient: BlobServiceClient;
  connectionString: string;
  say: (line: string) => void;
}): Promise<EventDrivenResult> {
  const { sim, services, tenantId } = o;
  const { settings, registry } = services;
  const problems: string[] = [];
  const host = queueHostSettings(JSON.parse(readFileSync(join(o.root, 'host.json'), 'utf8')) as Parameters<typeof queueHostSettings>[0]);
  const stores = eventDrivenStores(services);
  const queue = new QueueClient(o.connectionString, settings.reconcile.queue);
  await queue.createIfNotExists();
  let workItems = 0;
  const handler = createReconcileQueueHandler(services, o.ensureHub, reconcileQueueExtras(services, stores));
  const consumer = startQueueHost({
    queue,
    ...host,
    handler: async (message, meta) => {
      workItems++;
      await handler(message, new InvocationContext({ functionName: 'reconcile-tenant', invocationId: `sandbox-q-${meta.id}`, triggerMetadata: { dequeueCount: meta.dequeueCount }, logHandler: () => {} }));
    },
  });
  try {
    const fed = new Set(sim.state.activityOfSubscription(o.subscriptionId).map((e) => e.eventDataId));
    // ---- what the customer's side does
    const account = createStorageAccountAs(sim, 'customer-admin', o.subscriptionId, { name: `stsandbox${Date.now().toString(36).slice(-6)}`, resourceGroup: o.resourceGroup, location: o.region });
    const customer = createAzureClients({ armEndpoint: sim.url, credential: staticTokenCredential('customer-admin'), tlsCa: sim.ca, retry: { retryDelayInMs: 5, maxRetryDelayInMs: 20 } });
    const subscriptionScope = `/subscriptions/${o.subscriptionId}`;
    await (await customer.monitor()).diagnosticSettings.delete(subscriptionScope.slice(1), 'mdr-export');
    o.say(`created storage account ${account.name} and deleted our activity-log setting, as customer-admin`);

    // ---- the activity-log records of those changes through the Event Hub handler
    const bodies = activityLogMessages(sim.state, [o.subscriptionId], 0, (e) => !fed.has(e.eventDataId));
    const records = bodies.reduce((n, b) => n + b.events.length, 0);
    const ingest = createIngestHandler({
      binding: o.binding,
      outputMode: 'blob',
      blobServiceClient: () => o.blobClient,
      eventsContainer: settings.ingest.outputContainer,
      deadLetterContainer: settings.ingest.deadLetterContainer,
      subscriptionIds: async (t) => [...new Set((await registry.listCoverage(t)).map((c) => c.subscriptionId))],
      onEvents: ingestChangeHook(services, stores, tenantId),
    });
    const arrived = Date.now();
    await ingest(
      bodies.map((b) => b.body),
      new InvocationContext({ functionName: `ingest-${o.binding.region}`, invocationId: 'sandbox-event-driven', triggerMetadata: { partitionContext: { partitionId: '0' }, sequenceNumberArray: bodies.map((_, i) => 900_000 + i) }, logHandler: () => {} }),
    );

    // ---- wait for coverage to come back (the queue host runs the targeted item)
    const services4 = ['blob', 'queue', 'table', 'file'].map((s) => `${account.id}/${s}Services/default`);
    const wanted = [subscriptionScope, ...services4];
    const putAt = (on: string) => sim.requests.find((r) => r.method === 'PUT' && r.status === 200 && r.principal === 'simulator-token' && r.path.toLowerCase() === settingPath(on) && r.at >= arrived)?.at;
    const deadline = Date.now() + 120_000;
    while (wanted.some((w) => putAt(w) === undefined) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const changes: EventDrivenChange[] = [
      { change: `our activity-log setting deleted by customer-admin`, resourceId: subscriptionScope, at: putAt(subscriptionScope) },
      { change: `storage account ${account.name} created (4 services)`, resourceId: account.id, at: services4.map(putAt).reduce<number | undefined>((m, t) => (t === undefined || m === undefined ? undefined : Math.max(m, t)), 0) },
    ].map((c) => ({ change: c.change, resourceId: c.resourceId, arrivedAt: new Date(arrived).toISOString(), ...(c.at !== undefined ? { coveredAt: new Date(c.at).toISOString(), latencyMs: c.at - arrived } : {}) }));
    for (const c of changes) if (c.latencyMs === undefined) problems.push(`event-driven: ${c.change}: our setting was not back within 120 s`);

    // ---- the tamper finding, read back from the blob output, and the ledger's record of it
    let finding: EventDrivenResult['finding'];
    const wait = Date.now() + 10_000;
    while (!finding && Date.now() < wait) {
      for await (const b of o.blobClient.getContainerClient(settings.ingest.outputContainer).listBlobsFlat({ prefix: `${tenantId}/detection_finding/` })) {
        if (!b.name.includes('tamper-')) continue;
        const ev = JSON.parse(gunzipSync(await o.blobClient.getContainerClient(settings.ingest.outputContainer).getBlobClient(b.name).downloadToBuffer()).toString('utf8').trim()) as OcsfEvent;
        const v = validateOcsfEvent(ev);
        const ev2 = ev as OcsfEvent & { finding_info: { title: string }; actor?: { user?: { name?: string } }; evidences?: { src_endpoint?: { ip?: string } }[] };
        finding = { uid: ev.metadata.uid, title: ev2.finding_info.title, caller: ev2.actor?.user?.name, callerIp: ev2.evidences?.[0]?.src_endpoint?.ip, valid: v.ok, errors: v.errors, event: ev };
      }
      if (!finding) await new Promise((r) => setTimeout(r, 100));
    }
    if (!finding) problems.push('event-driven: no tamper Detection Finding was written for the deleted setting');
    else if (!finding.valid) problems.push(`event-driven: the tamper finding is not valid OCSF: ${finding.errors.slice(0, 2).join(', ')}`);
    const ledgerTamper = (await registry.listCoverage(tenantId)).find((e) => e.target === 'activity-log' && e.subscriptionId === o.subscriptionId.toLowerCase())?.tamper;
    if (!ledgerTamper) problems.push('event-driven: the ledger does not record the tamper');
    o.say(`${changes.map((c) => `${c.change}: ${c.latencyMs === undefined ? 'not covered' : `${(c.latencyMs / 1000).toFixed(1)} s`}`).join('; ')}; ${workItems} work item(s)`);
    return { delaySeconds: settings.eventDriven.delaySeconds, maxPollingSeconds: host.maxPollingIntervalMs / 1000, records, workItems, changes, finding, ledgerTamper, problems };
  } finally {
    await consumer.stop();
  }
}

/** The app identity's object id as the simulator's activity-log records name it (MDR_APP_PRINCIPAL_IDS of the sandbox). */
export const sandboxAppPrincipalId = (sim: ArmSimulator, subscriptionId: string): string => simIdentity(sim.state, 'simulator-token', subscriptionId).objectId;
