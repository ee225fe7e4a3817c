import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTILE_FRAMINGS, HOSTILE_KINDS, HOSTILE_TENANT, MESSAGE_LIMIT_BYTES, hostileMessage, type HostileRecipe } from '../../scripts/bench/hostileMessage.js';
import { minHeapMb, runHeapChild } from '../../scripts/bench/ingestHeap.js';
import { defaultDecodeLimits } from '../../src/lib/ingest/decode/decodeBody.js';
import { serializeDeadLetter } from '../../src/lib/ingest/deadLetter.js';
import { handleIngestBatch } from '../../src/lib/ingest/handleIngestBatch.js';
import { createMemoryOutputs } from '../../src/lib/ingest/outputs/memoryOutputs.js';

/**
 * One hostile message must cost the ingest pipeline memory and dead-letter bytes in proportion to its size, never
 * records × size (a 107 KB message used to exhaust a 512 MB heap). Messages up to Event Hubs' 1 MB limit, of any
 * mix of failing and mapping records, framed any way, with an invalid UTF-8 byte or cut short.
 *
 * Heap is measured without timing or sampling: the child (scripts/bench/ingestHeapChild.ts) runs the message under
 * `--max-old-space-size` = (what the child needs with no message) + HEAP_PER_MESSAGE_BYTE × the message's size, and
 * V8 aborts it if the live heap ever exceeds that. The bound is stated in README "Ingest" and docs/security.md T13;
 * measured peaks (npm run bench, bench/README.md): about 13× for the bench's hostile mix, 7× for a message packed
 * with the smallest records that still become events (54× before events were streamed into their blobs, when each
 * event object of the batch stayed alive, ~2.5 KB of heap each), 8× (37× before) for small escaped records with an
 * invalid byte.
 */
const HEAP_PER_MESSAGE_BYTE = 64;
/** --max-old-space-size takes whole MiB: one MiB of slack on each of the two measurements. */
const SLACK_MB = 2;
const LONG = process.env.FAULTS === 'long';
const childJs = join(import.meta.dirname, '..', '..', 'dist', 'scripts', 'bench', 'ingestHeapChild.js');

const recipe: fc.Arbitrary<HostileRecipe> = fc.record({
  framing: fc.constantFrom(...HOSTILE_FRAMINGS),
  mix: fc.array(fc.constantFrom(...HOSTILE_KINDS), { minLength: 1, maxLength: 6 }),
  bytes: fc.oneof(fc.constant(MESSAGE_LIMIT_BYTES), fc.integer({ min: 64 * 1024, max: MESSAGE_LIMIT_BYTES }), fc.integer({ min: 16, max: 64 * 1024 })),
  badUtf8: fc.boolean(),
  truncate: fc.boolean(),
});

/** Dead-letter bytes of one message: its body once in base64, one character per record, and the listed failures. */
function deadLetterBound(bodyBytes: number, records: number): number {
  return 4 * Math.ceil(bodyBytes / 3) + records + 128 * 1024;
}

let dir: string;
let baselineMb: number;
beforeAll(() => {
  expect(existsSync(childJs), `${childJs} missing: run npm run build`).toBe(true);
  dir = mkdtempSync(join(tmpdir(), 'ingest-heap-prop-'));
  baselineMb = minHeapMb([], childJs, 4, 256).mb;
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a hostile message costs memory in proportion to its size', () => {
  it(`gets through with a heap of ${HEAP_PER_MESSAGE_BYTE}× its size over the pipeline's own, whatever it is made of`, async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(recipe, async (r) => {
        const body = hostileMessage(r);
        const file = join(dir, `m${n++}.bin`);
        writeFileSync(file, body);
        const limitMb = baselineMb + Math.ceil((HEAP_PER_MESSAGE_BYTE * body.byteLength) / 2 ** 20) + SLACK_MB;
        const run = runHeapChild(limitMb, [file], childJs);
        expect(run.ok, `${JSON.stringify(r)} (${body.byteLength} bytes) needed more than ${limitMb} MiB: ${run.stderr.slice(-400)}`).toBe(true);
        const m = run.report!.messages[0]!;
        expect(m.records).toBeLessThanOrEqual(defaultDecodeLimits.maxRecords);
        expect(m.deadLetterBlobBytes).toBeLessThanOrEqual(deadLetterBound(body.byteLength, m.records));
      }),
      { numRuns: LONG ? 40 : 6, endOnFailure: true },
    );
  }, 600_000);

  it('writes each failing message once as a dead letter, its exact bytes plus one character per record', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recipe, { minLength: 1, maxLength: 3 }), async (recipes) => {
        const bodies = recipes.map(hostileMessage);
        const outputs = createMemoryOutputs();
        const res = await handleIngestBatch({ bodies, messages: bodies.map((_, i) => ({ partitionId: '0', sequenceNumber: i })), binding: { tenantId: HOSTILE_TENANT, hub: 'h' }, ingestTime: 1, outputs });
        expect(res.records).toBe(res.mapped + res.deadLetters);
        expect(outputs.deadLetters).toHaveLength(res.deadLetterMessages);
        expect(new Set(outputs.deadLetters.map((d) => d.sequenceNumber)).size).toBe(outputs.deadLetters.length);
        for (const dl of outputs.deadLetters) {
          const body = bodies[dl.sequenceNumber!]!;
          expect(Buffer.from(dl.body).equals(body)).toBe(true);
          expect(dl.outcomes).toHaveLength(dl.records);
          expect(serializeDeadLetter(dl).byteLength).toBeLessThanOrEqual(deadLetterBound(body.byteLength, dl.records));
        }
      }),
      { numRuns: LONG ? 200 : 30 },
    );
  }, 300_000);
});
