import { readdirSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';

/**
 * Child process of the cold-start bench. Imports every file of the built function entry (dist/src/functions/*.js, the
 * package.json `main` glob the worker loads) the way the Functions worker does, and prints one JSON line:
 * `{ importMs, files, registrations, modules? }`. Started by coldStartBench with
 * `--require test/support/fakeFunctionsCore.cjs` (stand-in for the worker's '@azure/functions-core').
 * argv: <functionsDir> [--count]. With --count, module URLs are collected with loader hooks (a separate, untimed run).
 */
const dir = process.argv[2];
const count = process.argv.includes('--count');
if (!dir) throw new Error('usage: coldStartChild <functionsDir> [--count]');

const seen = new Set<string>();
let flushed: Promise<void> | undefined;
let flush: (() => Promise<void>) | undefined;
if (count) {
  const { port1, port2 } = new MessageChannel();
  port1.on('message', (m: unknown) => {
    if (typeof m === 'string' && m !== 'flushed') seen.add(m);
  });
  register(pathToFileURL(join(import.meta.dirname, 'coldStartHooks.js')).href, { data: { port: port2 }, transferList: [port2] });
  flush = () =>
    (flushed ??= new Promise<void>((resolve) => {
      port1.on('message', (m: unknown) => {
        if (m === 'flushed') resolve();
      });
      port1.postMessage('flush');
    }));
}

const files = readdirSync(dir).filter((f) => f.endsWith('.js')).sort();
const started = process.hrtime.bigint();
for (const f of files) await import(pathToFileURL(join(dir, f)).href);
const importMs = Number(process.hrtime.bigint() - started) / 1e6;

const fake = (globalThis as { __fakeFunctionsCore?: { registrations: unknown[] } }).__fakeFunctionsCore;
const out: Record<string, unknown> = { importMs, files, registrations: fake?.registrations.length ?? null };
if (flush) {
  await flush();
  const require = createRequire(import.meta.url);
  for (const k of Object.keys(require.cache)) seen.add(pathToFileURL(k).href);
  const urls = [...seen].filter((u) => u.startsWith('file:'));
  const packages = new Set<string>();
  for (const u of urls) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
    packages.add(m ? m[1]! : '(app)');
  }
  out.modules = urls.length;
  out.builtins = [...seen].filter((u) => u.startsWith('node:')).length;
  out.packages = [...packages].sort();
  out.appModules = urls.filter((u) => !u.includes('/node_modules/')).length;
}
process.stdout.write(`${JSON.stringify(out)}\n`);
// The hooks' message port would otherwise keep the process alive.
process.exit(0);
