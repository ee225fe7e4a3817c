import { join } from 'node:path';
import { decodeBody } from '../../src/lib/ingest/decode/decodeBody.js';
import { handleIngestBatch, type IngestMessageMeta, type IngestOutputs, type UnmappedPolicy } from '../../src/lib/ingest/handleIngestBatch.js';
import { createBlobOutputs, DEFAULT_EVENT_COMPRESSION, type EventCompression } from '../../src/lib/ingest/outputs/blobOutputs.js';
import { createMemoryOutputs } from '../../src/lib/ingest/outputs/memoryOutputs.js';
import type { OcsfEvent } from '../../src/lib/ingest/types.js';
import { countingBlobService } from './countingBlobs.js';
import { buildBatches, loadTemplates, type BenchBatch } from './ingestCorpus.js';
import { BENCH_HOSTILE_RECIPE } from './hostileMessage.js';
import { runHostileHeapBench, type HostileHeapResult } from './ingestHeap.js';
import { collectGarbage, median } from './measure.js';

/**
 * Ingest cost per record, as shipped: the production path — handleIngestBatch (decode, attribution, OCSF mapping) with
 * the real blob outputs (createBlobOutputs: serialization to NDJSON bytes and compression exactly as in production),
 * uploading into a byte counter instead of the network — against a baseline on the same bytes in the same process:
 * JSON.parse of each body + JSON.stringify of each record. Measured twice: with compression off and with the default
 * compression (DEFAULT_EVENT_COMPRESSION, what an app without MDR_INGEST_COMPRESSION settings runs).
 * Each round times the three sides back to back, rotating which goes first; a round's ratio is baseline time ÷ side
 * time, so slow phases of a shared machine hit both sides of a ratio. Ratios are the median over rounds (with the
 * spread), from wall time and from process CPU time.
 */
export interface IngestBenchOptions {
  fixturesDir: string;
  /** The built heap child (dist/scripts/bench/ingestHeapChild.js) for the heap figures. */
  heapChildJs: string;
  /** Bisection step in MiB for the heap figures (1 for a real run). */
  heapStepMb: number;
  batches: number;
  batchBytes: number;
  rounds: number;
  /** Steady-state windows per side (see ShippedFigures.steady) and their length in ms. */
  steadyWindows: number;
  steadyWindowMs: number;
}

/**
 * A side run the way a Functions host runs it: batch after batch for a window of time, without a forced GC, so the
 * garbage collector works at the pace the side allocates rather than restarting from a collected heap each round (a
 * full GC shrinks the heap limits, and the pipeline then pays for concurrent marking on a helper thread within the
 * round: its CPU time per batch in rounds was 1.6–2× the steady one on Node 22, the baseline's ~1.1×). Windows
 * alternate between the sides, rotating the order; a window's ratio is the baseline's ms per batch in the same pass ÷
 * this side's.
 */
export interface SteadyFigures {
  /** Median over windows of wall ms per batch (baseline ÷ side). */
  ratioToBaseline: number;
  /** The same from process CPU time: the cost figure (CPU-seconds per record, relative). */
  cpuRatioToBaseline: number;
  cpuRatioSpread: { min: number; max: number };
  msPerBatch: number;
  cpuMsPerBatch: number;
  windows: number;
}

/** One side (output setting) of the as-shipped measurement. */
export interface ShippedFigures {
  compression: string;
  recordsPerSec: number;
  /** Median over rounds of baseline wall time ÷ this side's wall time. */
  ratioToBaseline: number;
  ratioSpread: { min: number; max: number };
  /** The same from process CPU time (user + system, all threads: GC helpers and zlib's threadpool included). */
  cpuRatioToBaseline: number;
  cpuRatioSpread: { min: number; max: number };
  msPerBatch: number;
  cpuMsPerBatch: number;
  /** Bytes uploaded to the events container ÷ input bytes. */
  outputToInputBytes: number;
  target: number;
  steady: SteadyFigures;
}

/**
 * Live heap of one ~1 MB batch: the most heap (heapUsed after a full GC, minus the same before the batch) held at any
 * sample point. Pipeline, as shipped with the default compression: sampled as each event is handed to the blob output
 * (the message's decoded records are all alive then), before dead letters and at the end of the batch. Baseline:
 * after each body is parsed and after each record is stringified (its lines are kept to the end, like a batch's
 * output). A full GC before each sample makes it live objects only, young and old generation alike. Buffers (the
 * messages, NDJSON pieces, compressed spans) are outside the V8 heap: `pipelineBufferBytes` is their peak.
 */
export interface BatchHeapResult {
  pipelinePeakHeapBytes: number;
  baselinePeakHeapBytes: number;
  /** pipelinePeakHeapBytes ÷ baselinePeakHeapBytes. */
  ratio: number;
  /** Peak growth of process.memoryUsage().arrayBuffers in the pipeline (Buffers: NDJSON pieces, compressed spans). */
  pipelineBufferBytes: number;
  samples: { pipeline: number; baseline: number };
}

export interface IngestBenchResult {
  /** As shipped, compression off (MDR_INGEST_COMPRESSION=none). Target ratio ≥ 0.6. */
  uncompressed: ShippedFigures;
  /** As shipped, default compression. Target ratio ≥ 0.4. */
  compressed: ShippedFigures;
  /** The same path with MDR_INGEST_UNMAPPED=omit (an option, not the default): `unmapped` left out, `raw_data` whole. */
  unmappedOmitted: { uncompressed: ShippedFigures; compressed: ShippedFigures };
  baselineRecordsPerSec: number;
  baselineMsPerBatch: number;
  baselineCpuMsPerBatch: number;
  /** The baseline's wall and CPU ms per batch in the steady-state windows. */
  baselineSteady: { msPerBatch: number; cpuMsPerBatch: number };
  /** Kept for continuity with earlier runs: the uncompressed ratio and its records/s. */
  recordsPerSec: number;
  ratioToBaseline: number;
  cpuRatioToBaseline: number;
  /** Peak live heap of one ~1 MB batch, as shipped with the default compression, and of the baseline. Target ratio ≤ 2. */
  batchHeap: BatchHeapResult;
  peakHeapBytes1MB: number;
  baselinePeakHeapBytes1MB: number;
  peakHeapRatio: number;
  batchBytes: number;
  batches: number;
  recordsPerBatch: number;
  rounds: number;
  recordsBySource: Record<string, number>;
  /** UTF-8 bytes of the NDJSON event lines ÷ input bytes (before compression). */
  outputToInputBytes: number;
  /**
   * Where the time goes (median wall ms per batch): decode only, decode+map with the events dropped, the two shipped
   * sides, the baseline and its parse half, and JSON.stringify of the pipeline's events alone (already built, warm).
   */
  stagesMsPerBatch: { decode: number; decodeAndMap: number; uncompressed: number; compressed: number; baseline: number; baselineParseOnly: number; stringifyEventsOnly: number };
  /** Baseline ÷ stringifyEventsOnly. */
  stringifyEventsOnlyRatioToBaseline: number;
  /** Baseline ÷ (baselineParseOnly + stringifyEventsOnly): the ratio if decode scanning, mapping, hashing and GC were free. */
  ratioCeiling: number;
  gcExposed: boolean;
  /** Peak heap of the pipeline for one hostile 1 MB message (ingestHeap.ts: minimal V8 heap limit, no sampling). */
  hostileMessageHeap: HostileHeapResult;
}

export const UNCOMPRESSED_TARGET = 0.6;
export const COMPRESSED_TARGET = 0.4;
export const HEAP_RATIO_TARGET = 2;

const INGEST_TIME = Date.UTC(2026, 0, 1);

/** The production blob outputs uploading into a byte counter. */
export function shippedOutputs(compression: EventCompression, sink = new Map<string, number>()): IngestOutputs {
  return createBlobOutputs({ serviceClient: countingBlobService(sink), eventsContainer: 'events', deadLetterContainer: 'dead-letters', compression });
}

function messages(b: BenchBatch, i: number): IngestMessageMeta[] {
  return b.bodies.map((_, j) => ({ partitionId: '0', sequenceNumber: i * 1000 + j, offset: String(j), enqueuedTime: '2026-01-01T00:00:00Z' }));
}

export async function runPipeline(batches: readonly BenchBatch[], outputs: IngestOutputs, unmapped: UnmappedPolicy = 'keep'): Promise<number> {
  let records = 0;
  for (let i = 0; i < batches.length; i++) {
    const b = batches[i]!;
    const res = await handleIngestBatch({ bodies: b.bodies, messages: messages(b, i), binding: { tenantId: undefined, hub: 'bench' }, ingestTime: INGEST_TIME, outputs, unmapped });
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

interface Timing {
  wall: number;
  cpu: number;
}

/** Wall and process CPU ms (all threads, GC helpers and the libuv threadpool included) of one call of `fn`. */
async function measured(fn: () => Promise<unknown> | unknown): Promise<Timing> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

/** One run, after a GC. */
async function timed(fn: () => Promise<unknown> | unknown): Promise<Timing> {
  collectGarbage();
  return measured(fn);
}

/** Runs `fn` back to back for `ms` (at least once), without a forced GC: wall and CPU ms per run. */
async function steadyWindow(fn: () => Promise<unknown> | unknown, ms: number): Promise<Timing> {
  let runs = 0;
  const t = await measured(async () => {
    const t0 = performance.now();
    do {
      await fn();
      runs++;
    } while (performance.now() - t0 < ms);
  });
  return { wall: t.wall / runs, cpu: t.cpu / runs };
}

async function wallMs(fn: () => Promise<unknown> | unknown): Promise<number> {
  return (await timed(fn)).wall;
}

/** Per round (or window): the baseline's time ÷ the side's, wall or CPU. */
function pairedRatios(side: readonly Timing[], base: readonly Timing[], k: keyof Timing): number[] {
  return side.map((x, r) => base[r]![k] / x[k]);
}

function spread(xs: readonly number[]): { min: number; max: number } {
  return { min: round(Math.min(...xs), 3), max: round(Math.max(...xs), 3) };
}

export async function runIngestBench(opts: IngestBenchOptions): Promise<IngestBenchResult> {
  const templates = loadTemplates(opts.fixturesDir);
  const batches = buildBatches(templates, opts.batches, opts.batchBytes);
  const records = batches.reduce((s, b) => s + b.records, 0);
  const inputBytes = batches.reduce((s, b) => s + b.bytes, 0);
  const sink = { bytes: 0 };
  const none: EventCompression = { kind: 'none' };
  const uploaded = { none: new Map<string, number>(), gzip: new Map<string, number>(), noneOmit: new Map<string, number>(), gzipOmit: new Map<string, number>() };

  // Warm-up: every side reaches optimized code before measuring; the upload counts of this pass give the output sizes.
  await runPipeline(batches, shippedOutputs(none, uploaded.none));
  await runPipeline(batches, shippedOutputs(DEFAULT_EVENT_COMPRESSION, uploaded.gzip));
  await runPipeline(batches, shippedOutputs(none, uploaded.noneOmit), 'omit');
  await runPipeline(batches, shippedOutputs(DEFAULT_EVENT_COMPRESSION, uploaded.gzipOmit), 'omit');
  runBaseline(batches, sink);

  const sides = {
    base: () => runBaseline(batches, sink),
    none: () => runPipeline(batches, shippedOutputs(none)),
    gzip: () => runPipeline(batches, shippedOutputs(DEFAULT_EVENT_COMPRESSION)),
    // The MDR_INGEST_UNMAPPED=omit option (not the default): `unmapped` left out, `raw_data` still whole.
    noneOmit: () => runPipeline(batches, shippedOutputs(none), 'omit'),
    gzipOmit: () => runPipeline(batches, shippedOutputs(DEFAULT_EVENT_COMPRESSION), 'omit'),
  };
  const order = ['base', 'none', 'gzip', 'noneOmit', 'gzipOmit'] as const;
  const t: Record<(typeof order)[number], Timing[]> = { base: [], none: [], gzip: [], noneOmit: [], gzipOmit: [] };
  for (let r = 0; r < opts.rounds; r++) {
    for (let k = 0; k < order.length; k++) {
      const side = order[(r + k) % order.length]!;
      t[side].push(await timed(sides[side]));
    }
  }

  // Steady state (see SteadyFigures): one GC before the first window only.
  collectGarbage();
  const w: Record<(typeof order)[number], Timing[]> = { base: [], none: [], gzip: [], noneOmit: [], gzipOmit: [] };
  for (let r = 0; r < opts.steadyWindows; r++) {
    for (let k = 0; k < order.length; k++) {
      const side = order[(r + k) % order.length]!;
      w[side].push(await steadyWindow(sides[side], opts.steadyWindowMs));
    }
  }
  const steady = (side: 'none' | 'gzip' | 'noneOmit' | 'gzipOmit'): SteadyFigures => {
    const cpuRatios = pairedRatios(w[side], w.base, 'cpu');
    return {
      ratioToBaseline: round(median(pairedRatios(w[side], w.base, 'wall')), 3),
      cpuRatioToBaseline: round(median(cpuRatios), 3),
      cpuRatioSpread: spread(cpuRatios),
      msPerBatch: round(median(w[side].map((x) => x.wall)) / batches.length, 3),
      cpuMsPerBatch: round(median(w[side].map((x) => x.cpu)) / batches.length, 3),
      windows: opts.steadyWindows,
    };
  };

  const figures = (side: 'none' | 'gzip' | 'noneOmit' | 'gzipOmit', compression: EventCompression, target: number): ShippedFigures => {
    const wallRatios = pairedRatios(t[side], t.base, 'wall');
    const cpuRatios = pairedRatios(t[side], t.base, 'cpu');
    const ms = median(t[side].map((x) => x.wall));
    return {
      compression: describeCompression(compression),
      recordsPerSec: Math.round(records / (ms / 1000)),
      ratioToBaseline: round(median(wallRatios), 3),
      ratioSpread: spread(wallRatios),
      cpuRatioToBaseline: round(median(cpuRatios), 3),
      cpuRatioSpread: spread(cpuRatios),
      msPerBatch: round(ms / batches.length, 3),
      cpuMsPerBatch: round(median(t[side].map((x) => x.cpu)) / batches.length, 3),
      outputToInputBytes: round((uploaded[side].get('events') ?? 0) / inputBytes, 3),
      target,
      steady: steady(side),
    };
  };
  const uncompressed = figures('none', none, UNCOMPRESSED_TARGET);
  const compressed = figures('gzip', DEFAULT_EVENT_COMPRESSION, COMPRESSED_TARGET);
  const unmappedOmitted = { uncompressed: figures('noneOmit', none, UNCOMPRESSED_TARGET), compressed: figures('gzipOmit', DEFAULT_EVENT_COMPRESSION, COMPRESSED_TARGET) };

  // Stage breakdown (same batches, fewer rounds): decode only, decode + map with events dropped, stringify alone.
  const decodeMs: number[] = [];
  const mapMs: number[] = [];
  const stringifyMs: number[] = [];
  const parseOnlyMs: number[] = [];
  const mem = createMemoryOutputs();
  await runPipeline(batches, mem);
  const events: OcsfEvent[] = mem.batches.flatMap((b) => b.events);
  let lineBytes = 0;
  for (const ev of events) lineBytes += Buffer.byteLength(JSON.stringify(ev), 'utf8') + 1;
  const dropEvents: IngestOutputs = { openEvents: () => ({ write: () => {}, end: () => Promise.resolve(), abort: () => {} }), writeDeadLetters: () => Promise.resolve() };
  const stageRounds = Math.max(1, Math.ceil(opts.rounds / 2));
  for (let r = 0; r < stageRounds; r++) {
    decodeMs.push(await wallMs(() => batches.forEach((b) => b.bodies.forEach((body) => decodeBody(body)))));
    mapMs.push(await wallMs(() => runPipeline(batches, dropEvents)));
    stringifyMs.push(await wallMs(() => events.forEach((ev) => (sink.bytes += JSON.stringify(ev).length))));
    parseOnlyMs.push(await wallMs(() => batches.forEach((b) => b.bodies.forEach((body) => (sink.bytes += (JSON.parse(body.toString('utf8')) as { records: unknown[] }).records.length)))));
  }

  const one = buildBatches(templates, 1, 1024 * 1024)[0]!;
  const batchHeap = await batchPeakHeap(one);
  const hostileMessageHeap = runHostileHeapBench(opts.heapChildJs, BENCH_HOSTILE_RECIPE, opts.heapStepMb);

  const perBatch = (ms: number[]): number => round(median(ms) / batches.length, 3);
  const baseMed = median(t.base.map((x) => x.wall));
  const recordsBySource: Record<string, number> = {};
  for (const b of batches) for (const [k, v] of Object.entries(b.recordsBySource)) recordsBySource[k] = (recordsBySource[k] ?? 0) + v;
  return {
    uncompressed,
    compressed,
    unmappedOmitted,
    baselineRecordsPerSec: Math.round(records / (baseMed / 1000)),
    baselineMsPerBatch: round(baseMed / batches.length, 3),
    baselineCpuMsPerBatch: round(median(t.base.map((x) => x.cpu)) / batches.length, 3),
    baselineSteady: { msPerBatch: round(median(w.base.map((x) => x.wall)) / batches.length, 3), cpuMsPerBatch: round(median(w.base.map((x) => x.cpu)) / batches.length, 3) },
    recordsPerSec: uncompressed.recordsPerSec,
    ratioToBaseline: uncompressed.ratioToBaseline,
    cpuRatioToBaseline: uncompressed.cpuRatioToBaseline,
    batchHeap,
    peakHeapBytes1MB: batchHeap.pipelinePeakHeapBytes,
    baselinePeakHeapBytes1MB: batchHeap.baselinePeakHeapBytes,
    peakHeapRatio: batchHeap.ratio,
    batchBytes: Math.round(inputBytes / batches.length),
    batches: batches.length,
    recordsPerBatch: Math.round(records / batches.length),
    rounds: opts.rounds,
    recordsBySource,
    outputToInputBytes: round(lineBytes / inputBytes, 2),
    stagesMsPerBatch: {
      decode: perBatch(decodeMs),
      decodeAndMap: perBatch(mapMs),
      uncompressed: uncompressed.msPerBatch,
      compressed: compressed.msPerBatch,
      baseline: round(baseMed / batches.length, 3),
      baselineParseOnly: perBatch(parseOnlyMs),
      stringifyEventsOnly: perBatch(stringifyMs),
    },
    stringifyEventsOnlyRatioToBaseline: round(baseMed / median(stringifyMs), 3),
    ratioCeiling: round(baseMed / (median(parseOnlyMs) + median(stringifyMs)), 3),
    gcExposed: typeof globalThis.gc === 'function',
    hostileMessageHeap,
  };
}

/** See BatchHeapResult. Needs node --expose-gc (npm run bench has it); NaN figures without. */
export async function batchPeakHeap(one: BenchBatch): Promise<BatchHeapResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') return { pipelinePeakHeapBytes: Number.NaN, baselinePeakHeapBytes: Number.NaN, ratio: Number.NaN, pipelineBufferBytes: Number.NaN, samples: { pipeline: 0, baseline: 0 } };
  const samples = { pipeline: 0, baseline: 0 };
  let peak = 0;
  let bufferPeak = 0;
  const live = (): number => {
    gc();
    return process.memoryUsage().heapUsed;
  };

  let before = live();
  const buffersBefore = process.memoryUsage().arrayBuffers;
  const sample = (): void => {
    peak = Math.max(peak, live() - before);
    bufferPeak = Math.max(bufferPeak, process.memoryUsage().arrayBuffers - buffersBefore);
    samples.pipeline++;
  };
  const shipped = shippedOutputs(DEFAULT_EVENT_COMPRESSION);
  const outputs: IngestOutputs = {
    openEvents(info) {
      const w = shipped.openEvents(info);
      return {
        write: (ev) => (w.write(ev), sample()),
        end: (batchId) => (sample(), w.end(batchId)),
        abort: () => w.abort(),
      };
    },
    writeDeadLetters: (dls) => (sample(), shipped.writeDeadLetters(dls)),
  };
  await runPipeline([one], outputs);
  const pipelinePeakHeapBytes = peak;

  peak = 0;
  before = live();
  const lines: string[] = [];
  for (const body of one.bodies) {
    const v = JSON.parse(body.toString('utf8')) as { records: unknown[] };
    peak = Math.max(peak, live() - before);
    samples.baseline++;
    for (const rec of v.records) {
      lines.push(JSON.stringify(rec));
      peak = Math.max(peak, live() - before);
      samples.baseline++;
    }
  }
  const baselinePeakHeapBytes = peak;
  return { pipelinePeakHeapBytes, baselinePeakHeapBytes, ratio: round(pipelinePeakHeapBytes / baselinePeakHeapBytes, 2), pipelineBufferBytes: bufferPeak, samples };
}

export function describeCompression(c: EventCompression): string {
  return c.kind === 'none' ? 'none' : `gzip level ${c.level}`;
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function defaultIngestOptions(root: string, quick: boolean): IngestBenchOptions {
  const heapChildJs = join(root, 'dist', 'scripts', 'bench', 'ingestHeapChild.js');
  return quick
    ? { fixturesDir: join(root, 'test', 'fixtures'), heapChildJs, heapStepMb: 8, batches: 1, batchBytes: 64 * 1024, rounds: 2, steadyWindows: 1, steadyWindowMs: 20 }
    : { fixturesDir: join(root, 'test', 'fixtures'), heapChildJs, heapStepMb: 1, batches: 8, batchBytes: 1024 * 1024, rounds: 15, steadyWindows: 5, steadyWindowMs: 1000 };
}
