import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HeapChildReport } from './ingestHeapChild.js';
import { BENCH_HOSTILE_RECIPE, hostileMessage, type HostileRecipe } from './hostileMessage.js';

/**
 * Peak heap of the ingest pipeline for one message, measured without sampling: the smallest V8 old-space limit
 * (`--max-old-space-size`, whole MiB) under which a child process still gets the message through, minus the same for
 * the child with no message. V8 collects garbage before it gives up on its limit, so the child survives exactly when
 * the live heap never exceeds it; `--max-semi-space-size=1` keeps the young generation from hiding live objects.
 * Buffers live outside the V8 heap: the message itself and upload buffers are not counted (their bytes are reported).
 */
export function childArgs(heapMb: number, files: readonly string[], childJs: string): string[] {
  return [`--max-old-space-size=${heapMb}`, '--max-semi-space-size=1', childJs, ...files];
}

export function runHeapChild(heapMb: number, files: readonly string[], childJs: string): { ok: boolean; report?: HeapChildReport; stderr: string } {
  const r = spawnSync(process.execPath, childArgs(heapMb, files, childJs), { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) return { ok: false, stderr: r.stderr.slice(-2000) };
  return { ok: true, report: JSON.parse(r.stdout) as HeapChildReport, stderr: r.stderr };
}

/** Smallest limit in [lo, hi] MiB under which the child succeeds (hi must succeed), to within `step` MiB. */
export function minHeapMb(files: readonly string[], childJs: string, lo = 4, hi = 1024, step = 1): { mb: number; report: HeapChildReport } {
  const top = runHeapChild(hi, files, childJs);
  if (!top.ok || !top.report) throw new Error(`ingest heap child failed even with ${hi} MiB: ${top.stderr}`);
  let report = top.report;
  while (hi - lo > step) {
    const mid = (lo + hi) >> 1;
    const r = runHeapChild(mid, files, childJs);
    if (r.ok && r.report) {
      hi = mid;
      report = r.report;
    } else lo = mid;
  }
  return { mb: hi, report };
}

export interface HostileHeapResult {
  messageBytes: number;
  records: number;
  deadLetters: number;
  events: number;
  /** Bytes written to the dead-letter store for the message (one document: its bytes once, one character per record). */
  deadLetterBlobBytes: number;
  /** Smallest old-space limit (MiB) that loads the pipeline and runs a warm-up message. */
  baselineHeapMb: number;
  /** Smallest old-space limit (MiB) that also gets the hostile message through. */
  hostileHeapMb: number;
  /** hostileHeapMb − baselineHeapMb, in bytes: what the message costs at its peak (to within `stepMb`). */
  peakHeapBytes: number;
  stepMb: number;
  /** peakHeapBytes / messageBytes. */
  peakHeapPerMessageByte: number;
  recipe: HostileRecipe;
}

/** `step` > 1 trades precision for time (the quick bench). */
export function runHostileHeapBench(childJs: string, recipe: HostileRecipe = BENCH_HOSTILE_RECIPE, step = 1): HostileHeapResult {
  const dir = mkdtempSync(join(tmpdir(), 'ingest-heap-'));
  try {
    const file = join(dir, 'hostile.bin');
    const body = hostileMessage(recipe);
    writeFileSync(file, body);
    const base = minHeapMb([], childJs, 4, 128, step);
    const hostile = minHeapMb([file], childJs, base.mb, 1024, step);
    const m = hostile.report.messages[0]!;
    const peak = (hostile.mb - base.mb) * 2 ** 20;
    return {
      messageBytes: body.byteLength,
      records: m.records,
      deadLetters: m.deadLetters,
      events: m.events,
      deadLetterBlobBytes: m.deadLetterBlobBytes,
      baselineHeapMb: base.mb,
      hostileHeapMb: hostile.mb,
      peakHeapBytes: peak,
      stepMb: step,
      peakHeapPerMessageByte: Math.round((peak / body.byteLength) * 10) / 10,
      recipe,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
