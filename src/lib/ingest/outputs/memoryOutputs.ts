import type { DeadLetter } from '../types.js';
import type { EventBatch, IngestOutputs } from '../handleIngestBatch.js';

/** In-memory outputs for the CLI and tests; `failNext` makes the next write throw (output-failure tests). */
export interface MemoryOutputs extends IngestOutputs {
  batches: EventBatch[];
  deadLetters: DeadLetter[];
  failNext: { events?: Error; deadLetters?: Error };
}

export function createMemoryOutputs(): MemoryOutputs {
  const o: MemoryOutputs = {
    batches: [],
    deadLetters: [],
    failNext: {},
    writeEvents(batch) {
      const err = o.failNext.events;
      if (err) {
        delete o.failNext.events;
        return Promise.reject(err);
      }
      o.batches.push(batch);
      return Promise.resolve();
    },
    writeDeadLetters(dls) {
      const err = o.failNext.deadLetters;
      if (err) {
        delete o.failNext.deadLetters;
        return Promise.reject(err);
      }
      o.deadLetters.push(...dls);
      return Promise.resolve();
    },
  };
  return o;
}

/** Fans one write out to several outputs (e.g. blob + Event Hub); all must succeed. */
export function combineOutputs(events: Pick<IngestOutputs, 'writeEvents'>[], deadLetters: Pick<IngestOutputs, 'writeDeadLetters'>): IngestOutputs {
  return {
    async writeEvents(batch) {
      await Promise.all(events.map((o) => o.writeEvents(batch)));
    },
    writeDeadLetters: (dls) => deadLetters.writeDeadLetters(dls),
  };
}
