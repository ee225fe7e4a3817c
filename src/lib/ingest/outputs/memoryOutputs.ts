import type { DeadLetter, OcsfEvent } from '../types.js';
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
    openEvents(info) {
      let events: OcsfEvent[] = [];
      return {
        write: (ev) => void events.push(ev),
        end(batchId) {
          const err = o.failNext.events;
          if (err) {
            delete o.failNext.events;
            return Promise.reject(err);
          }
          o.batches.push({ ...info, batchId, events });
          return Promise.resolve();
        },
        abort: () => void (events = []),
      };
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

/** Fans one batch's events out to several outputs (e.g. blob + Event Hub); all must succeed. */
export function combineOutputs(events: Pick<IngestOutputs, 'openEvents'>[], deadLetters: Pick<IngestOutputs, 'writeDeadLetters'>): IngestOutputs {
  return {
    openEvents(info) {
      const writers = events.map((o) => o.openEvents(info));
      return {
        write: (ev) => writers.forEach((w) => w.write(ev)),
        async end(batchId) {
          await Promise.all(writers.map((w) => w.end(batchId)));
        },
        abort: () => writers.forEach((w) => w.abort()),
      };
    },
    writeDeadLetters: (dls) => deadLetters.writeDeadLetters(dls),
  };
}
