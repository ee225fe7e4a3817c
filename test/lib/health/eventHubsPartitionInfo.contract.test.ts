import { describe, expect, it } from 'vitest';
import { createEventHubsPartitionInfo } from '../../../src/lib/health/eventHubsPartitionInfo.js';
import { lastEnqueuedOf } from '../../../src/lib/health/partitionInfo.js';

/**
 * Contract test of the production adapter against a real Event Hubs namespace. Needs
 * MDR_TEST_EVENTHUB_CONNECTION_STRING (namespace or hub connection string with Listen/Send) and the hub name in
 * its EntityPath or in MDR_TEST_EVENTHUB_NAME. The hub should be disposable: the test sends one event.
 */
const cs = process.env.MDR_TEST_EVENTHUB_CONNECTION_STRING;
const hubName = process.env.MDR_TEST_EVENTHUB_NAME ?? (cs ? /EntityPath=([^;]+)/i.exec(cs)?.[1] : undefined);
const fqdn = cs ? (/Endpoint=sb:\/\/([^/;]+)/i.exec(cs)?.[1] ?? '') : '';

describe('eventHubsPartitionInfo (real namespace)', () => {
  if (!cs || !hubName) {
    it.skip('needs MDR_TEST_EVENTHUB_CONNECTION_STRING (and the hub name as EntityPath or MDR_TEST_EVENTHUB_NAME): no real Event Hubs namespace in this environment', () => {});
    return;
  }

  it('reads every partition and sees a just-sent event as the newest enqueued one', async () => {
    const { EventHubProducerClient } = await import('@azure/event-hubs');
    const info = createEventHubsPartitionInfo({ connectionString: cs });
    const before = await info.getHubRuntime(fqdn, hubName);
    expect(before.partitions.length).toBeGreaterThan(0);
    for (const p of before.partitions) expect(typeof p.lastEnqueuedSequenceNumber).toBe('number');

    const producer = new EventHubProducerClient(cs.replace(/;?EntityPath=[^;]*/i, ''), hubName);
    const sentAt = Date.now();
    try {
      await producer.sendBatch([{ body: { contract: 'azure-mdr health', at: sentAt } }], { partitionId: before.partitions[0]!.partitionId });
    } finally {
      await producer.close();
    }
    const after = await info.getHubRuntime(fqdn, hubName);
    const p0 = after.partitions.find((p) => p.partitionId === before.partitions[0]!.partitionId)!;
    expect(p0.isEmpty).toBe(false);
    expect(p0.lastEnqueuedSequenceNumber).toBeGreaterThan(before.partitions[0]!.lastEnqueuedSequenceNumber);
    // Service clock vs ours: allow a minute of skew.
    expect(lastEnqueuedOf(after)!.getTime()).toBeGreaterThan(sentAt - 60_000);
  });
});
