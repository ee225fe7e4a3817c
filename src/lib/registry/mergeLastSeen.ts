import type { LastSeen } from './types.js';

/** Last-seen merge rule shared by both registries: latest event/ingest times win, counts add up. */
export function mergeLastSeen(current: LastSeen | undefined, next: LastSeen): LastSeen {
  if (!current) return { ...next };
  return {
    ...current,
    lastEventTime: next.lastEventTime > current.lastEventTime ? next.lastEventTime : current.lastEventTime,
    lastIngestTime: next.lastIngestTime > current.lastIngestTime ? next.lastIngestTime : current.lastIngestTime,
    count: current.count + next.count,
  };
}
