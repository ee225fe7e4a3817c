import { createHash } from 'node:crypto';
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import type { DeadLetter, OcsfEvent } from '../types.js';
import { enqueuedMs, writeEventBatch, type EventBatch, type EventStreamInfo, type EventWriter, type IngestOutputs } from '../handleIngestBatch.js';
import { serializeDeadLetter } from '../deadLetter.js';
import { ocsfClassName } from '../ocsf/validate.js';
import { NdjsonBlob, type EventCompression } from './ndjsonBlob.js';

export type { EventCompression } from './ndjsonBlob.js';

/**
 * Blob outputs. Events: NDJSON, gzip-compressed by default, at
 * `{tenantId}/{ocsf_class}/{yyyy}/{mm}/{dd}/{hh}/[{namespace}-]{batchId}.ndjson.gz` (`.ndjson` uncompressed; hour of the
 * event time). Each event is serialized into its blob's bytes as it is mapped, and compressed a span at a time
 * (NdjsonBlob): a batch holds its events as compressed bytes until it ends. The batch id is `<partition>-<first sequence number>`, so a redelivered batch overwrites its
 * own blobs instead of adding duplicates; the namespace keeps a tenant's hubs in different regions (whose partitions
 * number their events independently) from overwriting each other. Dead letters: one JSON document per message (one
 * line, so files concatenate into NDJSON for `azure-mdr replay`; format in deadLetter.ts) at
 * `{tenantId}/{yyyy}/{mm}/{dd}/[{namespace}-]{partition}-{seq}.json`, overwritten by a redelivery.
 * Any upload error propagates: the handler then throws and the host redelivers.
 */
export interface BlobOutputOptions {
  serviceClient: BlobServiceClient;
  eventsContainer: string;
  deadLetterContainer: string;
  /** Default DEFAULT_EVENT_COMPRESSION. */
  compression?: EventCompression | undefined;
}

/**
 * gzip level 1: the least CPU per byte — deflate at level 6 costs about as much CPU as all of mapping (bench/RESULTS.md)
 * — for blobs ~1.5× the size of level 6's. MDR_INGEST_GZIP_LEVEL trades the other way.
 */
export const DEFAULT_EVENT_COMPRESSION: EventCompression = { kind: 'gzip', level: 1 };

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
function hourPath(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${pad(d.getUTCHours())}`;
}
function dayPath(ms: number): string {
  return hourPath(ms).slice(0, 10);
}
const SAFE_SEGMENT = /[^A-Za-z0-9._-]/g;
function segment(s: string | undefined, fallback: string): string {
  return s ? s.replace(SAFE_SEGMENT, '_').slice(0, 100) : fallback;
}

export function eventBlobName(tenantId: string | undefined, ev: Pick<OcsfEvent, 'class_uid' | 'time'>, batchId: string, namespace?: string, compression: EventCompression = DEFAULT_EVENT_COMPRESSION): string {
  const ns = namespace ? `${segment(namespace, 'ns')}-` : '';
  return `${segment(tenantId, 'unattributed')}/${ocsfClassName(ev.class_uid)}/${hourPath(ev.time)}/${ns}${segment(batchId, 'batch')}.ndjson${compression.kind === 'gzip' ? '.gz' : ''}`;
}

export function deadLetterBlobName(dl: DeadLetter): string {
  const when = enqueuedMs(dl.enqueuedTime) ?? NaN;
  const seq = dl.sequenceNumber !== undefined ? String(dl.sequenceNumber) : `h${createHash('sha256').update(dl.body).digest('hex').slice(0, 16)}`;
  const ns = dl.namespace ? `${segment(dl.namespace, 'ns')}-` : '';
  return `${segment(dl.tenantId, 'unattributed')}/${dayPath(Number.isNaN(when) ? dl.deadLetteredAt : when)}/${ns}${segment(dl.partitionId, 'p')}-${seq}.json`;
}

const DEAD_LETTER_UPLOADS = 4;

const HOUR_MS = 3_600_000;

export interface BlobOutputs extends IngestOutputs {
  /** A batch that is already one value (tamper findings). */
  writeEvents(batch: EventBatch): Promise<void>;
}

export function createBlobOutputs(opts: BlobOutputOptions): BlobOutputs {
  const compression = opts.compression ?? DEFAULT_EVENT_COMPRESSION;
  const headers =
    compression.kind === 'gzip' ? { blobHTTPHeaders: { blobContentType: 'application/x-ndjson', blobContentEncoding: 'gzip' } } : { blobHTTPHeaders: { blobContentType: 'application/x-ndjson' } };
  const ensured = new Map<string, Promise<ContainerClient>>();
  const container = (name: string): Promise<ContainerClient> => {
    let p = ensured.get(name);
    if (!p) {
      const c = opts.serviceClient.getContainerClient(name);
      p = c.createIfNotExists().then(() => c);
      // A failed create must be retried on the next call, not cached.
      p.catch(() => ensured.delete(name));
      ensured.set(name, p);
    }
    return p;
  };
  const openEvents = (info: EventStreamInfo): EventWriter => {
    // One blob per tenant, class and hour of event time; its name needs the batch id, known at end.
    const groups = new Map<string, { first: Pick<OcsfEvent, 'class_uid' | 'time'>; tenant: string | undefined; blob: NdjsonBlob }>();
    let last: { tenant: string | undefined; classUid: number; hour: number; blob: NdjsonBlob } | undefined;
    const abort = (): void => {
      groups.clear();
      last = undefined;
    };
    return {
      write(ev: OcsfEvent): void {
        const tenant = info.tenantId ?? (ev.metadata.tenant_uid as string | undefined);
        const hour = Math.floor(ev.time / HOUR_MS);
        // Consecutive events nearly always go to the same blob: skip building the key for those.
        if (last === undefined || last.tenant !== tenant || last.classUid !== ev.class_uid || last.hour !== hour) {
          const key = `${tenant ?? ''}|${ev.class_uid}|${hour}`;
          let g = groups.get(key);
          // The first event's class and time name the blob (all its events share class and hour); the event itself is not kept.
          if (!g) groups.set(key, (g = { first: { class_uid: ev.class_uid, time: ev.time }, tenant, blob: new NdjsonBlob(compression) }));
          last = { tenant, classUid: ev.class_uid, hour, blob: g.blob };
        }
        last.blob.addLine(JSON.stringify(ev));
      },
      async end(batchId: string): Promise<void> {
        try {
          const c = await container(opts.eventsContainer);
          await Promise.all(
            [...groups.values()].map(async (g) => {
              const data = g.blob.finish();
              await c.getBlockBlobClient(eventBlobName(g.tenant, g.first, batchId, info.namespace, compression)).uploadData(data, headers);
            }),
          );
        } finally {
          abort();
        }
      },
      abort,
    };
  };
  return {
    openEvents,
    writeEvents: (batch) => writeEventBatch({ openEvents }, batch),
    async writeDeadLetters(dls: DeadLetter[]): Promise<void> {
      const c = await container(opts.deadLetterContainer);
      // A few uploads at a time: each serialized dead letter is ~1.4× its message, and a batch may hold 100 messages of 1 MB.
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < dls.length) {
          const dl = dls[next++]!;
          await c.getBlockBlobClient(deadLetterBlobName(dl)).uploadData(serializeDeadLetter(dl), { blobHTTPHeaders: { blobContentType: 'application/json' } });
        }
      };
      await Promise.all(Array.from({ length: Math.min(DEAD_LETTER_UPLOADS, dls.length) }, worker));
    },
  };
}
