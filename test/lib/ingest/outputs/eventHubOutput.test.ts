import { describe, expect, it } from 'vitest';
import { createEventHubOutput, fitEventForEventHub } from '../../../../src/lib/ingest/outputs/eventHubOutput.js';
import type { OcsfEvent } from '../../../../src/lib/ingest/types.js';
import { validateOcsfEvent } from '../../../../src/lib/ingest/ocsf/validate.js';

const ev = (raw: string): OcsfEvent => ({
  class_uid: 0, category_uid: 0, activity_id: 99, type_uid: 99, severity_id: 1, time: 1,
  metadata: { uid: 'u', version: '1.8.0', product: { name: 'Azure' }, profiles: ['cloud'] },
  cloud: { provider: 'Azure' },
  raw_data: raw,
});

describe('Event Hub output adapter', () => {
  it('accumulates every batch of the invocation into the one binding value', async () => {
    const sets: OcsfEvent[][] = [];
    const out = createEventHubOutput((e) => sets.push([...e]));
    await out.writeEvents({ tenantId: 't', partitionId: '0', firstSequenceNumber: 1, batchId: 'b', events: [ev('a')] });
    await out.writeEvents({ tenantId: 't', partitionId: '0', firstSequenceNumber: 1, batchId: 'b', events: [ev('b'), ev('c')] });
    expect(sets.at(-1)!.map((e) => e.raw_data)).toEqual(['a', 'b', 'c']);
  });

  it('truncates raw_data of an event that would exceed the Event Hub size limit and marks it, leaving small events alone', () => {
    const small = ev('{"x":1}');
    expect(fitEventForEventHub(small, 10_000)).toBe(small);
    const big = ev(`{"x":"${'y'.repeat(50_000)}"}`);
    const fitted = fitEventForEventHub(big, 10_000);
    expect(Buffer.byteLength(JSON.stringify(fitted))).toBeLessThanOrEqual(10_000);
    expect(fitted.metadata).toMatchObject({ is_truncated: true, untruncated_size: Buffer.byteLength(JSON.stringify(big)) });
    expect(validateOcsfEvent(fitted).errors).toEqual([]);
    expect(big.raw_data).toHaveLength(50_008);
  });
});

/** Found in review (2026-12-03): events over the limit were sent (1.2 MB), which Event Hubs refuses on every retry. */
describe('fitEventForEventHub measures the whole event in UTF-8 bytes', () => {
  const LIMIT = 10_000;
  const bytes = (e: OcsfEvent) => Buffer.byteLength(JSON.stringify(e), 'utf8');

  it('an event whose raw_data is small but whose other attributes are large (unmapped, non-ASCII)', () => {
    const big: OcsfEvent = { ...ev('{"x":1}'), unmapped: { note: 'é'.repeat(4_000) }, message: '雪'.repeat(2_000) };
    expect(bytes(big)).toBeGreaterThan(LIMIT);
    const fitted = fitEventForEventHub(big, LIMIT);
    expect(bytes(fitted)).toBeLessThanOrEqual(LIMIT);
    expect(fitted.unmapped).toBeUndefined();
    expect(fitted.metadata).toMatchObject({ is_truncated: true, untruncated_size: bytes(big) });
    expect(validateOcsfEvent(fitted).errors).toEqual([]);
  });

  it('a raw record of CJK text: cut in bytes, on a character boundary', () => {
    const big = ev(`{"x":"${'雪'.repeat(20_000)}"}`);
    const fitted = fitEventForEventHub(big, LIMIT);
    expect(bytes(fitted)).toBeLessThanOrEqual(LIMIT);
    expect(big.raw_data as string).toContain(fitted.raw_data as string);
    expect((fitted.raw_data as string).length).toBeGreaterThan(1_000);
  });

  it('mapped attributes alone over the limit: the largest go, the class, time and metadata stay', () => {
    const big: OcsfEvent = { ...ev('{"x":1}'), message: 'm'.repeat(20_000), resources: [{ uid: 'r'.repeat(20_000) }], status: 'Success' };
    const fitted = fitEventForEventHub(big, LIMIT);
    expect(bytes(fitted)).toBeLessThanOrEqual(LIMIT);
    expect(fitted).toMatchObject({ class_uid: 0, time: 1, status: 'Success', metadata: { is_truncated: true } });
    expect(fitted.message).toBeUndefined();
  });
});

