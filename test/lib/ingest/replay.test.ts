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
  it('re-feeds dead letters written by the handler and recovers records the current mappers accept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-'));
    const outputs = createMemoryOutputs();
    // 1) a record for the wrong tenant and 2) one garbage line: both dead-lettered by the hub handler.
    await handleIngestBatch({
      bodies: [Buffer.from(`${JSON.stringify(record)}\nnot json at all\n`)],
      messages: [{ partitionId: '2', sequenceNumber: 9, enqueuedTime: '2026-01-01T00:00:00' }],
      binding: { tenantId: '99999999-9999-9999-9999-999999999999', hub: 'h' },
      ingestTime: 0,
      outputs,
    });
    // One dead letter for the message: its bytes once, both records marked failed.
    expect(outputs.deadLetters).toHaveLength(1);
    expect(outputs.deadLetters[0]!.outcomes).toBe('TU');
    const dlFile = join(dir, 'dl.ndjson');
    writeFileSync(dlFile, Buffer.concat(outputs.deadLetters.map(serializeDeadLetter)));

    // Replayed for the right tenant: the sign-in is recovered, the garbage stays dead.
    const still = join(dir, 'still.ndjson');
    const cap = io();
    const code = await main(['replay', '--tenant', TENANT, '--dead-letter', still, '--ingest-time', '2026-01-02T00:00:00Z', dlFile], cap);
    expect(code).toBe(0);
    const events = cap.out.join('').trim().split('\n').map((l) => JSON.parse(l) as { metadata: { tenant_uid: string; processed_time: number } });
    expect(events).toHaveLength(1);
    expect(events[0]!.metadata.tenant_uid).toBe(TENANT);
    expect(events[0]!.metadata.processed_time).toBe(Date.UTC(2026, 0, 2));
    expect(cap.err.join('')).toBe('2 dead-lettered records in 1 dead letters: 1 events, 1 still dead-lettered\n');
    const remaining = readFileSync(still, 'utf8').trim().split('\n').map((l) => parseDeadLetter(l));
    expect(remaining).toHaveLength(1);
    expect(remaining[0]).toMatchObject({ version: 2, outcomes: '.U', partitionId: '2', sequenceNumber: 9 });
  });

  it('without --tenant keeps the tenant recorded in the dead letter (the binding tenant), so a mismatch stays a mismatch', async () => {
    const outputs = createMemoryOutputs();
    await handleIngestBatch({ bodies: [JSON.stringify(record)], binding: { tenantId: '99999999-9999-9999-9999-999999999999' }, ingestTime: 0, outputs });
    const cap = io(Buffer.concat(outputs.deadLetters.map(serializeDeadLetter)).toString('utf8'));
    expect(await main(['replay'], cap)).toBe(0);
    expect(cap.out).toEqual([]);
    expect(cap.err.join('')).toContain('1 dead-lettered records in 1 dead letters: 0 events, 1 still dead-lettered');
  });

  it('replays only the failed records of a message, not the ones that already became events', async () => {
    const good = { ...record, properties: { id: 'ok-1', userId: 'u' } };
    const foreign = { ...record, tenantId: '99999999-9999-9999-9999-999999999999', properties: { id: 'x', userId: 'u' } };
    const outputs = createMemoryOutputs();
    await handleIngestBatch({ bodies: [Buffer.from(JSON.stringify({ records: [good, foreign, good] }))], binding: { tenantId: TENANT }, ingestTime: 0, outputs });
    expect(outputs.deadLetters[0]!.outcomes).toBe('.T.');
    const cap = io(Buffer.concat(outputs.deadLetters.map(serializeDeadLetter)).toString('utf8'));
    // Offline replay: the foreign record maps now (attributed to its own tenant); the good ones are not emitted again.
    expect(await main(['replay', '--ingest-time', '2026-01-02T00:00:00Z'], cap)).toBe(0);
    expect(cap.err.join('')).toBe('1 dead-lettered records in 1 dead letters: 0 events, 1 still dead-lettered\n');
  });

  it('still reads the older one-document-per-record dead letters', async () => {
    const v1 = { reason: 'tenant-mismatch', detail: 'x', tenantId: '99999999-9999-9999-9999-999999999999', hub: 'h', partitionId: '1', sequenceNumber: 3, recordIndex: 0, bodyBase64: Buffer.from(JSON.stringify(record)).toString('base64'), preview: '', deadLetteredAt: 0 };
    const cap = io(`${JSON.stringify(v1)}\n`);
    expect(await main(['replay', '--tenant', TENANT, '--ingest-time', '2026-01-02T00:00:00Z'], cap)).toBe(0);
    expect(cap.out).toHaveLength(1);
    expect(cap.err.join('')).toBe('1 dead-lettered records in 1 dead letters: 1 events, 0 still dead-lettered\n');
  });

  it('rejects a file that is not dead-letter NDJSON with a usage error naming the line', async () => {
    const cap = io('{"foo":1}\n');
    expect(await main(['replay'], cap)).toBe(2);
    expect(cap.err.join('')).toMatch(/<stdin>:1: not a dead letter/);
  });
});
