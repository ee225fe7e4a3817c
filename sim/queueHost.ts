import type { QueueClient } from '@azure/storage-queue';

/**
 * A stand-in for the Functions host's Storage Queue trigger, over a real queue (Azurite): what the sandbox, the bench
 * and integration tests use to run queue-triggered handlers. It follows the documented behaviour
 * (learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue-trigger, "Polling algorithm",
 * "Concurrency", "Poison messages"): after a message the next poll is 100 ms later; with none, the wait starts at
 * ~200 ms and doubles up to `maxPollingInterval`; up to `batchSize` messages are fetched and run in parallel, and the
 * next batch is fetched when no more than `newBatchThreshold` (default batchSize/2) are still running; a failed
 * message becomes visible again after `visibilityTimeout` and after `maxDequeueCount` deliveries goes to
 * `<queue>-poison`. Message bodies are base64 (the host's default `messageEncoding`); the handler gets the parsed JSON.
 */
export interface QueueHostOptions {
  queue: QueueClient;
  poison?: QueueClient;
  handler: (message: unknown, meta: { dequeueCount: number; id: string }) => Promise<void>;
  batchSize?: number;
  newBatchThreshold?: number;
  maxPollingIntervalMs?: number;
  visibilityTimeoutMs?: number;
  maxDequeueCount?: number;
  onError?: (e: unknown) => void;
}

export interface QueueHost {
  /** Messages handled successfully. */
  readonly done: number;
  readonly failed: number;
  /** Handlers running now. */
  readonly running: number;
  stop(): Promise<void>;
}

/** host.json's `extensions.queues` as the host reads it (TimeSpan strings), with the documented defaults. */
export function queueHostSettings(hostJson: { extensions?: { queues?: Record<string, unknown> } }): Required<Pick<QueueHostOptions, 'batchSize' | 'newBatchThreshold' | 'maxPollingIntervalMs' | 'visibilityTimeoutMs' | 'maxDequeueCount'>> {
  const q = hostJson.extensions?.queues ?? {};
  const span = (v: unknown, dflt: number): number => {
    if (typeof v === 'number') return v;
    const m = typeof v === 'string' ? /^(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(v) : null;
    return m ? ((+m[1]! * 60 + +m[2]!) * 60 + +m[3]!) * 1000 : dflt;
  };
  const batchSize = typeof q.batchSize === 'number' ? q.batchSize : 16;
  return {
    batchSize,
    newBatchThreshold: typeof q.newBatchThreshold === 'number' ? q.newBatchThreshold : Math.floor(batchSize / 2),
    maxPollingIntervalMs: span(q.maxPollingInterval, 60_000),
    visibilityTimeoutMs: span(q.visibilityTimeout, 0),
    maxDequeueCount: typeof q.maxDequeueCount === 'number' ? q.maxDequeueCount : 5,
  };
}

const sleep = (ms: number, signal: { stopped: boolean; wake?: () => void }) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.wake = () => {
      clearTimeout(t);
      resolve();
    };
  });

export function startQueueHost(o: QueueHostOptions): QueueHost {
  const batchSize = o.batchSize ?? 16;
  const threshold = o.newBatchThreshold ?? Math.floor(batchSize / 2);
  const maxPoll = o.maxPollingIntervalMs ?? 60_000;
  const maxDequeue = o.maxDequeueCount ?? 5;
  const state = { stopped: false, wake: undefined as (() => void) | undefined };
  let running = 0;
  let done = 0;
  let failed = 0;
  const inFlight = new Set<Promise<void>>();

  const handle = async (m: { messageId: string; popReceipt: string; dequeueCount: number; messageText: string }) => {
    try {
      const text = Buffer.from(m.messageText, 'base64').toString('utf8');
      await o.handler(JSON.parse(text) as unknown, { dequeueCount: m.dequeueCount, id: m.messageId });
      await o.queue.deleteMessage(m.messageId, m.popReceipt);
      done++;
    } catch (e) {
      failed++;
      o.onError?.(e);
      if (m.dequeueCount >= maxDequeue) {
        await o.poison?.sendMessage(m.messageText).catch(() => undefined);
        await o.queue.deleteMessage(m.messageId, m.popReceipt).catch(() => undefined);
      } else await o.queue.updateMessage(m.messageId, m.popReceipt, undefined, Math.round((o.visibilityTimeoutMs ?? 0) / 1000)).catch(() => undefined);
    }
  };

  const loop = (async () => {
    let wait = 200;
    while (!state.stopped) {
      if (running > threshold) {
        await Promise.race(inFlight);
        continue;
      }
      let got: { messageId: string; popReceipt: string; dequeueCount: number; messageText: string }[] = [];
      try {
        // The host holds a message invisible while it runs (renewed); 10 minutes covers any handler here.
        got = (await o.queue.receiveMessages({ numberOfMessages: batchSize, visibilityTimeout: 600 })).receivedMessageItems;
      } catch (e) {
        o.onError?.(e);
      }
      for (const m of got) {
        running++;
        const p = handle(m).finally(() => {
          running--;
          inFlight.delete(p);
        });
        inFlight.add(p);
      }
      if (got.length > 0) wait = 200;
      await sleep(got.length > 0 ? 100 : wait, state);
      if (got.length === 0) wait = Math.min(maxPoll, wait * 2);
    }
  })();

  return {
    get done() {
      return done;
    },
    get failed() {
      return failed;
    },
    get running() {
      return running;
    },
    async stop() {
      state.stopped = true;
      state.wake?.();
      await loop;
      await Promise.all(inFlight);
    },
  };
}
