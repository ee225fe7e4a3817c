import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * Smoke test of `npm run bench`: the built bench runs with tiny sizes and prints one JSON object with every field.
 * No timing assertions (benchmarks are not tests). Needs the build (`npm test` builds first).
 */
const root = join(import.meta.dirname, '..', '..');
const benchJs = join(root, 'dist', 'scripts', 'bench.js');

const isNum = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);

describe('npm run bench -- --quick --json', () => {
  it('prints one JSON object with the ingest, reconcile, event-driven, cold-start and fleet fields and exits 0', async () => {
    expect(existsSync(benchJs), `${benchJs} missing: run npm run build`).toBe(true);
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', benchJs, '--quick', '--json'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0]!) as Record<string, any>;
    expect(r.quick).toBe(true);
    expect(typeof r.date).toBe('string');
    expect(r.machine.cpus).toBeGreaterThan(0);

    for (const k of ['recordsPerSec', 'baselineRecordsPerSec', 'ratioToBaseline', 'cpuRatioToBaseline', 'ratioCeiling', 'peakHeapBytes1MB', 'outputToInputBytes', 'stringifyEventsOnlyRatioToBaseline']) expect(isNum(r.ingest[k]), `ingest.${k}`).toBe(true);
    // As shipped, both ways: compression off (target 0.6) and the default gzip (target 0.4), each a median over
    // rounds with its spread, from wall and CPU time; the headline ratio is the uncompressed one.
    for (const [side, compression, target] of [['uncompressed', 'none', 0.6], ['compressed', 'gzip level 1', 0.4]] as const) {
      const f = r.ingest[side];
      expect(f).toMatchObject({ compression, target });
      for (const k of ['recordsPerSec', 'ratioToBaseline', 'cpuRatioToBaseline', 'msPerBatch', 'cpuMsPerBatch', 'outputToInputBytes']) expect(isNum(f[k]), `ingest.${side}.${k}`).toBe(true);
      expect(f.ratioSpread.min).toBeLessThanOrEqual(f.ratioToBaseline);
      expect(f.ratioSpread.max).toBeGreaterThanOrEqual(f.ratioToBaseline);
      // The same side batch after batch without forced GCs (as a host runs it), paired with the baseline's windows.
      for (const k of ['ratioToBaseline', 'cpuRatioToBaseline', 'msPerBatch', 'cpuMsPerBatch']) expect(isNum(f.steady[k]), `ingest.${side}.steady.${k}`).toBe(true);
      expect(f.steady.cpuRatioSpread.min).toBeLessThanOrEqual(f.steady.cpuRatioToBaseline);
      expect(f.steady.windows).toBe(1);
    }
    for (const k of ['msPerBatch', 'cpuMsPerBatch']) expect(isNum(r.ingest.baselineSteady[k]), `ingest.baselineSteady.${k}`).toBe(true);
    expect(r.ingest.ratioToBaseline).toBe(r.ingest.uncompressed.ratioToBaseline);
    expect(r.ingest.compressed.outputToInputBytes).toBeLessThan(r.ingest.uncompressed.outputToInputBytes);
    // Peak live heap of one batch, pipeline and baseline sampled alike (after a full GC at each sample point).
    for (const k of ['pipelinePeakHeapBytes', 'baselinePeakHeapBytes', 'pipelineBufferBytes', 'ratio']) expect(isNum(r.ingest.batchHeap[k]), `batchHeap.${k}`).toBe(true);
    expect(r.ingest.batchHeap.samples.pipeline).toBeGreaterThan(r.ingest.recordsPerBatch);
    expect(r.ingest.peakHeapBytes1MB).toBe(r.ingest.batchHeap.pipelinePeakHeapBytes);
    // The hostile-message heap figure: one 1 MB message, measured by the smallest heap limit it gets through.
    expect(r.ingest.hostileMessageHeap.messageBytes).toBeGreaterThan(1_000_000);
    for (const k of ['baselineHeapMb', 'hostileHeapMb', 'peakHeapBytes', 'peakHeapPerMessageByte', 'deadLetterBlobBytes']) expect(isNum(r.ingest.hostileMessageHeap[k]), `hostileMessageHeap.${k}`).toBe(true);
    expect(r.ingest.hostileMessageHeap.hostileHeapMb).toBeGreaterThanOrEqual(r.ingest.hostileMessageHeap.baselineHeapMb);
    expect(Object.keys(r.ingest.recordsBySource).sort()).toEqual(['activity-log', 'defender-alert', 'entra-audit', 'key-vault', 'sign-in', 'storage']);

    // Reconcile is either measured or explicitly null with a reason, never faked.
    if (r.reconcile === null) expect(r.skipped.reconcile).toMatch(/\w/);
    else {
      for (const run of [r.reconcile.firstRun, r.reconcile.steadyState, r.reconcile.resyncRun])
        for (const k of ['wallSeconds', 'readsPerResource', 'writesPerResource', 'throttled429', 'boundSeconds', 'ratioToBound', 'trusted']) expect(isNum(run[k]), k).toBe(true);
      // the steady run takes the diagnostic settings from the change feed; the resync run reads them all again
      expect(r.reconcile.steadyState.trusted).toBeGreaterThan(0);
      expect(r.reconcile.resyncRun.trusted).toBe(0);
      expect(r.reconcile.steadyState.reads).toBeLessThan(r.reconcile.resyncRun.reads);
      expect(r.reconcile.amortizedReadsPerResource).toBeGreaterThanOrEqual(r.reconcile.steadyState.readsPerResource);
      expect(r.reconcile.boundSeconds).toBeCloseTo(r.reconcile.firstRun.boundSeconds + r.reconcile.steadyState.boundSeconds, 1);
      expect(r.reconcile.ratioToBound).toBeCloseTo((r.reconcile.firstRun.wallSeconds + r.reconcile.steadyState.wallSeconds) / r.reconcile.boundSeconds, 2);
    }

    // Event-driven coverage: measured or null with a reason; when measured, every creation event was covered.
    if (r.eventDriven === null) expect(r.skipped.eventDriven).toMatch(/\w/);
    else {
      for (const k of ['p50Seconds', 'p99Seconds', 'maxSeconds', 'workItems', 'armWrites']) expect(isNum(r.eventDriven[k]), `eventDriven.${k}`).toBe(true);
      expect(r.eventDriven.covered).toBe(r.eventDriven.events);
      expect(r.eventDriven.p50Seconds).toBeLessThanOrEqual(r.eventDriven.p99Seconds);
      expect(r.eventDriven.workItems).toBeLessThan(r.eventDriven.events);
      expect(r.eventDriven.azureActivityLogDelivery).toContain('3 to 20 minutes');
    }
    // Fleet: every onboarding rewrote exactly one ingest app's settings, each far below one environment string's limit.
    if (r.fleet === null) expect(r.skipped.fleet).toMatch(/\w/);
    else {
      expect(r.fleet.appsRewrittenHistogram).toEqual({ '1': r.fleet.onboardings });
      expect(r.fleet.appsRewrittenPerOnboarding).toEqual(Array(r.fleet.onboardings).fill(1));
      expect(r.fleet.perApp).toHaveLength(r.fleet.apps);
      for (const a of r.fleet.perApp) expect(a.largestSettingBytes).toBeLessThan(r.fleet.limitBytes);
      expect(r.fleet.limitBytes).toBe(131072);
      expect(r.fleet.fullFleetRefused).toBe(true);
      expect([r.fleet.duplicateBindings, r.fleet.missingBindings]).toEqual([0, 0]);
      expect(r.fleet.registrationLoad.map((x: { registered: number }) => x.registered)).toEqual(r.fleet.registrationLoad.map((x: { bindings: number }) => x.bindings));
      expect(isNum(r.fleet.onboardingsPerMinute)).toBe(true);
    }

    expect(isNum(r.coldStart.importMs)).toBe(true);
    expect(r.coldStart.modules).toBeGreaterThan(0);
    expect(r.coldStart.files.length).toBeGreaterThan(0);
  }, 180_000);

  it('rejects an unknown --only section with a message naming the choices', async () => {
    const run = promisify(execFile)(process.execPath, [benchJs, '--only', 'nope'], { cwd: root });
    await expect(run).rejects.toMatchObject({ stderr: expect.stringContaining('ingest, reconcile, events, coldstart, fleet') });
  });
});
