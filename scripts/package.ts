import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseFuncIgnore, publishedFiles } from './package/funcIgnore.js';
import { productionLockfile, productionPackageJson } from './package/stage.js';
import { writeZip } from './package/zip.js';
import { repoRoot } from './bench/repoRoot.js';

/**
 * `npm run package`: the deployment package, built the way it runs in Azure.
 *   <out>/app      the app root as it is published: the project files .funcignore lets through (compiled dist/src,
 *                  host.json, …), a production package.json + lockfile, and `npm ci --omit=dev` of them
 *   <out>/app.zip  exactly the files `func azure functionapp publish` uploads when run in <out>/app (same
 *                  .funcignore rules as Core Tools, see package/funcIgnore.ts)
 * Publish with `cd <out>/app && func azure functionapp publish <app>` or
 * `az functionapp deployment source config-zip --src <out>/app.zip` (README "Deploy").
 * Options: --out DIR (default .deploy), --offline (install from the npm cache only).
 */
export interface PackageResult {
  appDir: string;
  zipPath: string;
  files: string[];
  bytes: number;
}

export function buildPackage(opts: { root: string; outDir: string; offline?: boolean; log?: (s: string) => void }): PackageResult {
  const say = opts.log ?? (() => {});
  const { root } = opts;
  const appDir = path.join(opts.outDir, 'app');
  const zipPath = path.join(opts.outDir, 'app.zip');
  const ignoreText = readFileSync(path.join(root, '.funcignore'), 'utf8');
  const ignore = parseFuncIgnore(ignoreText);
  if (!statSync(path.join(root, 'dist/src/functions'), { throwIfNoEntry: false })?.isDirectory()) throw new Error('dist/src/functions is missing: run npm run build first');

  rmSync(appDir, { recursive: true, force: true });
  rmSync(zipPath, { force: true });
  mkdirSync(appDir, { recursive: true });
  // The project's node_modules holds dev dependencies too: production ones are installed fresh below.
  const sources = publishedFiles(root, ignore, { skipTopLevel: ['node_modules', path.relative(root, opts.outDir).split(path.sep)[0] ?? ''] });
  for (const f of sources) {
    if (f === 'package.json' || f === 'package-lock.json') continue;
    mkdirSync(path.dirname(path.join(appDir, f)), { recursive: true });
    copyFileSync(path.join(root, f), path.join(appDir, f));
  }
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(path.join(appDir, 'package.json'), `${JSON.stringify(productionPackageJson(pkg), null, 2)}\n`);
  writeFileSync(path.join(appDir, 'package-lock.json'), `${JSON.stringify(productionLockfile(lock), null, 2)}\n`);
  // Core Tools reads .funcignore and local.settings.json (FUNCTIONS_WORKER_RUNTIME) in the folder it publishes
  // from and never uploads either. Only the runtime is set: no other setting, no secret.
  writeFileSync(path.join(appDir, '.funcignore'), ignoreText);
  writeFileSync(path.join(appDir, 'local.settings.json'), `${JSON.stringify({ IsEncrypted: false, Values: { FUNCTIONS_WORKER_RUNTIME: 'node' } }, null, 2)}\n`);

  say(`installing production dependencies in ${appDir}…`);
  execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', opts.offline ? '--offline' : '--prefer-offline'], { cwd: appDir, stdio: ['ignore', 'ignore', 'inherit'] });

  const files = publishedFiles(appDir, ignore);
  const zip = writeZip(files.map((f) => ({ name: f, data: readFileSync(path.join(appDir, f)), executable: (statSync(path.join(appDir, f)).mode & 0o111) !== 0 })));
  writeFileSync(zipPath, zip);
  say(`${files.length} files, ${(zip.length / 1024 / 1024).toFixed(1)} MiB → ${zipPath}`);
  return { appDir, zipPath, files, bytes: zip.length };
}

if (process.argv[1] && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--out');
  const root = repoRoot(import.meta.dirname);
  const outDir = path.resolve(at >= 0 && args[at + 1] ? args[at + 1]! : path.join(root, '.deploy'));
  try {
    buildPackage({ root, outDir, offline: args.includes('--offline'), log: (s) => process.stderr.write(`${s}\n`) });
  } catch (e) {
    process.stderr.write(`package: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
