import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { ColdStartResult } from './coldStartBench.js';
import type { FleetBenchResult } from './fleetBench.js';
import type { IngestBenchResult } from './ingestBench.js';
import type { ReconcileBenchResult } from './reconcileBench.js';
import type { EventDrivenBenchResult } from './eventDrivenBench.js';
import { nodeMajor, shippedNodeMajor } from './shippedRuntime.js';

/** The one JSON object `npm run bench -- --json` prints; a section is null (with a reason) when it did not run. */
export interface BenchResults {
  date: string;
  /** `shippedNode`: the Node major the apps run on in Azure (infra/), undefined when infra/ does not say one. */
  machine: { node: string; shippedNode?: string | undefined; platform: string; cpus: number; cpuModel: string; memoryGiB: number };
  quick: boolean;
  ingest: IngestBenchResult | null;
  reconcile: ReconcileBenchResult | null;
  eventDriven: EventDrivenBenchResult | null;
  coldStart: ColdStartResult | null;
  fleet: FleetBenchResult | null;
  /** Why a section is null (not selected with --only, or could not run). */
  skipped: Record<string, string>;
}

export function machineInfo(root: string): BenchResults['machine'] {
  const c = cpus();
  const model = c[0]?.model.trim() ?? 'unknown';
  return { node: process.version, shippedNode: shippedNodeMajor(root), platform: `${process.platform}-${process.arch}`, cpus: c.length, cpuModel: withCpuFamily(model, readCpuinfo()), memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10 };
}

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

/**
 * A VM may report only "AMD EPYC" whatever the generation, and the ingest ratios move with it (bench/README.md,
 * "Runtime and hardware"): name the family and model from /proc/cpuinfo when there is one.
 */
export function withCpuFamily(model: string, cpuinfo: string): string {
  const family = /^cpu family\s*:\s*(\d+)/m.exec(cpuinfo)?.[1];
  const m = /^model\s*:\s*(\d+)/m.exec(cpuinfo)?.[1];
  return family !== undefined && m !== undefined ? `${model} (family ${family}, model ${m})` : model;
}

/**
 * Which runtime the figures come from: ingest's ratios move with the V8 version (bench/RESULTS.md), so a run on another
 * major than the apps' says so, with the command that measures on the shipped one.
 */
export function runtimeNote(m: BenchResults['machine']): string {
  if (m.shippedNode === undefined) return `node ${m.node}`;
  if (nodeMajor(m.node) === m.shippedNode) return `node ${m.node} (the runtime the apps ship on: Node ${m.shippedNode}, infra/)`;
  return `node ${m.node}, NOT the runtime the apps ship on (Node ${m.shippedNode}, infra/): measure on it with \`npx -y -p node@${m.shippedNode} -- npm run bench\``;
}

const mb = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
const pass = (ok: boolean): string => (ok ? 'met' : 'NOT met');

/** Rows of [metric, value, target] for the human table and RESULTS.md. */
export function tableRows(r: BenchResults): [string, string, string][] {
  const rows: [string, string, string][] = [];
  if (r.ingest) {
    const i = r.ingest;
    const side = (name: string, f: IngestBenchResult['uncompressed'], how = 'as shipped'): void => {
      rows.push([
        `ingest.${name}.ratioToBaseline (${how}: ${f.compression})`,
        `${f.ratioToBaseline} (rounds ${f.ratioSpread.min}–${f.ratioSpread.max})`,
        `≥ ${f.target} (${pass(f.ratioToBaseline >= f.target)})`,
      ]);
      rows.push([`ingest.${name}.cpuRatioToBaseline`, `${f.cpuRatioToBaseline} (rounds ${f.cpuRatioSpread.min}–${f.cpuRatioSpread.max})`, `≥ ${f.target} (${pass(f.cpuRatioToBaseline >= f.target)})`]);
      rows.push([`ingest.${name} records/s, ms/batch wall | CPU, output ÷ input bytes`, `${f.recordsPerSec}, ${f.msPerBatch} | ${f.cpuMsPerBatch}, ${f.outputToInputBytes}`, '']);
      // Older result files have no steady-state figures.
      if (f.steady)
        rows.push([
          `ingest.${name}.steady ratio wall | CPU (batch after batch, no forced GC), ms/batch wall | CPU`,
          `${f.steady.ratioToBaseline} | ${f.steady.cpuRatioToBaseline} (windows ${f.steady.cpuRatioSpread.min}–${f.steady.cpuRatioSpread.max}), ${f.steady.msPerBatch} | ${f.steady.cpuMsPerBatch}`,
          `≥ ${f.target} (${pass(f.steady.cpuRatioToBaseline >= f.target)})`,
        ]);
    };
    side('uncompressed', i.uncompressed);
    side('compressed', i.compressed);
    // Older result files (before the option existed) have no such figures.
    if (i.unmappedOmitted) {
      side('unmappedOmitted.uncompressed', i.unmappedOmitted.uncompressed, 'MDR_INGEST_UNMAPPED=omit');
      side('unmappedOmitted.compressed', i.unmappedOmitted.compressed, 'MDR_INGEST_UNMAPPED=omit');
    }
    rows.push(['ingest.baseline records/s, ms/batch wall | CPU', `${i.baselineRecordsPerSec}, ${i.baselineMsPerBatch} | ${i.baselineCpuMsPerBatch}`, '']);
    if (i.baselineSteady) rows.push(['ingest.baseline steady ms/batch wall | CPU', `${i.baselineSteady.msPerBatch} | ${i.baselineSteady.cpuMsPerBatch}`, '']);
    rows.push([
      'ingest.peakHeap per 1 MB batch (as shipped, default compression)',
      `${mb(i.peakHeapBytes1MB)} (baseline ${mb(i.baselinePeakHeapBytes1MB)}) = ${i.peakHeapRatio}×; Buffers ${mb(i.batchHeap.pipelineBufferBytes)}`,
      `≤ 2× (${pass(i.peakHeapRatio <= 2)})`,
    ]);
    rows.push(['ingest.ratioCeiling (decode+map free, JSON.stringify of the events)', String(i.ratioCeiling), '']);
    rows.push(['ingest.outputToInputBytes (NDJSON before compression)', String(i.outputToInputBytes), '']);
    const s = i.stagesMsPerBatch;
    rows.push(['ingest ms/batch: decode | +map | uncompressed | compressed', `${s.decode} | ${s.decodeAndMap} | ${s.uncompressed} | ${s.compressed}`, '']);
    rows.push(['ingest ms/batch: baseline | its parse | stringify events', `${s.baseline} | ${s.baselineParseOnly} | ${s.stringifyEventsOnly}`, '']);
    rows.push(['ingest batches × bytes × records (rounds)', `${i.batches} × ${i.batchBytes} × ${i.recordsPerBatch} (${i.rounds})`, '']);
    const h = i.hostileMessageHeap;
    rows.push([
      'ingest.hostileMessagePeakHeap (one 1 MiB hostile message)',
      `${mb(h.peakHeapBytes)} = ${h.peakHeapPerMessageByte}× the message (±${h.stepMb} MiB; ${h.records} records, ${h.deadLetters} dead-lettered; dead letter ${mb(h.deadLetterBlobBytes)})`,
      `≤ 64× (${pass(h.peakHeapPerMessageByte <= 64)})`,
    ]);
  } else rows.push(['ingest', 'null', r.skipped.ingest ?? '']);
  if (r.reconcile) {
    const c = r.reconcile;
    for (const [name, run] of [['first', c.firstRun], ['steady', c.steadyState], ['resync', c.resyncRun]] as const) {
      rows.push([`reconcile.${name}.wallSeconds`, String(run.wallSeconds), '']);
      rows.push([`reconcile.${name}.reads/writes per resource`, `${run.readsPerResource} / ${run.writesPerResource}`, name === 'steady' ? `≤ 1.1 / 0 (${pass(run.readsPerResource <= 1.1 && run.writesPerResource === 0)})` : '']);
      rows.push([`reconcile.${name}.readsPerTarget (targets, trusted)`, `${run.readsPerTarget} (${run.targets}, ${run.trusted})`, '']);
      rows.push([`reconcile.${name}.throttled429`, String(run.throttled429), '']);
      rows.push([`reconcile.${name}.boundSeconds`, String(run.boundSeconds), '']);
      rows.push([`reconcile.${name}.ratioToBound`, String(run.ratioToBound), `≤ 1.5 (${pass(run.ratioToBound <= 1.5)})`]);
    }
    rows.push([`reconcile.amortizedReadsPerResource (15-min runs, ${c.resyncHours} h resync; derived)`, String(c.amortizedReadsPerResource), '']);
    rows.push(['reconcile.boundSeconds (first + steady)', String(c.boundSeconds), '']);
    rows.push(['reconcile.ratioToBound (first + steady)', String(c.ratioToBound), `≤ 1.5 (${pass(c.ratioToBound <= 1.5)})`]);
  } else rows.push(['reconcile', 'null', r.skipped.reconcile ?? '']);
  if (r.eventDriven) {
    const e = r.eventDriven;
    rows.push(['eventDriven.events (subscriptions, ingest batches over s)', `${e.events} (${e.subscriptions}, ${e.ingestBatches} over ${e.arrivalSeconds} s)`, '']);
    rows.push(['eventDriven.covered', `${e.covered} / ${e.events}`, `all (${pass(e.covered === e.events)})`]);
    rows.push(['eventDriven.p50Seconds (arrival at ingest → covered)', String(e.p50Seconds), '']);
    rows.push(['eventDriven.p99Seconds', String(e.p99Seconds), `≤ 60 (${pass(e.p99Seconds <= 60)})`]);
    rows.push(['eventDriven.maxSeconds', String(e.maxSeconds), '']);
    rows.push(['eventDriven.workItems (coalescing window s, max queue poll s)', `${e.workItems} (${e.delaySeconds}, ${e.maxPollingSeconds})`, '']);
    rows.push(['eventDriven ARM reads / writes / 429', `${e.armReads} / ${e.armWrites} / ${e.throttled429}`, '']);
    rows.push(['eventDriven: Azure activity-log delivery before arrival', '3–20 min (Microsoft docs)', 'not in the figures above']);
  } else rows.push(['eventDriven', 'null', r.skipped.eventDriven ?? '']);
  if (r.coldStart) {
    const c = r.coldStart;
    rows.push(['coldStart.importMs', String(c.importMs), `< 500 (${pass(c.importMs < 500)})`]);
    rows.push(['coldStart.processMs', String(c.processMs), '']);
    rows.push(['coldStart.modules (app / packages)', `${c.modules} (${c.appModules} / ${c.packages.length})`, '']);
  } else rows.push(['coldStart', 'null', r.skipped.coldStart ?? '']);
  if (r.fleet) {
    const f = r.fleet;
    const hist = Object.entries(f.appsRewrittenHistogram).map(([n, c]) => `${n} app: ${c}`).join(', ');
    rows.push(['fleet tenants × regions → apps × shard', `${f.tenants} × ${f.regions} → ${f.apps} × ${f.maxHubsPerApp} (${f.hubs} hubs)`, '']);
    rows.push(['fleet.appsRewrittenPerOnboarding (histogram)', hist, `every onboarding 1 (${pass(f.maxAppsRewrittenPerOnboarding === 1 && (f.appsRewrittenHistogram['1'] ?? 0) === f.onboardings)})`]);
    rows.push(['fleet.largestSettingBytes (per app)', `${f.largestSettingBytes} of ${f.limitBytes} (${f.largestSettingToLimit})`, `< limit (${pass(f.largestSettingBytes < f.limitBytes)})`]);
    rows.push(['fleet.singleAppSettingBytes (all hubs in one app)', String(f.singleAppSettingBytes), 'for comparison']);
    rows.push(['fleet.onboardingsPerMinute', `${f.onboardingsPerMinute} (median ${f.onboardingMsMedian} ms, max ${f.onboardingMsMax} ms)`, '']);
    rows.push(['fleet.fullFleetRefused / duplicate / missing bindings', `${f.fullFleetRefused} / ${f.duplicateBindings} / ${f.missingBindings}`, 'true / 0 / 0']);
    if (f.registrationLoad.length > 0) rows.push(['fleet.registrationLoad (bindings: ms)', f.registrationLoad.map((x) => `${x.bindings}: ${x.loadMs}`).join(', '), 'indicative']);
  } else rows.push(['fleet', 'null', r.skipped.fleet ?? '']);
  return rows;
}

export function formatTable(r: BenchResults): string {
  const rows: [string, string, string][] = [['metric', 'value', 'target'], ...tableRows(r)];
  const w = [0, 1, 2].map((c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: [string, string, string]) => row.map((cell, c) => cell.padEnd(w[c]!)).join('  ').trimEnd();
  return [`bench ${r.date} on ${r.machine.cpuModel} ×${r.machine.cpus}, ${runtimeNote(r.machine)}${r.quick ? ' (QUICK sizes)' : ''}`, line(rows[0]!), ...rows.slice(1).map(line)].join('\n');
}

/** RESULTS.md keeps what follows this heading (before/after comparisons, profiles) across `--write` runs. */
export const KEPT_NOTES_HEADING = '## Notes kept across runs';

export function writeResultsMarkdown(path: string, r: BenchResults): void {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const m = r.machine;
  const md = [
    '# Bench results',
    '',
    `Latest \`npm run bench -- --write\` run${r.quick ? ' (QUICK sizes: not a real measurement)' : ''}. What each number means: [README.md](README.md).`,
    '',
    `- Date: ${r.date}`,
    `- Machine: ${m.cpuModel}, ${m.cpus} CPUs, ${m.memoryGiB} GiB, ${m.platform}`,
    `- Runtime: ${runtimeNote(m)}`,
    '',
    '| metric | value | target |',
    '|---|---|---|',
    ...tableRows(r).map(([a, b, c]) => `| ${esc(a)} | ${esc(b)} | ${esc(c)} |`),
    '',
    '<details><summary>Full JSON</summary>',
    '',
    '```json',
    compactNumberArrays(JSON.stringify(r, null, 2)),
    '```',
    '',
    '</details>',
    '',
  ].join('\n');
  const previous = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const at = previous.indexOf(KEPT_NOTES_HEADING);
  writeFileSync(path, at >= 0 ? `${md}\n${previous.slice(at)}` : md);
}

/** Arrays of plain numbers (the fleet's per-onboarding counts: 1,000 of them) on one line, so the JSON stays readable. */
export function compactNumberArrays(json: string): string {
  return json.replace(/\[\s*(-?\d[\d.e+-]*(?:,\s*-?\d[\d.e+-]*)*)\s*\]/g, (_m, inner: string) => `[${inner.split(/,\s*/).join(', ')}]`);
}
