import type { QueueClient } from '@azure/storage-queue';
import { isNotFound } from '../azure/classifyError.js';
import { ensureError } from '../errors.js';
import type { Logger } from '../log.js';
import { queueClientFor, type StorageTarget } from '../storage/storageClients.js';

/**
 * Work the Functions host gave up on. After `maxDequeueCount` failed deliveries (host.json) the queue trigger moves a
 * message to `<queue>-poison` (Microsoft docs: Azure Queue storage trigger, "Poison messages"); nothing reads that
 * queue again, so a tenant whose reconcile keeps failing silently drops out of the schedule until an operator looks.
 * The health timer reads each poison queue's approximate length and logs one `queue.poison` line per queue, an error
 * when it holds messages: the alert rule and the workbook read that line. (Azure Storage's QueueMessageCount metric
 * cannot stand in for it: it counts the whole account's queues, with no queue dimension, hourly.)
 */
export interface QueueDepthSource {
  /** Approximate number of messages; 0 for a queue that does not exist (the host creates a poison queue on first use). */
  approximateMessages(queue: string): Promise<number>;
}

export const poisonQueueOf = (queue: string) => `${queue}-poison`;

export interface PoisonQueueReport {
  queue: string;
  poisonQueue: string;
  approximateMessages?: number;
  error?: string;
}

/** Reads each queue's poison queue and logs what it found; a read failure is logged and reported, not thrown. */
export async function checkPoisonQueues(source: QueueDepthSource, queues: readonly string[], log: Logger): Promise<PoisonQueueReport[]> {
  return Promise.all(
    queues.map(async (queue): Promise<PoisonQueueReport> => {
      const poisonQueue = poisonQueueOf(queue);
      try {
        const approximateMessages = await source.approximateMessages(poisonQueue);
        const fields = { queue, poisonQueue, approximateMessages };
        if (approximateMessages > 0) log.error('queue.poison', fields);
        else log.info('queue.poison', fields);
        return fields;
      } catch (e) {
        const error = ensureError(e).message;
        // Unreadable is not empty: say so, so a missing role does not look like a clean queue.
        log.warn('queue.poison_unreadable', { queue, poisonQueue, error });
        return { queue, poisonQueue, error };
      }
    }),
  );
}

/** Queue lengths from the app's own storage account (Get Queue Metadata: `x-ms-approximate-messages-count`). */
export function storageQueueDepth(storage: StorageTarget): QueueDepthSource {
  const clients = new Map<string, Promise<QueueClient>>();
  const client = (name: string) => {
    let c = clients.get(name);
    if (!c) {
      c = queueClientFor(storage, name);
      clients.set(name, c);
    }
    return c;
  };
  return {
    async approximateMessages(queue) {
      try {
        const props = await (await client(queue)).getProperties();
        return props.approximateMessagesCount ?? 0;
      } catch (e) {
        if (isNotFound(e)) return 0;
        throw e;
      }
    },
  };
}
