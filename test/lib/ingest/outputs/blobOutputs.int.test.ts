import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { useAzuriteBlobs } from '../../../support/azurite.js';
import { parseDeadLetter } from '../../../../src/lib/ingest/deadLetter.js';
import { createBlobOutputs } from '../../../../src/lib/ingest/outputs/blobOutputs.js';
import { handleIngestBatch } from '../../../../src/lib/ingest/handleIngestBatch.js';

const TENANT = '4bbb79f7-5724-4c9e-95f3-de075f6ec090';
const signIn = (id: string, time: string) => ({ time, category: 'SignInLogs', tenantId: TENANT, resultType: '0', properties: { id, userId: 'u1', userPrincipalName: 'a@b.c' } });
const kv = { time: '2024-03-01T10:15:00Z', category: 'AuditEvent', operationName: 'SecretGet', resourceId: '/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV', correlationId: 'c1', callerIpAddress: '1.2.3.4' };

const azurite = useAzuriteBlobs();

async function listAll(container: string): Promise<string[]> {
  const names: string[] = [];
  for await (const b of azurite.svc.getContainerClient(container).listBlobsFlat()) names.push(b.name);
  return names.sort();
}
async function readGz(container: string, name: string): Promise<string[]> {
  const buf = await azurite.svc.getContainerClient(container).getBlobClient(name).downloadToBuffer();
  return gunzipSync(buf).toString('utf8').trim().split('\n');
}

describe('blob outputs (Azurite)', () => {
  it('writes gzip NDJSON per tenant/class/hour with a deterministic batch name, and one dead letter per message', async () => {
    const outputs = createBlobOutputs({ serviceClient: azurite.svc, eventsContainer: 'ev1', deadLetterContainer: 'dl1' });
    const bodies = [JSON.stringify({ records: [signIn('a', '2024-03-01T10:05:00Z'), signIn('b', '2024-03-01T11:05:00Z'), kv] }), 'garbage'];
    const run = () =>
      handleIngestBatch({
        bodies,
        messages: [{ partitionId: '7', sequenceNumber: 1200, enqueuedTime: '2024-03-01T10:20:00.25' }, { partitionId: '7', sequenceNumber: 1201, enqueuedTime: '2024-03-01T10:20:01' }],
        binding: { tenantId: TENANT, hub: 'h1', namespace: 'ns1' },
        ingestTime: 1,
        outputs,
      });
    const res = await run();
    expect(res).toMatchObject({ records: 4, events: 3, deadLetters: 1 });
    expect(await listAll('ev1')).toEqual([
      `${TENANT}/api_activity/2024/03/01/10/ns1-7-1200.ndjson.gz`,
      `${TENANT}/authentication/2024/03/01/10/ns1-7-1200.ndjson.gz`,
      `${TENANT}/authentication/2024/03/01/11/ns1-7-1200.ndjson.gz`,
    ]);
    const lines = await readGz('ev1', `${TENANT}/authentication/2024/03/01/10/ns1-7-1200.ndjson.gz`);
    expect(lines.map((l) => (JSON.parse(l) as { metadata: { tenant_uid: string } }).metadata.tenant_uid)).toEqual([TENANT]);
    expect(await listAll('dl1')).toEqual([`${TENANT}/2024/03/01/ns1-7-1201.json`]);
    const dl = parseDeadLetter((await azurite.svc.getContainerClient('dl1').getBlobClient(`${TENANT}/2024/03/01/ns1-7-1201.json`).downloadToBuffer()).toString('utf8'));
    expect(dl).toMatchObject({ version: 2, outcomes: 'U', hub: 'h1', sequenceNumber: 1201, failures: [{ index: 0, reason: 'unparseable' }] });
    expect(dl.body.toString('utf8')).toBe('garbage');

    // Redelivery of the same batch overwrites the same blobs: no duplicates.
    await run();
    expect(await listAll('ev1')).toHaveLength(3);
    expect(await listAll('dl1')).toHaveLength(1);
    expect(await readGz('ev1', `${TENANT}/authentication/2024/03/01/10/ns1-7-1200.ndjson.gz`)).toHaveLength(1);
  });

  it('writes plain NDJSON (.ndjson, no content encoding) when compression is off, the same lines as gzip', async () => {
    const bodies = [JSON.stringify({ records: [signIn('a', '2024-03-01T10:05:00Z'), kv, signIn('c', '2024-03-01T10:06:00Z')] })];
    const run = (eventsContainer: string, compression: Parameters<typeof createBlobOutputs>[0]['compression']) =>
      handleIngestBatch({ bodies, messages: [{ partitionId: '2', sequenceNumber: 5 }], binding: { tenantId: TENANT, hub: 'h1' }, ingestTime: 1, outputs: createBlobOutputs({ serviceClient: azurite.svc, eventsContainer, deadLetterContainer: 'dl3', compression }) });
    await run('ev3', { kind: 'none' });
    await run('ev4', { kind: 'gzip', level: 9 });
    expect(await listAll('ev3')).toEqual([`${TENANT}/api_activity/2024/03/01/10/2-5.ndjson`, `${TENANT}/authentication/2024/03/01/10/2-5.ndjson`]);
    const plain = azurite.svc.getContainerClient('ev3').getBlobClient(`${TENANT}/authentication/2024/03/01/10/2-5.ndjson`);
    const props = await plain.getProperties();
    expect(props.contentType).toBe('application/x-ndjson');
    expect(props.contentEncoding).toBeUndefined();
    const text = (await plain.downloadToBuffer()).toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trim().split('\n')).toEqual(await readGz('ev4', `${TENANT}/authentication/2024/03/01/10/2-5.ndjson.gz`));
    expect((await azurite.svc.getContainerClient('ev4').getBlobClient(`${TENANT}/authentication/2024/03/01/10/2-5.ndjson.gz`).getProperties()).contentEncoding).toBe('gzip');
  });

  it('propagates an upload failure so the handler throws', async () => {
    // A container name Azure rejects makes every write fail (400), standing in for an outage.
    const outputs = createBlobOutputs({ serviceClient: azurite.svc, eventsContainer: 'Bad_Name', deadLetterContainer: 'dl2' });
    await expect(handleIngestBatch({ bodies: [JSON.stringify(kv)], binding: { tenantId: undefined }, ingestTime: 1, outputs })).rejects.toThrow();
  });
});
