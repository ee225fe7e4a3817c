import { QueueClient } from '@azure/storage-queue';
import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../../src/lib/config/settings.js';
import { checkPoisonQueues, storageQueueDepth } from '../../../src/lib/health/poisonQueues.js';
import { memoryLogger } from '../../../src/lib/log.js';
import { storageTarget } from '../../../src/lib/storage/storageClients.js';
import { useAzurite } from '../../support/azurite.js';

const az = useAzurite();

describe('checkPoisonQueues on Azurite', () => {
  it('reads each <queue>-poison length with the storage SDK: messages are an error, a missing poison queue is empty, an unreadable one says so', async () => {
    const poisoned = new QueueClient(az.connectionString, 'recon-a-poison');
    await poisoned.create();
    for (const id of ['t1', 't2']) await poisoned.sendMessage(Buffer.from(JSON.stringify({ tenantId: id })).toString('base64'));
    const settings = parseSettings({ MDR_PROVIDER_TENANT_ID: '11111111-1111-1111-1111-111111111111', MDR_PROVIDER_SUBSCRIPTION_ID: '22222222-2222-2222-2222-222222222222', MDR_INGEST_PRINCIPAL_ID: '33333333-3333-3333-3333-333333333333', AzureWebJobsStorage: az.connectionString });
    const log = memoryLogger();

    const report = await checkPoisonQueues(storageQueueDepth(storageTarget(settings)), ['recon-a', 'never-poisoned', 'Not_A_Queue_Name'], log);

    expect(report.slice(0, 2)).toEqual([
      { queue: 'recon-a', poisonQueue: 'recon-a-poison', approximateMessages: 2 },
      { queue: 'never-poisoned', poisonQueue: 'never-poisoned-poison', approximateMessages: 0 },
    ]);
    expect(report[2]).toMatchObject({ queue: 'Not_A_Queue_Name', error: expect.any(String) });
    expect(log.lines.map((l) => [l.level, l.event, l.fields.poisonQueue])).toEqual([
      ['error', 'queue.poison', 'recon-a-poison'],
      ['info', 'queue.poison', 'never-poisoned-poison'],
      ['warn', 'queue.poison_unreadable', 'Not_A_Queue_Name-poison'],
    ]);
  });
});
