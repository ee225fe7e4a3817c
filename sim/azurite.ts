import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';

/**
 * Starts Azurite (blob, queue, table) in memory on OS-assigned ports and stops it with this process,
 * even on a crash: an orphaned Azurite keeps piped stdio open and hangs the caller (mechanics.md §5).
 * Used by tests, the sandbox and the benchmark.
 */
export interface AzuriteHandle {
  connectionString: string;
  blobUrl: string;
  queueUrl: string;
  tableUrl: string;
  stop(): Promise<void>;
}

const ACCOUNT = 'devstoreaccount1';
// Azurite's well-known development key (public, documented; not a secret).
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const c of live) c.kill('SIGTERM');
  };
  process.once('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killAll();
      process.exit(130);
    });
  }
}

/**
 * Default start timeout: 55 s, just under the suite's 60 s hook timeout. With both cores of the 2-core machine busy
 * Azurite took over 20 s (the old default) to listen, failing a whole test file before any of its tests ran.
 */
const START_TIMEOUT_MS = 55_000;

export async function startAzurite(opts: { timeoutMs?: number } = {}): Promise<AzuriteHandle> {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('azurite/dist/src/azurite.js');
  const child = spawn(
    process.execPath,
    [
      entry,
      '--inMemoryPersistence',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--blobHost', '127.0.0.1', '--blobPort', '0',
      '--queueHost', '127.0.0.1', '--queuePort', '0',
      '--tableHost', '127.0.0.1', '--tablePort', '0',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  live.add(child);
  installExitHook();

  const urls: Partial<Record<'Blob' | 'Queue' | 'Table', string>> = {};
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`Azurite did not start within ${opts.timeoutMs ?? START_TIMEOUT_MS} ms. Output: ${output.slice(-500)}`));
    }, opts.timeoutMs ?? START_TIMEOUT_MS);
    const onData = (buf: Buffer) => {
      output += buf.toString();
      for (const m of output.matchAll(/Azurite (Blob|Queue|Table) service is successfully listening at (\S+)/g)) {
        urls[m[1] as 'Blob' | 'Queue' | 'Table'] = m[2]!.replace(/\/+$/, '');
      }
      if (urls.Blob && urls.Queue && urls.Table) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with code ${code} before it was ready. Output: ${output.slice(-500)}`));
    });
  });
  // Stop reading so a chatty Azurite cannot fill the pipe; keep the handle for kill.
  child.stdout!.removeAllListeners('data');
  child.stdout!.resume();
  child.stderr!.resume();
  child.removeAllListeners('exit');

  const blobUrl = `${urls.Blob}/${ACCOUNT}`;
  const queueUrl = `${urls.Queue}/${ACCOUNT}`;
  const tableUrl = `${urls.Table}/${ACCOUNT}`;
  return {
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${KEY};BlobEndpoint=${blobUrl};QueueEndpoint=${queueUrl};TableEndpoint=${tableUrl};`,
    blobUrl,
    queueUrl,
    tableUrl,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          live.delete(child);
          resolve();
          return;
        }
        child.once('exit', () => {
          live.delete(child);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
