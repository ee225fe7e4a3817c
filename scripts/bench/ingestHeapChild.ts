/**
 * Child process of the ingest memory measurement (ingestHeap.ts): runs each message file through the ingest pipeline
 * with the real blob outputs (NDJSON events, gzip by default; serialized dead letters) uploading into a sink that
 * keeps only byte counts, then prints what was produced as one JSON line. The parent runs it under `--max-old-space-size`: it
 * exits 0 exactly when the pipeline's live heap stayed under that limit.
 *   node --max-old-space-size=N --max-semi-space-size=1 dist/scripts/bench/ingestHeapChild.js FILE...
 */
import { readFileSync } from 'node:fs';
import { handleIngestBatch } from '../../src/lib/ingest/handleIngestBatch.js';
import { createBlobOutputs } from '../../src/lib/ingest/outputs/blobOutputs.js';
import { countingBlobService } from './countingBlobs.js';
import { HOSTILE_TENANT, hostileMessage } from './hostileMessage.js';

export interface HeapChildReport {
  messages: { bytes: number; records: number; events: number; deadLetters: number; deadLetterBlobBytes: number; eventBlobBytes: number }[];
}

async function run(body: Buffer, i: number): Promise<HeapChildReport['messages'][number]> {
  const sink = new Map<string, number>();
  const outputs = createBlobOutputs({ serviceClient: countingBlobService(sink), eventsContainer: 'ev', deadLetterContainer: 'dl' });
  const res = await handleIngestBatch({
    bodies: [body],
    messages: [{ partitionId: '0', sequenceNumber: i, offset: String(i), enqueuedTime: '2026-03-02T10:00:00' }],
    binding: { tenantId: HOSTILE_TENANT, hub: 'h', namespace: 'ns' },
    ingestTime: Date.UTC(2026, 2, 2),
    outputs,
  });
  return { bytes: body.byteLength, records: res.records, events: res.events, deadLetters: res.deadLetters, deadLetterBlobBytes: sink.get('dl') ?? 0, eventBlobBytes: sink.get('ev') ?? 0 };
}

async function main(): Promise<void> {
  // Warm-up with one small message of every outcome, so lazily loaded code counts in the baseline, not in a message.
  await run(hostileMessage({ framing: 'ndjson', mix: ['good', 'foreign', 'unknown', 'junk'], bytes: 2048 }), 0);
  const report: HeapChildReport = { messages: [] };
  const files = process.argv.slice(2);
  for (const [i, f] of files.entries()) report.messages.push(await run(readFileSync(f), i + 1));
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
