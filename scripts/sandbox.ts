/**
 * `npm run sandbox` — the whole connector end to end on a scenario, locally: Azurite + the ARM simulator,
 * onboarding, reconcile until converged, the telemetry corpus through ingest, stream health and alert-state sync.
 *   npm run sandbox [-- --scenario FILE] [--out DIR] [--quiet]
 * Progress goes to stderr, the summary and output paths to stdout. Exit code 1 with `sandbox failed: <reason>`.
 */
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from './bench/repoRoot.js';
import { runSandbox, type SandboxResult } from './sandbox/runSandbox.js';

const USAGE = `usage: npm run sandbox [-- --scenario FILE] [--out DIR] [--quiet]

Runs the connector end to end against a local ARM simulator and Azurite and writes
events.ocsf.ndjson, dead-letters.ndjson, coverage.json and report.md.

  --scenario FILE  simulator scenario (default scenarios/example.json; format: docs/scenario.md)
  --out DIR        output folder (default ./sandbox-out)
  --quiet          no progress lines on stderr
  --help           this text
`;

export interface SandboxArgs {
  scenario: string;
  out: string;
  quiet: boolean;
  help: boolean;
}

export function parseSandboxArgs(argv: readonly string[], root: string): SandboxArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: { scenario: { type: 'string' }, out: { type: 'string' }, quiet: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    strict: true,
    allowPositionals: false,
  });
  return { scenario: values.scenario ?? join(root, 'scenarios', 'example.json'), out: values.out ?? 'sandbox-out', quiet: values.quiet ?? false, help: values.help ?? false };
}

export function formatSummary(r: SandboxResult, cwd = process.cwd()): string {
  const c = r.coverage.totals;
  const show = (p: string) => (relative(cwd, p).startsWith('..') ? p : relative(cwd, p) || '.');
  return [
    `sandbox: tenant ${r.tenant.displayName} (${r.tenant.tenantId}) ${r.tenant.status}, ${r.hubs.length} hub(s) in ${r.hubs.map((h) => h.region).join(', ')}`,
    `  reconcile: ${r.reconcile.converged ? 'converged' : 'NOT converged'} after ${r.reconcile.runs.length} run(s); ${c.covered}/${c.targets} targets streaming`,
    `  ingest: ${r.ingest.records} records -> ${r.ingest.events} OCSF events in ${r.ingest.eventsByClass.length} classes, ${r.ingest.deadLetters} dead-lettered records (${r.ingest.deadLettersByReason.map((d) => `${d.reason} ${d.count}`).join(', ')})`,
    `  health: ${r.health.tenants[0]?.verdict ?? 'not evaluated'}; alert state: ${'result' in r.alert && r.alert.result ? `${r.alert.result.from ?? '?'} -> ${r.alert.confirmedStatus ?? r.alert.result.to}` : 'skipped' in r.alert ? 'skipped' : 'failed'}`,
    `  event-driven: ${r.eventDriven.changes.map((c) => `${c.change} -> ${c.latencyMs === undefined ? 'NOT covered' : `covered in ${(c.latencyMs / 1000).toFixed(1)} s`}`).join('; ')}; tamper finding ${r.eventDriven.finding ? `${r.eventDriven.finding.valid ? 'valid' : 'INVALID'} (${r.eventDriven.finding.caller ?? '?'} from ${r.eventDriven.finding.callerIp ?? '?'})` : 'MISSING'}`,
    `  ARM calls: ${r.arm.total.reads} reads, ${r.arm.total.writes} writes, ${r.arm.total.deletes} deletes, ${r.arm.total.status429} x 429`,
    `outputs in ${show(r.outDir)}:`,
    ...Object.values(r.files).map((f) => `  ${show(f)}`),
    '',
  ].join('\n');
}

async function main(): Promise<number> {
  const root = repoRoot(import.meta.dirname);
  let args: SandboxArgs;
  try {
    args = parseSandboxArgs(process.argv.slice(2), root);
  } catch (e) {
    process.stderr.write(`sandbox failed: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const result = await runSandbox({ scenarioPath: args.scenario, outDir: args.out, root, log: args.quiet ? undefined : (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(formatSummary(result));
  if (result.problems.length > 0) {
    process.stderr.write(`sandbox failed: ${result.problems.join('; ')} (see ${result.files.report})\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const msg = e instanceof Error ? e.message : String(e);
    // One line, but keep every detail (a scenario error lists each bad field).
    process.stderr.write(`sandbox failed: ${msg.trim().replace(/\s*\n\s*/g, '; ').replace(/:;/g, ':')}\n`);
    process.exitCode = 1;
  },
);
