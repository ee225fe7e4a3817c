/**
 * `npm run bench` — ingest throughput vs a JSON parse+stringify baseline, reconcile at scale against the ARM
 * simulator, event-driven coverage latency, cold start of the built function entry, and the ingest fleet (1,000
 * tenants × 2 regions onboarded into a pool of ingest apps), in one process run (bench/README.md explains every number).
 *   npm run bench [-- --json] [--write] [--quick] [--only ingest|reconcile|events|coldstart|fleet]
 * --json prints one JSON object on stdout; --write also writes bench/RESULTS.md; --quick uses tiny sizes (smoke test).
 * Exit code 0 unless a section crashed: missing targets are reported, not failed (benchmarks are not tests).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runColdStartBench } from './bench/coldStartBench.js';
import { runFleetBench } from './bench/fleetBench.js';
import { defaultIngestOptions, runIngestBench } from './bench/ingestBench.js';
import { runReconcileBench } from './bench/reconcileBench.js';
import { runEventDrivenBench } from './bench/eventDrivenBench.js';
import { repoRoot } from './bench/repoRoot.js';
import { formatTable, machineInfo, writeResultsMarkdown, type BenchResults } from './bench/results.js';

const SECTIONS = ['ingest', 'reconcile', 'events', 'coldstart', 'fleet'] as const;
type Section = (typeof SECTIONS)[number];

export interface BenchOptions {
  json: boolean;
  write: boolean;
  quick: boolean;
  only: Section | undefined;
  root: string;
}

export function parseBenchArgs(argv: readonly string[], root: string): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: { json: { type: 'boolean', default: false }, write: { type: 'boolean', default: false }, quick: { type: 'boolean', default: false }, only: { type: 'string' } },
    strict: true,
  });
  const only = values.only;
  if (only !== undefined && !(SECTIONS as readonly string[]).includes(only)) throw new Error(`--only expects one of ${SECTIONS.join(', ')}, got ${JSON.stringify(only)}`);
  return { json: values.json ?? false, write: values.write ?? false, quick: values.quick ?? false, only: only as Section | undefined, root };
}

export async function runBench(o: BenchOptions, progress: (line: string) => void = () => {}): Promise<BenchResults> {
  const want = (s: Section) => o.only === undefined || o.only === s;
  const r: BenchResults = { date: new Date().toISOString(), machine: machineInfo(o.root), quick: o.quick, ingest: null, reconcile: null, eventDriven: null, coldStart: null, fleet: null, skipped: {} };
  if (typeof (globalThis as { gc?: unknown }).gc !== 'function') progress('note: run node with --expose-gc (npm run bench does) for GC between rounds');
  if (want('ingest')) {
    progress('ingest…');
    r.ingest = await runIngestBench(defaultIngestOptions(o.root, o.quick));
  } else r.skipped.ingest = `not selected (--only ${o.only})`;
  if (want('coldstart')) {
    progress('cold start…');
    r.coldStart = runColdStartBench(o.root, o.quick ? 1 : 5);
  } else r.skipped.coldStart = `not selected (--only ${o.only})`;
  if (want('reconcile')) {
    progress('reconcile…');
    const rec = await runReconcileBench(o.root, o.quick);
    if (rec.ok) r.reconcile = rec.result;
    else r.skipped.reconcile = rec.reason;
  } else r.skipped.reconcile = `not selected (--only ${o.only})`;
  if (want('events')) {
    progress('event-driven coverage…');
    const ev = await runEventDrivenBench(o.root, o.quick);
    if (ev.ok) r.eventDriven = ev.result;
    else r.skipped.eventDriven = ev.reason;
  } else r.skipped.eventDriven = `not selected (--only ${o.only})`;
  if (want('fleet')) {
    progress('fleet…');
    // Full: 1,000 tenants × 2 regions into 20 apps of 100 hubs (the default shard), exactly full.
    const sizes = o.quick ? { tenants: 6, apps: 3, maxHubsPerApp: 4 } : { tenants: 1000, apps: 20, maxHubsPerApp: 100 };
    try {
      r.fleet = await runFleetBench({ ...sizes, regions: ['westeurope', 'northeurope'], progress, root: o.root, registrationSizes: o.quick ? [1, 4] : [1, 100, 360] });
    } catch (e) {
      r.skipped.fleet = `fleet bench failed: ${(e as Error).message.slice(0, 300)}`;
    }
  } else r.skipped.fleet = `not selected (--only ${o.only})`;
  return r;
}

async function main(): Promise<void> {
  const root = repoRoot();
  const o = parseBenchArgs(process.argv.slice(2), root);
  const r = await runBench(o, (line) => process.stderr.write(`${line}\n`));
  if (o.write) writeResultsMarkdown(join(root, 'bench', 'RESULTS.md'), r);
  process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : `${formatTable(r)}\n`);
}

if (process.argv[1] && import.meta.filename === (await import('node:fs')).realpathSync(process.argv[1])) {
  main().catch((e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
