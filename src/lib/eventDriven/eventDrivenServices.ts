import type { EventHubOutput, InvocationContext } from '@azure/functions';
import type { AppServices } from '../app/appServices.js';
import { createBlobOutputs } from '../ingest/outputs/blobOutputs.js';
import { createEventHubOutput } from '../ingest/outputs/eventHubOutput.js';
import type { OcsfEvent } from '../ingest/types.js';
import { lazyOnce } from '../lazy.js';
import { blobServiceClientFor, createsStorageResources, tableClientFactory } from '../storage/storageClients.js';
import { createIngestChangeHook } from './ingestHook.js';
import { createPendingWork, type PendingWork } from './pendingWork.js';
import { createTableMarkerTable } from './pendingWorkTable.js';
import { createSignalSink, type SignalSink } from './signalSink.js';
import type { TargetedRunExtras } from './targetedRun.js';
import { storageWorkQueue, type WorkQueue } from './workQueue.js';

/**
 * Composition of event-driven coverage from the app's services: the pending-work table and the reconcile queue in
 * the app's own storage account, the ingest hook, and the queue handler's extras (claim, findings output, requeue).
 * SDKs load on first use.
 */
export interface EventDrivenStores {
  pending: PendingWork;
  queue: WorkQueue;
  sink: SignalSink;
  self: ReadonlySet<string>;
}

export function eventDrivenStores(services: Pick<AppServices, 'settings' | 'storage'>): EventDrivenStores {
  const { settings, storage } = services;
  const client = async (name: string) => (await tableClientFactory(storage))(name);
  // An ingest app uses the table and queue the template creates, with data roles that cannot create them.
  const create = createsStorageResources(settings.fleet.role);
  const pending = createPendingWork(createTableMarkerTable({ tablePrefix: settings.storage.tablePrefix, client, createTable: create }), { delayMs: settings.eventDriven.delaySeconds * 1000 });
  const queue = storageWorkQueue(storage, settings.reconcile.queue, { create });
  return { pending, queue, sink: createSignalSink({ pending, queue, delaySeconds: settings.eventDriven.delaySeconds }), self: new Set(settings.eventDriven.selfPrincipalIds) };
}

/** The ingest handler's `onEvents` for one hub binding, or undefined when event-driven coverage is off. */
export function ingestChangeHook(services: Pick<AppServices, 'settings' | 'storage'>, stores: EventDrivenStores | undefined, tenantId: string) {
  if (!services.settings.eventDriven.enabled || !stores) return undefined;
  return createIngestChangeHook({ tenantId, sink: stores.sink, self: stores.self, automationResourceGroup: services.settings.provider.automationResourceGroup, prefix: services.settings.prefix });
}

/**
 * The reconcile queue handler's extras. Findings go where OCSF events go (settings.ingest.outputMode): blob, and/or
 * the downstream hub through `downstream` (declared in the queue function's extraOutputs).
 */
export function reconcileQueueExtras(services: Pick<AppServices, 'settings' | 'storage'>, stores: EventDrivenStores | undefined, downstream?: EventHubOutput): ((ctx: InvocationContext) => TargetedRunExtras) | undefined {
  if (!stores) return undefined;
  const { settings, storage } = services;
  const blobs = lazyOnce(async () => {
    const client = await blobServiceClientFor(storage);
    return createBlobOutputs({ serviceClient: client, eventsContainer: settings.ingest.outputContainer, deadLetterContainer: settings.ingest.deadLetterContainer, compression: settings.ingest.compression });
  });
  const mode = settings.ingest.outputMode;
  return (ctx) => ({
    pending: stores.pending,
    requeue: stores.queue,
    self: stores.self,
    writeFindings: async (tenantId: string, findings: OcsfEvent[]) => {
      // One blob per finding (named by its uid): a redelivered item rewrites the same blob.
      const batches = findings.map((f) => ({ tenantId, partitionId: undefined, firstSequenceNumber: undefined, batchId: `tamper-${f.metadata.uid}`, events: [f] }));
      if (mode === 'blob' || mode === 'both') for (const b of batches) await (await blobs()).writeEvents(b);
      if ((mode === 'eventhub' || mode === 'both') && downstream) {
        const out = createEventHubOutput((events) => ctx.extraOutputs.set(downstream, events));
        for (const b of batches) await out.writeEvents(b);
      }
    },
  });
}
