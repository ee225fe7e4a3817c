import type { MessagePort } from 'node:worker_threads';

/**
 * ESM loader hooks (registered with `module.register` by coldStartChild when counting): report every module URL the
 * entry loads to the main thread. Kept out of the timed run because off-thread hooks slow loading down.
 */
let port: MessagePort | undefined;

export function initialize(data: { port: MessagePort }): void {
  port = data.port;
  port.on('message', (m: unknown) => {
    if (m === 'flush') port?.postMessage('flushed');
  });
  port.unref();
}

interface LoadResult {
  format?: string | null | undefined;
  source?: unknown;
  shortCircuit?: boolean | undefined;
}

export async function load(url: string, context: unknown, next: (url: string, context: unknown) => Promise<LoadResult>): Promise<LoadResult> {
  port?.postMessage(url);
  return next(url, context);
}
