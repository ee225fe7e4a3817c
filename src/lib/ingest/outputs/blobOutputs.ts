import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import type { DeadLetter, OcsfEvent } from '../types.js';
import type { EventBatch, IngestOutputs } from '../handleIngestBatch.js';
import { serializeDeadLetter } from '../deadLetter.js';
import { ocsfClassName } from '../ocsf/validate.js';

/**
 * Blob outputs. Events: gzip NDJSON at `{tenantId}/{ocsf_class}/{yyyy}/{mm}/{dd}/{hh}/[{namespace}-]{batchId}.ndjson.gz`
 * (hour of the event time). The batch id is `<partition>-<first sequence number>`, so a redelivered batch overwrites its
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
}

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

export function eventBlobName(tenantId: string | undefined, ev: OcsfEvent, batchId: string, namespace?: string): string {
  const ns = namespace ? `${segment(namespace, 'ns')}-` : '';
  return `${segment(tenantId, 'unattributed')}/${ocsfClassName(ev.class_uid)}/${hourPath(ev.time)}/${ns}${segment(batchId, 'batch')}.ndjson.gz`;
}

export function deadLetterBlobName(dl: DeadLetter): string {
  const when = dl.enqueuedTime ? Date.parse(dl.enqueuedTime.endsWith('Z') || /[+-]\d\d:?\d\d$/.test(dl.enqueuedTime) ? dl.enqueuedTime : `${dl.enqueuedTime}Z`) : NaN;
  const seq = dl.sequenceNumber !== undefined ? String(dl.sequenceNumber) : `h${createHash('sha256').update(dl.body).digest('hex').slice(0, 16)}`;
  const ns = dl.namespace ? `${segment(dl.namespace, 'ns')}-` : '';
  return `${segment(dl.tenantId, 'unattributed')}/${dayPath(Number.isNaN(when) ? dl.deadLetteredAt : when)}/${ns}${segment(dl.partitionId, 'p')}-${seq}.json`;
}

const DEAD_LETTER_UPLOADS = 4;

export function createBlobOutputs(opts: BlobOutputOptions): IngestOutputs {
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
  return {
    async writeEvents(batch: EventBatch): Promise<void> {
      const groups = new Map<string, string[]>();
      for (const ev of batch.events) {
        const name = eventBlobName(batch.tenantId ?? (ev.metadata.tenant_uid as string | undefined), ev, batch.batchId, batch.namespace);
        let lines = groups.get(name);
        if (!lines) groups.set(name, (lines = []));
        lines.push(JSON.stringify(ev));
      }
      const c = await container(opts.eventsContainer);
      await Promise.all(
        [...groups].map(([name, lines]) => {
          const data = gzipSync(Buffer.from(`${lines.join('\n')}\n`, 'utf8'));
          return c.getBlockBlobClient(name).uploadData(data, { blobHTTPHeaders: { blobContentType: 'application/x-ndjson', blobContentEncoding: 'gzip' } });
        }),
      );
    },
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
