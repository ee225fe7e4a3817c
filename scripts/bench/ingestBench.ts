import { join } from 'node:path';
import { decodeBody } from '../../src/lib/ingest/decode/decodeBody.js';
import { handleIngestBatch, type IngestMessageMeta, type IngestOutputs } from '../../src/lib/ingest/handleIngestBatch.js';
import type { OcsfEvent } from '../../src/lib/ingest/types.js';
import { buildBatches, loadTemplates, type BenchBatch } from './ingestCorpus.js';
import { BENCH_HOSTILE_RECIPE } from './hostileMessage.js';
import { runHostileHeapBench, type HostileHeapResult } from './ingestHeap.js';
import { collectGarbage, median } from './measure.js';

/**
 * Ingest throughput: records/s through decode + OCSF mapping + serialization (JSON.stringify of every event, what
 * the blob/Event Hub outputs do before gzip/upload), against a baseline on the same bytes in the same process:
 * JSON.parse of each body + JSON.stringify of each record. Rounds alternate which side runs first; rates are medians.
 */
export interface IngestBenchOptions {
  fixturesDir: string;
  /** The built heap child (dist/scripts/bench/ingestHeapChild.js) for the hostile-message heap figure. */
  heapChildJs: string;
  /** Bisection step in MiB for that figure (1 for a real run). */
  heapStepMb: number;
  batches: number;
  batchBytes: number;
  rounds: number;
}

export interface IngestBenchResult {
  recordsPerSec: number;
  baselineRecordsPerSec: number;
  ratioToBaseline: number;
  /**
   * The same ratio from process CPU time instead of wall time (median CPU ms per round). Steadier than the wall ratio
   * on a shared machine; includes GC helper threads, so allocation-heavy code is not flattered.
   */
  cpuRatioToBaseline: number;
  /** heapUsed growth (after a forced GC) while one ~1 MB batch is in flight, in bytes. */
  peakHeapBytes1MB: number;
  baselinePeakHeapBytes1MB: number;
  batchBytes: number;
  batches: number;
  recordsPerBatch: number;
  rounds: number;
  recordsBySource: Record<string, number>;
  /** Output bytes (serialized events) per input byte. */
  outputToInputBytes: number;
  /** Where the time goes (median ms per batch): decode only, decode+map (no serialization), full pipeline. */
  stagesMsPerBatch: { decode: number; decodeAndMap: number; full: number; baseline: number; baselineParseOnly: number; stringifyEventsOnly: number };
  /** Baseline time / time to stringify the pipeline's output events alone (same events, warm). */
  stringifyEventsOnlyRatioToBaseline: number;
  /**
   * The best ratio any pipeline with this output could reach: baseline / (baseline's own parse + stringify of the
   * output events), i.e. decode, mapping, hashing and GC all free.
   */
  ratioCeiling: number;
  gcExposed: boolean;
  /** Peak heap of the pipeline for one hostile 1 MB message (ingestHeap.ts: minimal V8 heap limit, no sampling). */
  hostileMessageHeap: HostileHeapResult;
}

const INGEST_TIME = Date.UTC(2026, 0, 1);

function serializingOutputs(sink: { bytes: number; lines?: string[] }): IngestOutputs {
  return {
    writeEvents(batch) {
      for (const ev of batch.events) {
        const line = JSON.stringify(ev);
        sink.bytes += line.length;
        sink.lines?.push(line);
      }
      return Promise.resolve();
    },
    writeDeadLetters(dls) {
      for (const dl of dls) sink.bytes += JSON.stringify(dl).length;
      return Promise.resolve();
    },
  };
}

const discardOutputs: IngestOutputs = { writeEvents: () => Promise.resolve(), writeDeadLetters: () => Promise.resolve() };

function messages(b: BenchBatch, i: number): IngestMessageMeta[] {
  return b.bodies.map((_, j) => ({ partitionId: '0', sequenceNumber: i * 1000 + j, offset: String(j), enqueuedTime: '2026-01-01T00:00:00Z' }));
}

export async function runPipeline(batches: readonly BenchBatch[], outputs: IngestOutputs): Promise<number> {
  let records = 0;
  for (let i = 0; i < batches.length; i++) {
    const b = batches[i]!;
    const res = await handleIngestBatch({ bodies: b.bodies, messages: messages(b, i), binding: { tenantId: undefined, hub: 'bench' }, ingestTime: INGEST_TIME, outputs });
    if (res.deadLetters > 0) throw new Error(`bench batch ${i} dead-lettered ${res.deadLetters} records (${JSON.stringify(res.byReason)}): the corpus must be mappable`);
    records += res.records;
  }
  return records;
}

export function runBaseline(batches: readonly BenchBatch[], sink: { bytes: number }): number {
  let records = 0;
  for (const b of batches) {
    for (const body of b.bodies) {
      const v = JSON.parse(body.toString('utf8')) as { records: unknown[] };
      for (const rec of v.records) {
        sink.bytes += JSON.stringify(rec).length;
        records++;
      }
    }
  }
  return records;
}

/** Wall ms of one run; its process CPU ms (all threads, GC helpers included) is pushed to `cpu` when given. */
async function timed(fn: () => Promise<unknown> | unknown, cpu?: number[]): Promise<number> {
  collectGarbage();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  cpu?.push((c.user + c.system) / 1000);
  return wall;
}

async function peakHeap(fn: (sample: () => void) => Promise<unknown> | unknown): Promise<number> {
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  let peak = before;
  const sample = (): void => {
    const h = process.memoryUsage().heapUsed;
    if (h > peak) peak = h;
  };
  await fn(sample);
  sample();
  return Math.max(0, peak - before);
}

export async function runIngestBench(opts: IngestBenchOptions): Promise<IngestBenchResult> {
  const templates = loadTemplates(opts.fixturesDir);
  const batches = buildBatches(templates, opts.batches, opts.batchBytes);
  const records = batches.reduce((s, b) => s + b.records, 0);
  const inputBytes = batches.reduce((s, b) => s + b.bytes, 0);
  const sink = { bytes: 0 };

  // Warm-up: let both sides reach optimized code before measuring.
  await runPipeline(batches, serializingOutputs(sink));
  runBaseline(batches, sink);

  const pipeMs: number[] = [];
  const baseMs: number[] = [];
  const pipeCpu: number[] = [];
  const baseCpu: number[] = [];
  for (let r = 0; r < opts.rounds; r++) {
    const pipe = () => runPipeline(batches, serializingOutputs(sink));
    const base = () => runBaseline(batches, sink);
    if (r % 2 === 0) {
      pipeMs.push(await timed(pipe, pipeCpu));
      baseMs.push(await timed(base, baseCpu));
    } else {
      baseMs.push(await timed(base, baseCpu));
      pipeMs.push(await timed(pipe, pipeCpu));
    }
  }

  // Stage breakdown (same batches, fewer rounds): decode only, decode + map without serialization.
  const decodeMs: number[] = [];
  const mapMs: number[] = [];
  const stringifyMs: number[] = [];
  const parseOnlyMs: number[] = [];
  const events: OcsfEvent[] = [];
  const outBytes = { bytes: 0 };
  await runPipeline(batches, { writeEvents: (b) => (events.push(...b.events), Promise.resolve()), writeDeadLetters: () => Promise.resolve() });
  for (const ev of events) outBytes.bytes += Buffer.byteLength(JSON.stringify(ev), 'utf8');
  const stageRounds = Math.max(1, Math.ceil(opts.rounds / 2));
  for (let r = 0; r < stageRounds; r++) {
    decodeMs.push(await timed(() => batches.forEach((b) => b.bodies.forEach((body) => decodeBody(body)))));
    mapMs.push(await timed(() => runPipeline(batches, discardOutputs)));
    stringifyMs.push(await timed(() => events.forEach((ev) => (sink.bytes += JSON.stringify(ev).length))));
    parseOnlyMs.push(await timed(() => batches.forEach((b) => b.bodies.forEach((body) => (sink.bytes += (JSON.parse(body.toString('utf8')) as { records: unknown[] }).records.length)))));
  }

  const one = buildBatches(templates, 1, 1024 * 1024)[0]!;
  const pipePeak = await peakHeap(async (sample) => {
    const keep = { bytes: 0, lines: [] as string[] };
    const outputs = serializingOutputs(keep);
    await runPipeline([one], {
      writeDeadLetters: outputs.writeDeadLetters,
      async writeEvents(b) {
        sample();
        await outputs.writeEvents(b);
        sample();
      },
    });
  });
  const basePeak = await peakHeap((sample) => {
    const lines: string[] = [];
    for (const body of one.bodies) {
      const v = JSON.parse(body.toString('utf8')) as { records: unknown[] };
      sample();
      for (const rec of v.records) lines.push(JSON.stringify(rec));
      sample();
    }
  });

  const hostileMessageHeap = runHostileHeapBench(opts.heapChildJs, BENCH_HOSTILE_RECIPE, opts.heapStepMb);

  const perBatch = (ms: number[]): number => round(median(ms) / batches.length, 3);
  const pipeMed = median(pipeMs);
  const baseMed = median(baseMs);
  const recordsPerSec = records / (pipeMed / 1000);
  const baselineRecordsPerSec = records / (baseMed / 1000);
  const recordsBySource: Record<string, number> = {};
  for (const b of batches) for (const [k, v] of Object.entries(b.recordsBySource)) recordsBySource[k] = (recordsBySource[k] ?? 0) + v;
  return {
    recordsPerSec: Math.round(recordsPerSec),
    baselineRecordsPerSec: Math.round(baselineRecordsPerSec),
    ratioToBaseline: round(recordsPerSec / baselineRecordsPerSec, 3),
    cpuRatioToBaseline: round(median(baseCpu) / median(pipeCpu), 3),
    peakHeapBytes1MB: pipePeak,
    baselinePeakHeapBytes1MB: basePeak,
    batchBytes: Math.round(inputBytes / batches.length),
    batches: batches.length,
    recordsPerBatch: Math.round(records / batches.length),
    rounds: opts.rounds,
    recordsBySource,
    outputToInputBytes: round(outBytes.bytes / inputBytes, 2),
    stagesMsPerBatch: { decode: perBatch(decodeMs), decodeAndMap: perBatch(mapMs), full: perBatch(pipeMs), baseline: perBatch(baseMs), baselineParseOnly: perBatch(parseOnlyMs), stringifyEventsOnly: perBatch(stringifyMs) },
    stringifyEventsOnlyRatioToBaseline: round(baseMed / median(stringifyMs), 3),
    ratioCeiling: round(baseMed / (median(parseOnlyMs) + median(stringifyMs)), 3),
    gcExposed: typeof globalThis.gc === 'function',
    hostileMessageHeap,
  };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function defaultIngestOptions(root: string, quick: boolean): IngestBenchOptions {
  const heapChildJs = join(root, 'dist', 'scripts', 'bench', 'ingestHeapChild.js');
  return quick
    ? { fixturesDir: join(root, 'test', 'fixtures'), heapChildJs, heapStepMb: 8, batches: 1, batchBytes: 64 * 1024, rounds: 2 }
    : { fixturesDir: join(root, 'test', 'fixtures'), heapChildJs, heapStepMb: 1, batches: 8, batchBytes: 1024 * 1024, rounds: 9 };
}
