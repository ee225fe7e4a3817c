import type { QueueClient } from '@azure/storage-queue';
import { queueClientFor, type StorageTarget } from '../storage/storageClients.js';

/**
 * Sends reconcile work items to the reconcile queue with a visibility delay (the coalescing window): Storage Queue
 * `Put Message` with `visibilitytimeout` keeps a message invisible for up to 7 days, so no timer is needed.
 * Bodies are base64 of the JSON item: the Functions queue trigger decodes base64 by default (`messageEncoding`).
 */
export interface WorkQueue {
  send(item: object, visibilityDelaySeconds: number): Promise<void>;
}

/** Storage Queue messages are at most 64 KiB; base64 grows the body by 4/3. */
export const MAX_MESSAGE_JSON_BYTES = 48 * 1024 - 512;

/**
 * `create`: create the queue on first use (default). An ingest app passes false: it may only add messages to the
 * queue the template creates (Storage Queue Data Message Sender; storageClients.ts createsStorageResources).
 */
export function queueWorkQueue(client: () => Promise<QueueClient>, opts: { create?: boolean } = {}): WorkQueue {
  let ready: Promise<QueueClient> | undefined;
  const queue = () =>
    (ready ??= client().then(async (q) => {
      if (opts.create === false) return q;
      try {
        await q.createIfNotExists();
      } catch (e) {
        ready = undefined;
        throw e;
      }
      return q;
    }));
  return {
    async send(item, visibilityDelaySeconds) {
      const json = JSON.stringify(item);
      if (Buffer.byteLength(json, 'utf8') > MAX_MESSAGE_JSON_BYTES) throw new Error(`reconcile work item is ${Buffer.byteLength(json, 'utf8')} bytes, over the ${MAX_MESSAGE_JSON_BYTES} a queue message holds`);
      const q = await queue();
      await q.sendMessage(Buffer.from(json, 'utf8').toString('base64'), { visibilityTimeout: Math.max(0, Math.round(visibilityDelaySeconds)) });
    },
  };
}

/** The reconcile queue of the app's storage account (connection string locally, managed identity in Azure). The SDK loads on first send. */
export function storageWorkQueue(storage: StorageTarget, queueName: string, opts: { create?: boolean } = {}): WorkQueue {
  return queueWorkQueue(() => queueClientFor(storage, queueName), opts);
}
