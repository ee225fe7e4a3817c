import type { InvocationContext, EventHubOutput } from '@azure/functions';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { IngestBinding } from '../config/ingestBindings.js';
import { contextLogger } from '../observability/contextLogger.js';
import { handleIngestBatch, type IngestBatchResult, type IngestMessageMeta, type IngestOutputs } from './handleIngestBatch.js';
import { createBlobOutputs } from './outputs/blobOutputs.js';
import { createEventHubOutput } from './outputs/eventHubOutput.js';
import { combineOutputs } from './outputs/memoryOutputs.js';
import { lazyOnce } from '../lazy.js';
import type { OcsfEvent } from './types.js';

/**
 * The Event Hub trigger handler (cardinality "many") for one binding. The registration file wires it:
 *   app.eventHub(ingestFunctionName(b), { …, extraOutputs: [downstream], handler: createIngestHandler({ binding: b, … }) })
 * It reads partition/sequence/offset/enqueued-time from `context.triggerMetadata` (camelCased by the v4 library),
 * runs handleIngestBatch and throws on any output failure so the host's retry policy redelivers the batch.
 */
export interface IngestHandlerDeps {
  binding: IngestBinding;
  /** 'blob' (default), 'eventhub' or 'both' (settings.ingest.outputMode). Dead letters always go to blob. */
  outputMode?: 'blob' | 'eventhub' | 'both';
  /** Injected so tests use Azurite and production a managed-identity client. Called once per handler; may load the SDK lazily. */
  blobServiceClient: () => BlobServiceClient | Promise<BlobServiceClient>;
  eventsContainer: string;
  deadLetterContainer: string;
  /** The `output.eventHub(...)` binding declared in extraOutputs (required for 'eventhub'/'both'). */
  eventHubOutput?: EventHubOutput;
  /** The tenant's known subscription ids (from the registry); an empty list means none is the tenant's yet. */
  subscriptionIds?: (tenantId: string) => Promise<readonly string[]> | readonly string[];
  /** Clock for ingest time; defaults to Date.now. */
  now?: () => number;
  /** Called with the batch result (stream-health `lastSeen` recording). Errors here fail the invocation. */
  onBatch?: (result: IngestBatchResult, context: InvocationContext) => Promise<void> | void;
  /**
   * Event-driven coverage (src/lib/eventDriven/ingestHook.ts): the events of a batch whose outputs were written, with
   * the tenant's known subscriptions. Called after onBatch.
   */
  onEvents?: (events: readonly OcsfEvent[], subscriptionIds: readonly string[], context: InvocationContext) => Promise<void>;
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function asString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

/** Per-message metadata from the v4 trigger metadata (keys already camelCased by the library). */
export function messagesFromTriggerMetadata(meta: Record<string, unknown> | undefined, count: number): IngestMessageMeta[] {
  const m = meta ?? {};
  const pc = (m.partitionContext ?? {}) as Record<string, unknown>;
  const partitionId = asString(pc.partitionId);
  const seqs = asArray(m.sequenceNumberArray);
  const offsets = asArray(m.offsetArray).length > 0 ? asArray(m.offsetArray) : asArray(m.offsetStringArray);
  const times = asArray(m.enqueuedTimeUtcArray);
  const sys = asArray(m.systemPropertiesArray);
  const out: IngestMessageMeta[] = [];
  for (let i = 0; i < count; i++) {
    const s = (sys[i] ?? {}) as Record<string, unknown>;
    const seq = seqs[i] ?? s.sequenceNumber ?? s['x-opt-sequence-number'];
    out.push({
      partitionId,
      sequenceNumber: typeof seq === 'number' ? seq : typeof seq === 'string' && seq !== '' ? Number(seq) : undefined,
      offset: asString(offsets[i] ?? s.offset),
      enqueuedTime: asString(times[i] ?? s.enqueuedTimeUtc),
    });
  }
  return out;
}

export function createIngestHandler(deps: IngestHandlerDeps): (messages: unknown[], context: InvocationContext) => Promise<void> {
  const mode = deps.outputMode ?? 'blob';
  if (mode !== 'blob' && !deps.eventHubOutput) throw new Error(`outputMode ${mode} needs deps.eventHubOutput (the output.eventHub binding)`);
  const blobOutputs = lazyOnce(async (): Promise<IngestOutputs> =>
    createBlobOutputs({ serviceClient: await deps.blobServiceClient(), eventsContainer: deps.eventsContainer, deadLetterContainer: deps.deadLetterContainer }),
  );
  return async (messages, context) => {
    const bodies = Array.isArray(messages) ? messages : [messages];
    const log = contextLogger(context, { tenantId: deps.binding.tenantId, hub: deps.binding.hub });
    const eventWriters = [] as Pick<IngestOutputs, 'writeEvents'>[];
    const blobOut = await blobOutputs();
    if (mode === 'blob' || mode === 'both') eventWriters.push(blobOut);
    if (mode === 'eventhub' || mode === 'both') {
      const out = deps.eventHubOutput!;
      eventWriters.push(createEventHubOutput((events) => context.extraOutputs.set(out, events)));
    }
    const written: OcsfEvent[] = [];
    if (deps.onEvents)
      eventWriters.push({
        writeEvents: (b) => {
          for (const ev of b.events) written.push(ev);
          return Promise.resolve();
        },
      });
    const outputs = combineOutputs(eventWriters, { writeDeadLetters: (dls) => blobOut.writeDeadLetters(dls) });
    const subscriptionIds = deps.subscriptionIds ? await deps.subscriptionIds(deps.binding.tenantId) : undefined;
    const result = await handleIngestBatch({
      bodies,
      messages: messagesFromTriggerMetadata(context.triggerMetadata, bodies.length),
      binding: { tenantId: deps.binding.tenantId, region: deps.binding.region, namespace: deps.binding.namespace, hub: deps.binding.hub },
      subscriptionIds,
      ingestTime: (deps.now ?? Date.now)(),
      outputs,
      logger: log,
    });
    if (deps.onBatch) await deps.onBatch(result, context);
    if (deps.onEvents && written.length > 0) await deps.onEvents(written, subscriptionIds ?? [], context);
  };
}
