/**
 * Child process of the ingest memory measurement (ingestHeap.ts): runs message files through the ingest pipeline
 * with the real blob outputs (NDJSON events compressed as configured by default, serialized dead letters) uploading
 * into a sink that keeps only byte counts, then prints what was produced as one JSON line. The parent runs it under
 * `--max-old-space-size`: it exits 0 exactly when the live heap stayed under that limit.
 *   node --max-old-space-size=N --max-semi-space-size=1 dist/scripts/bench/ingestHeapChild.js [--batch|--baseline] FILE...
 * Default: each file is one message (one batch each). `--batch`: the files are the messages of one batch, attributed
 * offline (the bench corpus comes from many tenants). `--baseline`: the bench baseline instead of the pipeline
 * (JSON.parse of each file, JSON.stringify of each record, the lines kept until the end, like a batch's output).
 * With no file, only the warm-up runs: the reference the parent subtracts.
 */
import { readFileSync } from 'node:fs';
import { handleIngestBatch } from '../../src/lib/ingest/handleIngestBatch.js';
import { createBlobOutputs } from '../../src/lib/ingest/outputs/blobOutputs.js';
import { countingBlobService } from './countingBlobs.js';
import { HOSTILE_TENANT, hostileMessage } from './hostileMessage.js';

export interface HeapChildReport {
  messages: { bytes: number; records: number; events: number; deadLetters: number; deadLetterBlobBytes: number; eventBlobBytes: number }[];
}

async function run(bodies: Buffer[], i: number, tenantId: string | undefined): Promise<HeapChildReport['messages'][number]> {
  const sink = new Map<string, number>();
  const outputs = createBlobOutputs({ serviceClient: countingBlobService(sink), eventsContainer: 'ev', deadLetterContainer: 'dl' });
  const res = await handleIngestBatch({
    bodies,
    messages: bodies.map((_, j) => ({ partitionId: '0', sequenceNumber: i * 1000 + j, offset: String(j), enqueuedTime: '2026-03-02T10:00:00' })),
    binding: { tenantId, hub: 'h', namespace: 'ns' },
    ingestTime: Date.UTC(2026, 2, 2),
    outputs,
  });
  const bytes = bodies.reduce((s, b) => s + b.byteLength, 0);
  return { bytes, records: res.records, events: res.events, deadLetters: res.deadLetters, deadLetterBlobBytes: sink.get('dl') ?? 0, eventBlobBytes: sink.get('ev') ?? 0 };
}

function baseline(bodies: Buffer[]): HeapChildReport['messages'][number] {
  const lines: string[] = [];
  for (const body of bodies) for (const rec of (JSON.parse(body.toString('utf8')) as { records: unknown[] }).records) lines.push(JSON.stringify(rec));
  return { bytes: bodies.reduce((s, b) => s + b.byteLength, 0), records: lines.length, events: lines.length, deadLetters: 0, deadLetterBlobBytes: 0, eventBlobBytes: lines.reduce((s, l) => s + l.length + 1, 0) };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const mode = args[0] === '--batch' || args[0] === '--baseline' ? args.shift() : undefined;
  const warm = hostileMessage({ framing: mode === undefined ? 'ndjson' : 'envelope', mix: mode === undefined ? ['good', 'foreign', 'unknown', 'junk'] : ['good'], bytes: 2048 });
  // Warm-up with one small message (of every outcome for single messages), so lazily loaded code counts in the reference, not in a message.
  if (mode === '--baseline') baseline([warm]);
  else await run([warm], 0, mode === '--batch' ? undefined : HOSTILE_TENANT);
  const report: HeapChildReport = { messages: [] };
  const files = args.map((f) => readFileSync(f));
  if (mode === '--baseline') report.messages.push(baseline(files));
  else if (mode === '--batch') report.messages.push(await run(files, 1, undefined));
  else for (const [i, f] of files.entries()) report.messages.push(await run([f], i + 1, HOSTILE_TENANT));
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
