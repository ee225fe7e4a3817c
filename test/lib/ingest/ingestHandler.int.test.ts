import { gunzipSync } from 'node:zlib';
import azf from '@azure/functions';
import { output } from '@azure/functions';
import { BlobServiceClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { useAzurite } from '../../support/azurite.js';
import { createIngestHandler, messagesFromTriggerMetadata } from '../../../src/lib/ingest/ingestHandler.js';
import type { IngestBinding } from '../../../src/lib/config/ingestBindings.js';

const { InvocationContext } = azf;
const TENANT = '4bbb79f7-5724-4c9e-95f3-de075f6ec090';
const binding: IngestBinding = { tenantId: TENANT, region: 'westeurope', namespace: 'mdr-ingest-weu-1', hub: 'tenant-4bbb', consumerGroup: 'mdr-ingest', connection: 'INGEST_EH' };
const downstream = output.eventHub({ eventHubName: 'ocsf-events', connection: 'MDR_DOWNSTREAM' });

const az = useAzurite();

function context(seq: number[], logs: unknown[][]) {
  return new InvocationContext({
    functionName: 'ingest-x',
    invocationId: 'inv-1',
    logHandler: (level, ...args) => logs.push([level, ...args]),
    // Shape as the v4 library hands it over (keys camelCased; enqueued times without zone).
    triggerMetadata: {
      partitionContext: { fullyQualifiedNamespace: 'mdr-ingest-weu-1.servicebus.windows.net', eventHubName: 'tenant-4bbb', consumerGroup: 'mdr-ingest', partitionId: '4' },
      sequenceNumberArray: seq,
      offsetArray: seq.map((s) => String(s * 10)),
      enqueuedTimeUtcArray: seq.map(() => '2023-03-13T01:25:02.25'),
    },
    retryContext: { retryCount: 0, maxRetryCount: 5 },
  });
}

describe('createIngestHandler', () => {
  it('reads per-message metadata from the v4 trigger metadata', () => {
    const m = messagesFromTriggerMetadata({ partitionContext: { partitionId: '2' }, sequenceNumberArray: [5, 6], offsetArray: ['50', '60'], enqueuedTimeUtcArray: ['t1', 't2'] }, 2);
    expect(m).toEqual([
      { partitionId: '2', sequenceNumber: 5, offset: '50', enqueuedTime: 't1' },
      { partitionId: '2', sequenceNumber: 6, offset: '60', enqueuedTime: 't2' },
    ]);
  });

  it('writes events to blob and to the Event Hub output binding, dead letters to blob, with a real InvocationContext', async () => {
    const svc = BlobServiceClient.fromConnectionString(az.connectionString);
    const batches: unknown[] = [];
    const handler = createIngestHandler({
      binding,
      outputMode: 'both',
      blobServiceClient: () => svc,
      eventsContainer: 'ocsf',
      deadLetterContainer: 'dead',
      eventHubOutput: downstream,
      subscriptionIds: () => ['c088dc46-d692-42ad-a4b6-9a542d28ad2a'],
      now: () => Date.UTC(2026, 0, 1),
      onBatch: (r) => void batches.push(r),
    });
    const logs: unknown[][] = [];
    const ctx = context([100, 101, 102], logs);
    const messages: unknown[] = [
      // parsed by the host (object), a foreign tenant's record, and raw text with a junk line
      { records: [{ time: '2024-01-01T00:00:00Z', category: 'SignInLogs', tenantId: TENANT, resultType: '0', properties: { id: 's1', userId: 'u' } }] },
      { time: '2024-01-01T00:00:00Z', category: 'SignInLogs', tenantId: '11111111-1111-1111-1111-111111111111', resultType: '0', properties: { id: 's2', userId: 'u' } },
      'junk\n{"time":"2024-01-01T01:00:00Z","category":"AuditEvent","operationName":"SecretGet","resourceId":"/subscriptions/c088dc46-d692-42ad-a4b6-9a542d28ad2a/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv","callerIpAddress":"1.2.3.4"}',
    ];
    await handler(messages, ctx);

    const sent = ctx.extraOutputs.get(downstream) as { metadata: { tenant_uid: string; processed_time: number } }[];
    expect(sent).toHaveLength(2);
    expect(sent.every((e) => e.metadata.tenant_uid === TENANT && e.metadata.processed_time === Date.UTC(2026, 0, 1))).toBe(true);
    const evNames: string[] = [];
    for await (const b of svc.getContainerClient('ocsf').listBlobsFlat()) evNames.push(b.name);
    expect(evNames.sort()).toEqual([`${TENANT}/api_activity/2024/01/01/01/mdr-ingest-weu-1-4-100.ndjson.gz`, `${TENANT}/authentication/2024/01/01/00/mdr-ingest-weu-1-4-100.ndjson.gz`]);
    const gz = await svc.getContainerClient('ocsf').getBlobClient(evNames.sort()[1]!).downloadToBuffer();
    expect(gunzipSync(gz).toString('utf8')).toContain('"class_uid":3002');
    const dlNames: string[] = [];
    for await (const b of svc.getContainerClient('dead').listBlobsFlat()) dlNames.push(b.name);
    expect(dlNames.sort()).toEqual([`${TENANT}/2023/03/13/mdr-ingest-weu-1-4-101.json`, `${TENANT}/2023/03/13/mdr-ingest-weu-1-4-102.json`]);
    expect(batches).toEqual([expect.objectContaining({ records: 4, events: 2, deadLetters: 2, byReason: { 'tenant-mismatch': 1, unparseable: 1 } })]);
    expect(logs.some((l) => String(l[1]).startsWith('ingest.batch'))).toBe(true);
  });

  it('throws when blob storage is unreachable, so the host retries the batch', async () => {
    const handler = createIngestHandler({
      binding,
      blobServiceClient: () => BlobServiceClient.fromConnectionString(az.connectionString.replace(/BlobEndpoint=http:\/\/127\.0\.0\.1:\d+/, 'BlobEndpoint=http://127.0.0.1:1'), { retryOptions: { maxTries: 1 } }),
      eventsContainer: 'ocsf',
      deadLetterContainer: 'dead',
    });
    await expect(handler([{ time: '2024-01-01T00:00:00Z', category: 'AuditEvent', operationName: 'SecretGet' }], context([1], []))).rejects.toThrow();
  });
});
