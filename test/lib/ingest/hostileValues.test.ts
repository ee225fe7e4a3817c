import { describe, expect, it } from 'vitest';
import { mapRecord } from '../../../src/lib/ingest/dispatch.js';
import { handleIngestBatch } from '../../../src/lib/ingest/handleIngestBatch.js';
import type { Mapper, OcsfEvent } from '../../../src/lib/ingest/types.js';
import { parseResourceId, parseTime } from '../../../src/lib/ingest/ocsf/common.js';
import { validateOcsfEvent } from '../../../src/lib/ingest/ocsf/validate.js';
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

describe('what a message holds beside its records is never lost', () => {
  const kv = (id: string, extra: Record<string, unknown> = {}) => JSON.stringify({ ...auditEvent, correlationId: id, ...extra });
  async function ingestBytes(text: string | Buffer) {
    const outputs = createMemoryOutputs();
    const body = typeof text === 'string' ? Buffer.from(text) : text;
    const res = await handleIngestBatch({ bodies: [body], binding: { tenantId: TENANT, hub: 'h' }, ingestTime: 0, outputs });
    return { body, res, events: outputs.batches.flatMap((b) => b.events), deadLetters: outputs.deadLetters };
  }
  const ids = (events: OcsfEvent[]) => events.map((e) => e.metadata.correlation_uid);

  it('an envelope naming "records" twice: the records JSON.parse keeps map with their own text, and the message is kept', async () => {
    const { body, events, deadLetters } = await ingestBytes(`{"records":[${kv('first')}],"records":[${kv('second')}]}`);
    expect(ids(events)).toEqual(['second']);
    expect(JSON.parse(events[0]!.raw_data as string)).toMatchObject({ correlationId: 'second' });
    expect(deadLetters).toHaveLength(1);
    expect(Buffer.from(deadLetters[0]!.body).equals(body)).toBe(true);
    expect(deadLetters[0]!.failures[0]!.detail).toContain('more than once');
  });

  it('an envelope with another list beside its records ("Records", "value"): the message is kept, raw_data is each record\'s own', async () => {
    for (const other of ['Records', 'value']) {
      const { body, events, deadLetters } = await ingestBytes(`{"${other}":[${kv('hidden', { tenantId: '11111111-2222-3333-4444-555555555555' })}],"records":[${kv('a1')},${kv('a2')}]}`);
      expect(ids(events)).toEqual(['a1', 'a2']);
      expect(events.map((e) => (JSON.parse(e.raw_data as string) as { correlationId: string }).correlationId)).toEqual(['a1', 'a2']);
      expect(Buffer.from(deadLetters[0]!.body).equals(body)).toBe(true);
      expect(deadLetters[0]!.failures[0]!.detail).toContain(`members besides its records (${other})`);
    }
  });

  it('a truncated envelope with a member after its records: the records are salvaged and the message is kept', async () => {
    const { body, events, deadLetters } = await ingestBytes(`{"records":[${kv('a')}],"more":{"secret":"TAIL`);
    expect(ids(events)).toEqual(['a']);
    expect(Buffer.from(deadLetters[0]!.body).equals(body)).toBe(true);
  });

  it('a plain envelope cut short after a whole record loses nothing, and dead-letters nothing', async () => {
    const { events, deadLetters } = await ingestBytes(`{"records":[${kv('a')}`);
    expect(ids(events)).toEqual(['a']);
    expect(deadLetters).toEqual([]);
  });

  it('a message with an invalid UTF-8 byte in a mapped record: the event says so, and its exact bytes are kept', async () => {
    const text = `{"records":[${kv('a', { resultDescription: 'caf#' })}]}`;
    const body = Buffer.from(text);
    body[body.indexOf('caf#') + 3] = 0xe9; // Latin-1 é: not UTF-8
    const { res, events, deadLetters } = await ingestBytes(body);
    expect(ids(events)).toEqual(['a']);
    expect(events[0]!.metadata.labels).toContain('repaired:invalid-utf8');
    expect(events[0]!.raw_data).toContain('caf\uFFFD');
    expect(deadLetters).toHaveLength(1);
    expect(Buffer.from(deadLetters[0]!.body).equals(body)).toBe(true);
    expect(res.records).toBe(res.mapped + res.deadLetters);
  });
});

describe('hostile values still make valid OCSF', () => {
  it('a caller address with a port past 65535 keeps its address and drops the port', async () => {
    const { events } = await ingest([{ ...auditEvent, callerIpAddress: '10.0.0.1:99999' }]);
    expect(events[0]!.src_endpoint).toMatchObject({ ip: '10.0.0.1' });
    expect((events[0]!.src_endpoint as { port?: number }).port).toBeUndefined();
    expect(validateOcsfEvent(events[0]).errors).toEqual([]);
    const ok = await ingest([{ ...auditEvent, callerIpAddress: '10.0.0.1:443' }]);
    expect(ok.events[0]!.src_endpoint).toMatchObject({ ip: '10.0.0.1', port: 443 });
  });

  it('an alert naming a vendor but no product has no product object (OCSF needs a name or uid)', async () => {
    const alert = { SystemAlertId: 'sa-1', AlertType: 'VM_Test', TimeGenerated: '2026-11-26T10:00:00Z', VendorName: 'Microsoft' };
    const { events } = await ingest([alert]);
    expect((events[0]!.finding_info as { product?: unknown }).product).toBeUndefined();
    expect(validateOcsfEvent(events[0]).errors).toEqual([]);
    const named = await ingest([{ ...alert, ProductName: 'Azure Security Center' }]);
    expect((named.events[0]!.finding_info as { product?: unknown }).product).toEqual({ name: 'Azure Security Center', vendor_name: 'Microsoft' });
  });
});


describe('a record without a time', () => {
  it('takes its message enqueued time, the same on every redelivery, so it lands in the same hourly blob (found in review, 2026-12-03)', async () => {
    const rec = { category: 'AppServiceHTTPLogs', resourceId: '/SUBSCRIPTIONS/C088DC46-D692-42AD-A4B6-9A542D28AD2A/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.WEB/SITES/APP', operationName: 'Microsoft.Web/sites/log', properties: { CsMethod: 'GET' } };
    const deliver = async (ingestTime: number) => {
      const outputs = createMemoryOutputs();
      await handleIngestBatch({ bodies: [Buffer.from(JSON.stringify({ records: [rec] }))], messages: [{ partitionId: '0', sequenceNumber: 7, enqueuedTime: '2026-01-01T10:59:58.123' }], binding: { tenantId: TENANT, hub: 'h' }, ingestTime, outputs });
      return outputs.batches.flatMap((b) => b.events);
    };
    const [first] = await deliver(Date.UTC(2026, 0, 1, 11, 0, 1));
    const [retry] = await deliver(Date.UTC(2026, 0, 1, 12, 30, 0)); // the host's retry, an hour and a half later
    expect(first?.time).toBe(Date.UTC(2026, 0, 1, 10, 59, 58, 123));
    expect(retry?.time).toBe(first?.time);
    expect(retry?.metadata.processed_time).not.toBe(first?.metadata.processed_time);
  });
});
