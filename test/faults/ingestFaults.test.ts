import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../sim/faults.js';
import { handleIngestBatch, type EventBatch, type IngestBatchResult, type IngestOutputs } from '../../src/lib/ingest/handleIngestBatch.js';
import { createBlobOutputs } from '../../src/lib/ingest/outputs/blobOutputs.js';
import { combineOutputs, createMemoryOutputs } from '../../src/lib/ingest/outputs/memoryOutputs.js';
import { failedRecordsOf, parseDeadLetter, type StoredDeadLetter } from '../../src/lib/ingest/deadLetter.js';

/** One key per dead-lettered record: message sequence number, record index, reason. */
function deadRecordKeys(dls: readonly StoredDeadLetter[]): string[] {
  return dls.flatMap((d) => (d.version === 2 ? failedRecordsOf(d).map((f) => `${d.sequenceNumber}#${f.index}#${f.reason}`) : [])).sort();
}

/**
 * Ingest under output failures: the blob store (events and dead letters) and the downstream Event Hub fail for a
 * while, then recover. Every failing delivery must throw (the host redelivers the same batch, the checkpoint does
 * not move); once the outputs recover, every input record is accounted for exactly once: as an event (unique
 * `metadata.uid`) or as a dead letter (by its original bytes).
 */
const LONG = process.env.FAULTS === 'long';
const fixtures = join(import.meta.dirname, '../fixtures');
const SOURCES = ['activity-log', 'sign-in', 'key-vault', 'storage', 'entra-audit', 'entra-risk', 'defender-alert', 'edge-cases'];
const bodies: Buffer[] = [
  ...SOURCES.flatMap((s) =>
    readdirSync(join(fixtures, s))
      .filter((f) => !f.endsWith('.expected.json'))
      .sort()
      .map((f) => readFileSync(join(fixtures, s, f))),
  ),
  // Messages that must dead-letter: junk, an unknown shape, an empty body.
  Buffer.from('not json at all {'),
  Buffer.from('{"hello":"world"}'),
  Buffer.from(''),
];
const messages = bodies.map((_, i) => ({ partitionId: '2', sequenceNumber: 500 + i, offset: String(i * 100), enqueuedTime: '2026-11-26T10:00:00' }));
const TENANT = undefined; // offline attribution keeps every fixture (they name many tenants)

/** A BlobServiceClient stand-in that keeps blobs by name (overwrite = idempotent) and fails uploads on demand. */
function fakeBlobService(fail: (op: string) => boolean) {
  const blobs = new Map<string, Buffer>();
  let failures = 0;
  const service = {
    getContainerClient: (container: string) => ({
      createIfNotExists: async () => {
        if (fail(`create ${container}`)) {
          failures++;
          throw Object.assign(new Error(`container ${container}: 503 ServerBusy`), { statusCode: 503 });
        }
        return {};
      },
      getBlockBlobClient: (name: string) => ({
        uploadData: async (data: Buffer) => {
          if (fail(`upload ${container}/${name}`)) {
            failures++;
            throw Object.assign(new Error(`upload ${name}: 500 InternalError`), { statusCode: 500 });
          }
          blobs.set(`${container}/${name}`, Buffer.from(data));
          return {};
        },
      }),
    }),
  };
  return { service: service as unknown as BlobServiceClient, blobs, failures: () => failures };
}

interface Run {
  attempts: number;
  thrown: number;
  injected: number;
  result: IngestBatchResult;
  blobUids: string[];
  hubUids: string[];
  deadLetters: StoredDeadLetter[];
}

/** Delivers the same batch until it succeeds; outputs fail as `failWhile(attempt)` says. */
async function deliverUntilSuccess(seed: number, failingAttempts: number, failRate: number, hubDownAttempts: number): Promise<Run> {
  const random = seededRandom(seed);
  let attempt = 0;
  const blob = fakeBlobService(() => attempt <= failingAttempts && random() < failRate);
  const blobOutputs = createBlobOutputs({ serviceClient: blob.service, eventsContainer: 'ocsf', deadLetterContainer: 'dead' });
  let hubFailures = 0;
  const hub = createMemoryOutputs();
  const downstreamHub: Pick<IngestOutputs, 'openEvents'> = {
    openEvents(info) {
      const w = hub.openEvents(info);
      return {
        write: (ev) => w.write(ev),
        abort: () => w.abort(),
        async end(batchId) {
          if (attempt <= hubDownAttempts) {
            hubFailures++;
            w.abort();
            throw new Error('downstream Event Hub unavailable (ServiceBusy)');
          }
          await w.end(batchId);
        },
      };
    },
  };
  const hubSent: EventBatch[] = hub.batches;
  const outputs = combineOutputs([blobOutputs, downstreamHub], blobOutputs);
  let thrown = 0;
  for (attempt = 1; attempt <= 20; attempt++) {
    try {
      const result = await handleIngestBatch({ bodies, messages, binding: { tenantId: TENANT, hub: 'h', namespace: 'ns' }, ingestTime: 1_000 + attempt, outputs });
      const blobUids = [...blob.blobs]
        .filter(([name]) => name.startsWith('ocsf/'))
        .flatMap(([, gz]) => gunzipSync(gz).toString('utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { metadata: { uid: string } }).metadata.uid));
      const deadLetters = [...blob.blobs].filter(([name]) => name.startsWith('dead/')).map(([, b]) => parseDeadLetter(b.toString('utf8')));
      return { attempts: attempt, thrown, injected: blob.failures() + hubFailures, result, blobUids, hubUids: hubSent.flatMap((b) => b.events.map((e) => e.metadata.uid)), deadLetters };
    } catch {
      thrown++;
    }
  }
  throw new Error('the batch never succeeded');
}

const figures = { runs: 0, injected: 0, deliveries: 0, records: 0, events: 0, deadLetters: 0 };
afterAll(() => {
  console.log(`[faults] ingest ${LONG ? 'long' : 'fast'}: ${figures.runs} fault schedules, ${figures.injected} output failures injected, ${figures.deliveries} deliveries; per batch ${figures.records} records in -> ${figures.events} events + ${figures.deadLetters} dead letters`);
});

describe('ingest under output failures', async () => {
  // Reference: the same batch with outputs that never fail.
  const clean = createMemoryOutputs();
  const expected = await handleIngestBatch({ bodies, messages, binding: { tenantId: TENANT, hub: 'h', namespace: 'ns' }, ingestTime: 1, outputs: clean });
  const expectedUids = clean.batches.flatMap((b) => b.events.map((e) => e.metadata.uid)).sort();
  const expectedDeadKeys = clean.deadLetters.flatMap((d) => failedRecordsOf(d).map((f) => `${d.sequenceNumber}#${f.index}#${f.reason}`)).sort();

  it('the reference batch is realistic: several sources, events and dead letters, accounting identity holds', () => {
    expect(bodies.length).toBeGreaterThan(40);
    expect(expected.events).toBeGreaterThan(80);
    expect(expected.deadLetters).toBeGreaterThan(3);
    expect(expected.mapped + expected.deadLetters).toBe(expected.records);
    // Some fixture files repeat a record: equal records get equal uids (that is how the downstream dedupes).
    expect(new Set(expectedUids).size).toBeGreaterThan(expectedUids.length * 0.75);
    figures.records = expected.records;
    figures.events = expected.events;
    figures.deadLetters = expected.deadLetters;
  });

  const schedules: [string, number, number, number][] = [
    // name, failing attempts, blob failure rate per call while failing, attempts the hub is down
    ['blob writes failing', 3, 0.4, 0],
    ['downstream hub down', 0, 0, 3],
    ['blob and hub failing together', 4, 0.3, 2],
    ['dead-letter container unavailable (every blob call fails)', 2, 1, 0],
  ];
  const seeds = LONG ? [1, 2, 3, 4, 5, 6, 7, 8] : [1, 2];
  for (const [name, failing, rate, hubDown] of schedules)
    for (const seed of seeds)
      it(`${name} (seed ${seed}): each failing delivery throws; after recovery every record is one event uid or one dead letter`, async () => {
        const run = await deliverUntilSuccess(seed, failing, rate, hubDown);
        figures.runs++;
        figures.injected += run.injected;
        figures.deliveries += run.attempts;
        expect(run.thrown).toBe(run.attempts - 1);
        if (hubDown > 0 || rate === 1) expect(run.thrown).toBeGreaterThanOrEqual(Math.max(hubDown, rate === 1 ? failing : 0));
        expect(run.injected).toBeGreaterThan(0);
        expect(run.result).toMatchObject({ records: expected.records, mapped: expected.mapped, events: expected.events, deadLetters: expected.deadLetters });
        // Blob store: overwritten by deterministic names, so exactly the expected events, no duplicates.
        expect([...run.blobUids].sort()).toEqual(expectedUids);
        // Event Hub is at-least-once: the downstream dedupes by uid, and the set of uids is exactly the expected one.
        expect([...new Set(run.hubUids)].sort()).toEqual([...new Set(expectedUids)].sort());
        // Dead letters: one blob per message with failed records, carrying the message's original bytes once.
        const keys = deadRecordKeys(run.deadLetters);
        expect(keys).toEqual(expectedDeadKeys);
        for (const d of run.deadLetters) expect(d.body.equals(bodies[d.sequenceNumber! - 500]!)).toBe(true);
        expect(run.blobUids.length + keys.length).toBe(expected.events + expected.deadLetters);
      });
});
