import { describe, expect, it } from 'vitest';
import { mapRecord } from '../../../src/lib/ingest/dispatch.js';
import { handleIngestBatch } from '../../../src/lib/ingest/handleIngestBatch.js';
import type { Mapper } from '../../../src/lib/ingest/types.js';
import { parseResourceId, parseTime } from '../../../src/lib/ingest/ocsf/common.js';
import { createMemoryOutputs } from '../../../src/lib/ingest/outputs/memoryOutputs.js';

/**
 * Values a hostile sender can put in any field, found in review (2026-12-03). Each case failed before its fix: a
 * batch that threw (the partition retries it forever), or a parse that took tens of seconds on one record (the
 * default test timeout, 5 s, is far below the old cost: 51 s for the time, ~10 s for the resource id).
 */
const TENANT = '4bbb79f7-5724-4c9e-95f3-de075f6ec090';
const auditEvent = { time: '2024-03-01T10:15:00Z', category: 'AuditEvent', operationName: 'SecretGet', tenantId: TENANT, correlationId: 'c1', callerIpAddress: '1.2.3.4' };

async function ingest(records: unknown[]) {
  const outputs = createMemoryOutputs();
  const res = await handleIngestBatch({ bodies: [Buffer.from(JSON.stringify({ records }))], binding: { tenantId: TENANT, hub: 'h' }, ingestTime: 0, outputs });
  return { res, events: outputs.batches.flatMap((b) => b.events), deadLetters: outputs.deadLetters };
}

describe('hostile field values', () => {
  it('a value that cannot become a string (`{"toString":1}`) fails no batch: every record becomes an event or a dead letter', async () => {
    const hostile = { Type: 'AzureDiagnostics', TimeGenerated: '2026-11-26T10:00:00Z', ResourceProvider: { toString: 1 } };
    const { res, events, deadLetters } = await ingest([hostile, auditEvent]);
    expect(res.records).toBe(2);
    expect(events.length + deadLetters.length).toBe(2);
    expect(events.some((e) => e.metadata.correlation_uid === 'c1')).toBe(true);
  });

  it('mapRecord never throws: an exception in a matcher dead-letters the record as mapping-error', () => {
    const throwing: Mapper = { source: 'key-vault', matches: () => String({ toString: 1 }) === '', map: () => ({ ok: true, events: [] }) };
    const out = mapRecord(auditEvent, JSON.stringify(auditEvent), { tenantId: TENANT, subscriptionIds: undefined, ingestTime: 0 }, undefined, [throwing]);
    expect(out).toMatchObject({ ok: false, reason: 'mapping-error', detail: expect.stringContaining('Cannot convert object to primitive value') });
  });

  it('a time field of 200 KB is no time (and costs no regex backtracking)', async () => {
    const long = `1/1/2020 1:00${' '.repeat(200_000)}x`;
    expect(parseTime(long)).toBeUndefined();
    const { res } = await ingest([{ ...auditEvent, time: long }]);
    expect(res.records).toBe(1);
  });

  it('the longest real time forms still parse', () => {
    expect(parseTime('2024-03-01T10:15:00.1234567+05:30')).toBe(Date.UTC(2024, 2, 1, 4, 45, 0, 123));
    expect(parseTime('3/1/2024 10:15:00.1234567 PM +05:30')).toBe(Date.UTC(2024, 2, 1, 16, 45, 0, 123));
  });

  it('a resource id of 600 KB of /providers/ segments and a line break parses in linear time', () => {
    const id = `${'/providers/a/'.repeat(46_000)}\n`;
    expect(parseResourceId(id).provider).toBe('a');
  });

  it('keeps short resource ids in its cache and never long ones (a 1 MB id per message would pin 4 GB)', () => {
    const short = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv';
    expect(parseResourceId(short)).toBe(parseResourceId(short));
    const long = `${short}${'/x'.repeat(1000)}`;
    expect(parseResourceId(long)).toEqual(parseResourceId(long));
    expect(parseResourceId(long)).not.toBe(parseResourceId(long));
  });
});
