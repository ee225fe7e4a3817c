import type { PartitionProgress } from '../registry/types.js';

/** At most one progress row per partition and instance this often: a few table writes an hour per partition. */
export const PROGRESS_INTERVAL_MS = 5 * 60_000;

export interface ProgressBatch {
  partitionId: string | undefined;
  lastSequenceNumber: number | undefined;
}

/**
 * Records that a batch of a hub partition got through (outputs written), for stream health to tell a partition whose
 * deliveries keep failing (evaluateHealth `stalled`) from one with nothing new. Writes at most once per
 * PROGRESS_INTERVAL_MS per partition in this instance; health allows for that lag.
 */
export function createPartitionProgressRecorder(
  record: (rows: PartitionProgress[]) => Promise<void>,
  opts: { intervalMs?: number; now?: () => number } = {},
): (hub: { tenantId: string; namespace: string; hub: string }, batch: ProgressBatch) => Promise<void> {
  const interval = opts.intervalMs ?? PROGRESS_INTERVAL_MS;
  const now = opts.now ?? Date.now;
  const last = new Map<string, number>();
  return async (hub, batch) => {
    if (batch.partitionId === undefined) return;
    const key = `${hub.namespace}/${hub.hub}/${batch.partitionId}`;
    const t = now();
    const prev = last.get(key);
    if (prev !== undefined && t - prev < interval) return;
    await record([{ tenantId: hub.tenantId, namespace: hub.namespace, hub: hub.hub, partitionId: batch.partitionId, sequenceNumber: batch.lastSequenceNumber, at: new Date(t).toISOString() }]);
    last.set(key, t);
  };
}
