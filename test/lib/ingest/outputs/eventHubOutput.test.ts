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
