import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import type { CliIo } from '../../../src/cli/types.js';
import { handleIngestBatch } from '../../../src/lib/ingest/handleIngestBatch.js';
import { createMemoryOutputs } from '../../../src/lib/ingest/outputs/memoryOutputs.js';
import { parseDeadLetter, serializeDeadLetter } from '../../../src/lib/ingest/deadLetter.js';

function io(stdin = ''): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { stdin: [Buffer.from(stdin)], stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) }, env: {}, out, err };
}

const TENANT = '4bbb79f7-5724-4c9e-95f3-de075f6ec090';
const record = { time: '2022-01-24T05:10:08Z', category: 'SignInLogs', tenantId: TENANT, resultType: '0', properties: { id: 'r1', userId: 'u' } };

describe('replay', () => {
  const SUB = 'c088dc46-d692-42ad-a4b6-9a542d28ad2a';
  const OTHER = '99999999-9999-9999-9999-999999999999';
  const vault = { time: '2026-01-01T00:00:00Z', category: 'AuditEvent', operationName: 'SecretGet', tenantId: TENANT, correlationId: 'kv-1', resourceId: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv` };

  it('recovers a record refused while its subscription was not yet known, once replayed with the tenant\'s subscriptions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-'));
    const outputs = createMemoryOutputs();
    // Discovery had not recorded the subscription yet (none known): the record is a tenant mismatch; the garbage line unparseable.
    await handleIngestBatch({
      bodies: [Buffer.from(`${JSON.stringify(vault)}\nnot json at all\n`)],
      messages: [{ partitionId: '2', sequenceNumber: 9, enqueuedTime: '2026-01-01T00:00:00' }],
      binding: { tenantId: TENANT, hub: 'h' },
      subscriptionIds: [],
      ingestTime: 0,
      outputs,
    });
    expect(outputs.deadLetters).toHaveLength(1);
    expect(outputs.deadLetters[0]!.outcomes).toBe('TU');
    const dlFile = join(dir, 'dl.ndjson');
    writeFileSync(dlFile, Buffer.concat(outputs.deadLetters.map(serializeDeadLetter)));

    const still = join(dir, 'still.ndjson');
    const cap = io();
    const code = await main(['replay', '--tenant', TENANT, '--subscriptions', SUB, '--dead-letter', still, '--ingest-time', '2026-01-02T00:00:00Z', dlFile], cap);
    expect(code).toBe(0);
    const events = cap.out.join('').trim().split('\n').map((l) => JSON.parse(l) as { metadata: { tenant_uid: string; processed_time: number; labels?: string[] } });
    expect(events).toHaveLength(1);
    expect(events[0]!.metadata.tenant_uid).toBe(TENANT);
    expect(events[0]!.metadata.labels ?? []).not.toContain('attribution:unverified');
    expect(events[0]!.metadata.processed_time).toBe(Date.UTC(2026, 0, 2));
    expect(cap.err.join('')).toBe('2 dead-lettered records in 1 dead letters: 1 events, 1 still dead-lettered\n');
    const remaining = readFileSync(still, 'utf8').trim().split('\n').map((l) => parseDeadLetter(l));
    expect(remaining).toHaveLength(1);
    expect(remaining[0]).toMatchObject({ version: 2, outcomes: '.U', partitionId: '2', sequenceNumber: 9 });
  });

  it("refuses to replay a dead letter as another tenant's than its hub binding's (found in review, 2026-12-03)", async () => {
    const outputs = createMemoryOutputs();
    await handleIngestBatch({ bodies: [JSON.stringify(record)], binding: { tenantId: OTHER }, ingestTime: 0, outputs });
    const cap = io(Buffer.concat(outputs.deadLetters.map(serializeDeadLetter)).toString('utf8'));
    expect(await main(['replay', '--tenant', TENANT], cap)).toBe(2);
    expect(cap.err.join('')).toMatch(/<stdin>:1: this dead letter is of tenant 99999999-9999-9999-9999-999999999999 .*not 4bbb79f7/);
    expect(cap.out).toEqual([]);
  });

  it('without the tenant\'s subscriptions, holds back records refused for a foreign subscription, and labels what it emits unverified', async () => {
    const outputs = createMemoryOutputs();
    const foreign = { ...vault, resourceId: '/subscriptions/deadbeef-0000-4000-8000-000000000001/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv' };
    await handleIngestBatch({ bodies: [Buffer.from(`${JSON.stringify(foreign)}\n{"foo":1}\n`)], binding: { tenantId: TENANT }, subscriptionIds: [SUB], ingestTime: 0, outputs });
    expect(outputs.deadLetters[0]!.outcomes).toBe('TS');
    for (const args of [['replay'], ['replay', '--tenant', TENANT]]) {
      const cap = io(Buffer.concat(outputs.deadLetters.map(serializeDeadLetter)).toString('utf8'));
      expect(await main(args, cap)).toBe(0);
      expect(cap.out).toEqual([]); // the foreign record never becomes an event of this tenant
      expect(cap.err.join('')).toContain('1 dead-lettered records in 1 dead letters: 0 events, 1 still dead-lettered');
      expect(cap.err.join('')).toContain("1 record(s) refused as a tenant mismatch (a foreign tenant or subscription) were not replayed");
    }
  });

  it('replays only the failed records of a message, not the ones that already became events', async () => {
    const good = { ...record, properties: { id: 'ok-1', userId: 'u' } };
    const outputs = createMemoryOutputs();
    await handleIngestBatch({ bodies: [Buffer.from(JSON.stringify({ records: [good, { foo: 1 }, good] }))], binding: { tenantId: TENANT }, ingestTime: 0, outputs });
    expect(outputs.deadLetters[0]!.outcomes).toBe('.S.');
    const cap = io(Buffer.concat(outputs.deadLetters.map(serializeDeadLetter)).toString('utf8'));
    expect(await main(['replay', '--ingest-time', '2026-01-02T00:00:00Z'], cap)).toBe(0);
    expect(cap.out).toEqual([]);
    expect(cap.err.join('')).toBe('1 dead-lettered records in 1 dead letters: 0 events, 1 still dead-lettered\n');
  });

  it('still reads the older one-document-per-record dead letters, and keeps their tenant', async () => {
    const v1 = { reason: 'tenant-mismatch', detail: 'x', tenantId: OTHER, hub: 'h', partitionId: '1', sequenceNumber: 3, recordIndex: 0, bodyBase64: Buffer.from(JSON.stringify(record)).toString('base64'), preview: '', deadLetteredAt: 0 };
    const cap = io(`${JSON.stringify(v1)}\n`);
    expect(await main(['replay', '--tenant', OTHER, '--ingest-time', '2026-01-02T00:00:00Z'], cap)).toBe(0);
    expect(cap.out).toEqual([]); // a tenant mismatch, held back without --subscriptions
    expect(cap.err.join('')).toContain('1 record(s) refused as a tenant mismatch');
    const refused = io(`${JSON.stringify(v1)}\n`);
    expect(await main(['replay', '--tenant', TENANT], refused)).toBe(2);
  });

  it('refuses a dead letter whose body was cut or edited since it was written (its recorded length differs)', async () => {
    const outputs = createMemoryOutputs();
    await handleIngestBatch({ bodies: [Buffer.from(`${JSON.stringify(record)}\nnot json\n`)], binding: { tenantId: TENANT }, ingestTime: 0, outputs });
    const line = JSON.parse(serializeDeadLetter(outputs.deadLetters[0]!).toString('utf8')) as { bodyBase64: string };
    const cut = { ...line, bodyBase64: Buffer.from(Buffer.from(line.bodyBase64, 'base64').subarray(0, 20)).toString('base64') };
    const cap = io(`${JSON.stringify(cut)}\n`);
    expect(await main(['replay'], cap)).toBe(2);
    expect(cap.err.join('')).toMatch(/<stdin>:1: not a dead letter \(its body is 20 bytes, but it was written with \d+: the file was cut or edited\)/);
  });

  it('replays each older-format document of a whole message only for its own record, not the whole message once per document', async () => {
    const body = Buffer.from(`${JSON.stringify({ ...record, properties: { id: 'a', userId: 'u' } })}\n{"foo":1}\n{"bar":2}\n`).toString('base64');
    const v1 = (recordIndex: number) => ({ reason: 'unknown-shape', detail: 'x', tenantId: TENANT, hub: 'h', partitionId: '1', sequenceNumber: 3, recordIndex, bodyBase64: body, preview: '', deadLetteredAt: 0 });
    const cap = io(`${JSON.stringify(v1(1))}\n${JSON.stringify(v1(2))}\n`);
    expect(await main(['replay', '--ingest-time', '2026-01-02T00:00:00Z'], cap)).toBe(0);
    expect(cap.out).toEqual([]); // record 0 became an event at ingest: not emitted again
    expect(cap.err.join('')).toBe('2 dead-lettered records in 2 dead letters: 0 events, 2 still dead-lettered\n');
  });

  it('holds back an older-format tenant-mismatch document without --subscriptions, as the current format is', async () => {
    const v1 = { reason: 'tenant-mismatch', tenantId: TENANT, bodyBase64: Buffer.from(JSON.stringify(vault)).toString('base64') };
    const cap = io(`${JSON.stringify(v1)}\n`);
    expect(await main(['replay'], cap)).toBe(0);
    expect(cap.out).toEqual([]);
    expect(cap.err.join('')).toContain('1 record(s) refused as a tenant mismatch');
  });

  it('rejects a file that is not dead-letter NDJSON with a usage error naming the line', async () => {
    const cap = io('{"foo":1}\n');
    expect(await main(['replay'], cap)).toBe(2);
    expect(cap.err.join('')).toMatch(/<stdin>:1: not a dead letter/);
  });
});
