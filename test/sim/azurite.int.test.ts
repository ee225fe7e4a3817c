import { describe, expect, it } from 'vitest';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite } from '../support/azurite.js';

describe('Azurite harness', () => {
  it('starts tables, blobs and queues on OS-assigned ports and stops cleanly', async () => {
    const az = await startAzurite();
    try {
      const table = TableClient.fromConnectionString(az.connectionString, 'harnesscheck', { allowInsecureConnection: true });
      await table.createTable();
      await table.createEntity({ partitionKey: 'p', rowKey: 'r', v: 1 });
      expect((await table.getEntity<{ v: number }>('p', 'r')).v).toBe(1);

      const container = BlobServiceClient.fromConnectionString(az.connectionString).getContainerClient('harness');
      await container.create();
      await container.getBlockBlobClient('a.txt').upload('hello', 5);
      expect((await container.getBlockBlobClient('a.txt').downloadToBuffer()).toString()).toBe('hello');

      const queue = QueueServiceClient.fromConnectionString(az.connectionString).getQueueClient('harness');
      await queue.create();
      await queue.sendMessage('m1');
      const got = await queue.receiveMessages();
      expect(got.receivedMessageItems[0]?.messageText).toBe('m1');
    } finally {
      await az.stop();
    }
    // After stop, the ports are closed.
    await expect(fetch(az.blobUrl, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  });
});
