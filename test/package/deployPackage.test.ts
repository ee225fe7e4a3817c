import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPackage, type PackageResult } from '../../scripts/package.js';
import { parseFuncIgnore, publishedFiles } from '../../scripts/package/funcIgnore.js';
import { readZip, writeZip } from '../../scripts/package/zip.js';

// The deployment package as README's "Publish" step makes it (`npm run package`), unpacked in empty folders and
// started the two ways Azure can start it:
// - as uploaded (Core Tools' default for a Node app on Flex Consumption: no build in Azure; PublishFunctionAppAction
//   sets RemoteBuild only for --build remote, and ResolveBuildOption turns the default into remote only for Python);
// - after a remote build, which Oryx runs as `npm install`, then `npm run build` and `npm run build:azure` when the
//   package defines them (microsoft/Oryx doc/runtimes/nodejs.md, "Build").
// Then every function file is loaded through @azure/functions' registration path under plain node (the worker's
// `@azure/functions-core` replaced by test/support/fakeFunctionsCore.cjs, as in test/functions/registrations.test.ts).
// Installs come from the npm cache (--offline): `npm ci` has put every package of the lockfile there.
const root = path.resolve(import.meta.dirname, '../..');
const env = {
  MDR_PROVIDER_TENANT_ID: '11111111-1111-1111-1111-111111111111',
  MDR_PROVIDER_SUBSCRIPTION_ID: '22222222-2222-2222-2222-222222222222',
  MDR_INGEST_PRINCIPAL_ID: '33333333-3333-3333-3333-333333333333',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  MDR_INGEST_BINDINGS: JSON.stringify([
    { tenantId: 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', region: 'westeurope', namespace: 'mdr-ingest-westeurope-01', hub: 'mdr-aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', consumerGroup: 'mdr-ingest', connection: 'MDR_EHNS_MDR_INGEST_WESTEUROPE_01' },
  ]),
  MDR_EHNS_MDR_INGEST_WESTEUROPE_01__fullyQualifiedNamespace: 'mdr-ingest-westeurope-01.servicebus.windows.net',
};

/** npm run by `npm test` passes its own config down in npm_* variables; a deployment's npm has none of them. */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^npm_/i.test(k)) out[k] = v;
  return { ...out, ...extra };
}

function registrationsIn(appDir: string): string[] {
  const out = execFileSync(process.execPath, ['--require', path.join(root, 'test/support/fakeFunctionsCore.cjs'), path.join(root, 'test/support/listRegistrations.mjs')], {
    cwd: appDir,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  return (JSON.parse(out) as { registrations: { name: string }[] }).registrations.map((r) => r.name).sort();
}

/** Writes the zip's entries (those `keep` accepts) into `dir`. */
function unpack(zipPath: string, dir: string, keep: (name: string) => boolean = () => true): void {
  mkdirSync(dir, { recursive: true });
  for (const e of readZip(readFileSync(zipPath))) {
    if (!keep(e.name)) continue;
    const target = path.join(dir, e.name);
    if (!target.startsWith(dir + path.sep)) throw new Error(`zip entry escapes the folder: ${e.name}`);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, e.data, { mode: e.executable ? 0o755 : 0o644 });
  }
}

// Each folder here holds ~9,000 files (the production node_modules): on a loaded machine building, unpacking,
// installing and deleting them takes minutes, so hooks and cases get generous ceilings (not timed assertions), and
// the clean-up runs asynchronously (fs.promises.rm) so it neither blocks the worker nor races the hook's timer.
const HEAVY = 900_000;

describe('the deployment package (npm run package)', () => {
  let work: string;
  let pkg: PackageResult;
  let entries: string[];
  let fromBuild: string[] | undefined;
  /** What the app registers from the project's own build: the reference both started packages are held to. */
  const registrationsFromBuild = () => (fromBuild ??= registrationsIn(root));

  // Built once; every case reads or unpacks this one package.
  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'mdr-package-'));
    pkg = buildPackage({ root, outDir: path.join(work, 'out'), offline: true });
    entries = readZip(readFileSync(pkg.zipPath)).map((e) => e.name).sort();
  }, HEAVY);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true, maxRetries: 3 });
  }, HEAVY);

  it('zips exactly the files Core Tools would publish from the package folder, .funcignore applied', () => {
    const ignore = parseFuncIgnore(readFileSync(path.join(pkg.appDir, '.funcignore'), 'utf8'));
    expect(entries).toEqual(publishedFiles(pkg.appDir, ignore));
    expect(entries).toContain('host.json');
    expect(entries).toContain('package.json');
    expect(entries).toContain('package-lock.json');
    expect(entries).toContain('dist/src/functions/tenantsHttp.js');
    expect(entries).toContain('node_modules/@azure/functions/package.json');
  });

  it('ships no sources, tests, tooling, settings file or dev dependency', () => {
    const offending = entries.filter((e) =>
      /^(src|test|sim|scripts|bench|infra|docs|dist\/(sim|scripts|test))\//.test(e) || /^tsconfig.*\.json$/.test(e) || /(^|\/)local\.settings(\.sample)?\.json$/.test(e) || e === '.funcignore',
    );
    expect(offending).toEqual([]);
    for (const dev of ['typescript', 'vitest', 'azurite', 'fast-check']) expect(entries.some((e) => e.startsWith(`node_modules/${dev}/`))).toBe(false);
  });

  it('has a package.json without lifecycle scripts or dev dependencies, and a lockfile that matches it', () => {
    const p = JSON.parse(readFileSync(path.join(pkg.appDir, 'package.json'), 'utf8')) as Record<string, unknown>;
    const source = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(p.scripts).toBeUndefined();
    expect(p.devDependencies).toBeUndefined();
    expect(p.main).toBe(source.main);
    expect(p.dependencies).toEqual(source.dependencies);
    const lock = JSON.parse(readFileSync(path.join(pkg.appDir, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devDependencies?: unknown }> };
    expect(Object.values(lock.packages).some((e) => e.dev === true)).toBe(false);
    expect(lock.packages['']?.devDependencies).toBeUndefined();
  });

  it('starts as uploaded: unpacked in an empty folder, every function registers as it does from the build', () => {
    const dir = path.join(work, 'as-uploaded');
    unpack(pkg.zipPath, dir);
    const names = registrationsIn(dir);
    expect(names).toEqual(registrationsFromBuild());
    expect(names).toContain('ingest-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-westeurope');
    expect(names.length).toBeGreaterThanOrEqual(11);
  }, HEAVY);

  it('starts after a remote build: npm install and npm run build (when defined) in an empty folder, then every function registers', () => {
    const dir = path.join(work, 'remote-build');
    // What Oryx gets is the zip; installing from the lockfile alone proves it complete, so the shipped modules are
    // left out of this folder (the as-uploaded case starts with them).
    unpack(pkg.zipPath, dir, (name) => !name.startsWith('node_modules/'));
    expect(existsSync(path.join(dir, 'node_modules'))).toBe(false);
    const npm = (args: string[]) => execFileSync('npm', [...args, '--offline', '--no-audit', '--no-fund'], { cwd: dir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    npm(['install']);
    npm(['run', 'build', '--if-present']);
    npm(['run', 'build:azure', '--if-present']);
    expect(existsSync(path.join(dir, 'node_modules/@azure/functions/package.json'))).toBe(true);
    expect(existsSync(path.join(dir, 'node_modules/typescript'))).toBe(false);
    expect(registrationsIn(dir)).toEqual(registrationsFromBuild());
  }, HEAVY);
});

describe('.funcignore as Core Tools reads it', () => {
  it('matches a path prefix from the app root, word-bounded, where * needs a character and stays within a folder', () => {
    const ig = parseFuncIgnore(['test', 'src/', 'tsconfig*.json', '**/*.map', '!keep.map', '# comment'].join('\n'));
    expect(ig.accepts('test/a.ts')).toBe(false);
    expect(ig.accepts('node_modules/x/test/a.js')).toBe(true); // not gitignore: anchored at the root
    expect(ig.accepts('src/lib/a.ts')).toBe(false);
    expect(ig.accepts('dist/src/lib/a.js')).toBe(true);
    expect(ig.accepts('tsconfig.build.json')).toBe(false);
    expect(ig.accepts('tsconfig.json')).toBe(true); // `*` is one or more characters
    expect(ig.accepts('dist/a.js.map')).toBe(false);
    expect(ig.accepts('dist/a.js')).toBe(true);
    expect(ig.accepts('keep.map')).toBe(true);
  });

  it('keeps the project file names Core Tools never uploads out of the list', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mdr-funcignore-'));
    try {
      for (const f of ['host.json', 'local.settings.json', '.funcignore', '.git/HEAD', 'a/.gitignore', 'a/b.js']) {
        mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        writeFileSync(path.join(dir, f), 'x');
      }
      expect(publishedFiles(dir, parseFuncIgnore(''))).toEqual(['a/b.js', 'host.json']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('round-trips a zip, deflated and stored entries, executable bits included', () => {
    const files = [{ name: 'a.txt', data: Buffer.from('hello '.repeat(100)) }, { name: 'bin/x', data: Buffer.from([1]), executable: true }, { name: 'empty', data: Buffer.alloc(0) }];
    expect(readZip(writeZip(files)).map((e) => ({ name: e.name, data: e.data.toString('hex'), x: e.executable }))).toEqual(
      files.map((f) => ({ name: f.name, data: f.data.toString('hex'), x: f.executable ?? false })),
    );
  });
});
