import { describe, expect, it } from 'vitest';
import { createPartitionProgressRecorder, PROGRESS_INTERVAL_MS } from '../../../src/lib/ingest/partitionProgress.js';
import type { PartitionProgress } from '../../../src/lib/registry/types.js';

describe('partition progress recorder', () => {
  it('records a partition at most once per interval, each partition on its own, and nothing without a partition', async () => {
    const rows: PartitionProgress[] = [];
    let t = Date.UTC(2026, 2, 2);
    const record = createPartitionProgressRecorder(async (r) => void rows.push(...r), { now: () => t });
    const hub = { tenantId: 't', namespace: 'ns', hub: 'h' };
    await record(hub, { partitionId: '0', lastSequenceNumber: 5 });
    await record(hub, { partitionId: '1', lastSequenceNumber: 9 });
    t += PROGRESS_INTERVAL_MS - 1;
    await record(hub, { partitionId: '0', lastSequenceNumber: 6 });
    await record(hub, { partitionId: undefined, lastSequenceNumber: undefined });
    t += 1;
    await record(hub, { partitionId: '0', lastSequenceNumber: 7 });
    expect(rows.map((r) => `${r.partitionId}:${r.sequenceNumber}@${r.at}`)).toEqual(['0:5@2026-03-02T00:00:00.000Z', '1:9@2026-03-02T00:00:00.000Z', '0:7@2026-03-02T00:05:00.000Z']);
  });

  it('tries again on the next batch when a write failed', async () => {
    let fail = true;
    const rows: PartitionProgress[] = [];
    const record = createPartitionProgressRecorder(async (r) => {
      if (fail) throw new Error('table unavailable');
      rows.push(...r);
    });
    const hub = { tenantId: 't', namespace: 'ns', hub: 'h' };
    await expect(record(hub, { partitionId: '0', lastSequenceNumber: 1 })).rejects.toThrow('table unavailable');
    fail = false;
    await record(hub, { partitionId: '0', lastSequenceNumber: 2 });
    expect(rows.map((r) => r.sequenceNumber)).toEqual([2]);
  });
});
