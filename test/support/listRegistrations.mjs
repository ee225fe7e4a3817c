// Loads the built app the way the Functions worker does (every file matching package.json "main",
// native ESM import) and prints the registered functions' metadata as JSON on stdout.
// Run: node --require ./test/support/fakeFunctionsCore.cjs ./test/support/listRegistrations.mjs
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = process.cwd();
const main = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).main;
const m = /^(.*)\/\*\.js$/.exec(main);
if (!m) throw new Error(`package.json main must be <dir>/*.js, got ${main}`);
const dir = path.join(root, m[1]);
const files = readdirSync(dir).filter((f) => f.endsWith('.js')).sort();
const started = process.hrtime.bigint();
for (const f of files) await import(pathToFileURL(path.join(dir, f)).href);
const loadMs = Number(process.hrtime.bigint() - started) / 1e6;
const regs = globalThis.__fakeFunctionsCore.registrations.map((r) => r.metadata);
process.stdout.write(JSON.stringify({ files, loadMs, registrations: regs }));
