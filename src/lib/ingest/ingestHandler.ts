import type { InvocationContext, EventHubOutput } from '@azure/functions';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { IngestBinding } from '../config/ingestBindings.js';
import type { Logger } from '../log.js';
import { contextLogger } from '../observability/contextLogger.js';
import { enqueuedMs, handleIngestBatch, type IngestBatchResult, type IngestMessageMeta, type IngestOutputs, type UnmappedPolicy } from './handleIngestBatch.js';
import { createBlobOutputs, type EventCompression } from './outputs/blobOutputs.js';
import { createEventHubOutput } from './outputs/eventHubOutput.js';
import { combineOutputs } from './outputs/memoryOutputs.js';
import { lazyOnce } from '../lazy.js';
import type { OcsfEvent } from './types.js';
import { mayBeChangeSignal } from '../eventDriven/changeSignals.js';

/**
 * The Event Hub trigger handler (cardinality "many", `dataType: 'binary'`) for one binding. The registration
 * (ingestRegistrations.ts) wires it. Each message arrives as a Buffer of its exact bytes: the host sends the batch
 * as RPC `collectionBytes` and `@azure/functions` turns each entry into a Buffer (fromRpcTypedData). It reads
 * partition/sequence/offset/enqueued-time from `context.triggerMetadata` (camelCased by the v4 library), runs
 * handleIngestBatch and throws on any output failure so the host's retry policy redelivers the batch; with
 * `maxRetryCount: -1` it does so until the outputs recover (no-loss policy, README "Ingest delivery").
 */
export interface IngestHandlerDeps {
  binding: IngestBinding;
  /** 'blob' (default), 'eventhub' or 'both' (settings.ingest.outputMode). Dead letters always go to blob. */
  outputMode?: 'blob' | 'eventhub' | 'both';
  /** Injected so tests use Azurite and production a managed-identity client. Called once per handler; may load the SDK lazily. */
  blobServiceClient: () => BlobServiceClient | Promise<BlobServiceClient>;
  eventsContainer: string;
  deadLetterContainer: string;
  /** Event blob compression (settings.ingest.compression); default DEFAULT_EVENT_COMPRESSION. */
  compression?: EventCompression;
  /** OCSF `unmapped` kept or left out (settings.ingest.unmapped); default keep. */
  unmapped?: UnmappedPolicy;
  /** The `output.eventHub(...)` binding declared in extraOutputs (required for 'eventhub'/'both'). */
  eventHubOutput?: EventHubOutput;
  /** The tenant's known subscription ids (from the registry); an empty list means none is the tenant's yet. */
  subscriptionIds?: (tenantId: string) => Promise<readonly string[]> | readonly string[];
  /** Clock for ingest time; defaults to Date.now. */
  now?: () => number;
  /** Called with the batch result (stream-health `lastSeen` recording). Errors here fail the invocation. */
  onBatch?: (result: IngestBatchResult, context: InvocationContext) => Promise<void> | void;
  /**
   * Event-driven coverage (src/lib/eventDriven/ingestHook.ts): the events of a batch whose outputs were written that
   * may be change signals (mayBeChangeSignal: the others are not kept), with the tenant's known subscriptions.
   * Called after onBatch.
   */
  onEvents?: (events: readonly OcsfEvent[], subscriptionIds: readonly string[], context: InvocationContext, arrival?: { from: number; to: number }) => Promise<void>;
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function asString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

/**
 * A sequence number as the v4 library hands it over. The host sends `SequenceNumberArray` (long[]) as RPC
 * `collectionSint64`; the worker's protobuf decoding leaves int64 values as Long objects unless they are plain
 * numbers, and the library passes them through, camelCasing a Long into `{ low, high, unsigned }` (the v3
 * converter called `isLong` for this: azure-functions-nodejs-worker src/converters/RpcConverters.ts).
 */
export function sequenceNumberOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  if (typeof v === 'string' && /^\d{1,15}$/.test(v)) return Number(v);
  if (typeof v === 'object' && v !== null) {
    const { low, high } = v as { low?: unknown; high?: unknown };
    if (typeof low === 'number' && typeof high === 'number' && high >= 0) {
      const n = high * 2 ** 32 + (low >>> 0);
      return Number.isSafeInteger(n) ? n : undefined;
    }
  }
  return undefined;
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
    out.push({
      partitionId,
      sequenceNumber: sequenceNumberOf(seqs[i]) ?? sequenceNumberOf(s.sequenceNumber) ?? sequenceNumberOf(s['x-opt-sequence-number']),
      offset: asString(offsets[i] ?? s.offset),
      enqueuedTime: asString(times[i] ?? s.enqueuedTimeUtc),
    });
  }
  return out;
}

/** The earliest and latest time the batch's messages reached the hub (host times may lack a zone: they are UTC). */
function arrivalOf(metas: readonly IngestMessageMeta[]): { from: number; to: number } | undefined {
  const times = metas.map((m) => enqueuedMs(m.enqueuedTime)).filter((t): t is number => t !== undefined);
  return times.length > 0 ? { from: Math.min(...times), to: Math.max(...times) } : undefined;
}

export function createIngestHandler(deps: IngestHandlerDeps): (messages: unknown[], context: InvocationContext) => Promise<void> {
  const mode = deps.outputMode ?? 'blob';
  if (mode !== 'blob' && !deps.eventHubOutput) throw new Error(`outputMode ${mode} needs deps.eventHubOutput (the output.eventHub binding)`);
  const blobOutputs = lazyOnce(async (): Promise<IngestOutputs> =>
    createBlobOutputs({ serviceClient: await deps.blobServiceClient(), eventsContainer: deps.eventsContainer, deadLetterContainer: deps.deadLetterContainer, compression: deps.compression }),
  );
  let warnedNotBinary = false;
  return async (messages, context) => {
    const bodies = Array.isArray(messages) ? messages : [messages];
    const log = contextLogger(context, { tenantId: deps.binding.tenantId, hub: deps.binding.hub });
    if (!warnedNotBinary && bodies.some((b) => !(b instanceof Uint8Array))) {
      // Without dataType 'binary' the library JSON-parses each message: raw_data would be a re-serialization.
      warnedNotBinary = true;
      log.warn('ingest.not_binary', { reason: 'the trigger delivered parsed or string messages; register it with dataType "binary" so raw_data and dead letters keep the exact bytes' });
    }
    const metas = messagesFromTriggerMetadata(context.triggerMetadata, bodies.length);
    try {
      await deliver(bodies, metas, context, log);
    } catch (e) {
      logDeliveryFailure(log, context, metas, e);
      throw e;
    }
  };

  async function deliver(bodies: unknown[], metas: IngestMessageMeta[], context: InvocationContext, log: Logger): Promise<void> {
    const eventWriters = [] as Pick<IngestOutputs, 'openEvents'>[];
    const blobOut = await blobOutputs();
    if (mode === 'blob' || mode === 'both') eventWriters.push(blobOut);
    if (mode === 'eventhub' || mode === 'both') {
      const out = deps.eventHubOutput!;
      eventWriters.push(createEventHubOutput((events) => context.extraOutputs.set(out, events)));
    }
    const written: OcsfEvent[] = [];
    if (deps.onEvents)
      eventWriters.push({
        openEvents: () => ({
          write: (ev) => void (mayBeChangeSignal(ev) && written.push(ev)),
          end: () => Promise.resolve(),
          abort: () => void (written.length = 0),
        }),
      });
    const outputs = combineOutputs(eventWriters, { writeDeadLetters: (dls) => blobOut.writeDeadLetters(dls) });
    const subscriptionIds = deps.subscriptionIds ? await deps.subscriptionIds(deps.binding.tenantId) : undefined;
    const result = await handleIngestBatch({
      bodies,
      messages: metas,
      binding: { tenantId: deps.binding.tenantId, region: deps.binding.region, namespace: deps.binding.namespace, hub: deps.binding.hub },
      subscriptionIds,
      ingestTime: (deps.now ?? Date.now)(),
      outputs,
      logger: log,
      unmapped: deps.unmapped,
    });
    if (deps.onBatch) await deps.onBatch(result, context);
    if (deps.onEvents && written.length > 0) await deps.onEvents(written, subscriptionIds ?? [], context, arrivalOf(metas));
  }
}

/** After this many failed deliveries of one batch the partition counts as stalled (the old retry budget was 8). */
export const STALLED_AFTER_RETRIES = 8;

/**
 * A failed delivery: the host retries the batch (retryCount counts the retries so far) and its partition does not
 * advance meanwhile. Past STALLED_AFTER_RETRIES the line is an error naming the stalled partition.
 */
function logDeliveryFailure(log: Logger, context: InvocationContext, metas: IngestMessageMeta[], e: unknown): void {
  const retryCount = context.retryContext?.retryCount ?? 0;
  const seqs = metas.map((m) => m.sequenceNumber).filter((n): n is number => n !== undefined);
  const fields = {
    partitionId: metas[0]?.partitionId,
    firstSequenceNumber: seqs.length > 0 ? Math.min(...seqs) : undefined,
    lastSequenceNumber: seqs.length > 0 ? Math.max(...seqs) : undefined,
    messages: metas.length,
    retryCount,
    maxRetryCount: context.retryContext?.maxRetryCount,
    error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
  };
  if (retryCount >= STALLED_AFTER_RETRIES) log.error('ingest.partition_stalled', fields);
  else log.warn('ingest.delivery_failed', fields);
}
