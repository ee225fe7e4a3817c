import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { median } from './measure.js';

/**
 * Cold start: what a Consumption/Flex instance pays before the first invocation — a fresh `node` importing every
 * file of the built entry (dist/src/functions/*.js) under the fake Functions core. `importMs` is measured inside the
 * child around the imports (node's own start-up excluded, reported separately as `processMs`); module counts come from
 * a separate run with loader hooks, so the hooks' overhead never pollutes the timing.
 */
export interface ColdStartResult {
  /** Median ms to import the entry files. Target < 500 ms. */
  importMs: number;
  /** Median ms from spawn to exit of the child (node start-up + import). */
  processMs: number;
  runs: number;
  files: string[];
  registrations: number | null;
  /** Modules the entry loads (ESM + CommonJS files, node: builtins excluded). */
  modules: number;
  appModules: number;
  builtins: number;
  packages: string[];
}

const childOutput = z.object({
  importMs: z.number(),
  files: z.array(z.string()),
  registrations: z.number().nullable(),
  modules: z.number().optional(),
  appModules: z.number().optional(),
  builtins: z.number().optional(),
  packages: z.array(z.string()).optional(),
});

/** A minimal valid app-settings set (see test/lib/config/settings.test.ts) with one ingest binding, so ingest registers. */
export function coldStartEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    MDR_PROVIDER_TENANT_ID: '11111111-1111-1111-1111-111111111111',
    MDR_PROVIDER_SUBSCRIPTION_ID: '22222222-2222-2222-2222-222222222222',
    MDR_INGEST_PRINCIPAL_ID: '33333333-3333-3333-3333-333333333333',
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    MDR_INGEST_BINDINGS: JSON.stringify([
      { tenantId: '44444444-4444-4444-4444-444444444444', region: 'westeurope', namespace: 'mdr-ingest-weu-1', hub: 'tenant-44444444', consumerGroup: 'mdr-ingest', connection: 'MDR_EH_WEU1' },
    ]),
    MDR_EH_WEU1__fullyQualifiedNamespace: 'mdr-ingest-weu-1.servicebus.windows.net',
  };
}

function runChild(root: string, childJs: string, dir: string, count: boolean): { out: z.infer<typeof childOutput>; processMs: number } {
  const args = ['--require', join(root, 'test', 'support', 'fakeFunctionsCore.cjs'), childJs, dir, ...(count ? ['--count'] : [])];
  const t0 = process.hrtime.bigint();
  const stdout = execFileSync(process.execPath, args, { cwd: root, env: coldStartEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const processMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const line = stdout.trim().split('\n').pop() ?? '';
  const parsed = childOutput.safeParse(JSON.parse(line));
  if (!parsed.success) throw new Error(`cold-start child printed an unexpected line: ${line.slice(0, 200)}`);
  return { out: parsed.data, processMs };
}

export function runColdStartBench(root: string, runs: number): ColdStartResult {
  const dir = join(root, 'dist', 'src', 'functions');
  const childJs = join(root, 'dist', 'scripts', 'bench', 'coldStartChild.js');
  if (!existsSync(dir) || readdirSync(dir).filter((f) => f.endsWith('.js')).length === 0) throw new Error(`no built function entry in ${dir}: run npm run build`);
  if (!existsSync(childJs)) throw new Error(`${childJs} missing: run npm run build`);
  const timed = Array.from({ length: runs }, () => runChild(root, childJs, dir, false));
  const counted = runChild(root, childJs, dir, true).out;
  const first = timed[0]!.out;
  return {
    importMs: Math.round(median(timed.map((t) => t.out.importMs)) * 10) / 10,
    processMs: Math.round(median(timed.map((t) => t.processMs)) * 10) / 10,
    runs,
    files: first.files,
    registrations: first.registrations,
    modules: counted.modules ?? 0,
    appModules: counted.appModules ?? 0,
    builtins: counted.builtins ?? 0,
    packages: counted.packages ?? [],
  };
}
