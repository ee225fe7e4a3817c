import type { OcsfEvent } from '../types.js';
import { writeEventBatch, type EventBatch, type EventWriter, type IngestOutputs } from '../handleIngestBatch.js';

/**
 * Event Hub output through a Functions `output.eventHub` binding: the thin adapter sets the binding value
 * (`context.extraOutputs.set(output, events)`); the host sends one event per array element after the function
 * returns. Functions types stay out of the core: the setter is injected.
 * Several batches written in one invocation accumulate (the binding holds one value per invocation).
 *
 * Event Hubs rejects events over 1 MB, and a rejected send fails the invocation on every retry. An event that would
 * exceed `maxEventBytes` is sent with `raw_data` cut short and `metadata.is_truncated`/`untruncated_size` set
 * (OCSF's own truncation markers); the blob output always keeps the full event.
 */
export type SetOutput = (events: OcsfEvent[]) => void;

export const DEFAULT_MAX_EVENT_BYTES = 900 * 1024;

export function fitEventForEventHub(ev: OcsfEvent, maxEventBytes = DEFAULT_MAX_EVENT_BYTES): OcsfEvent {
  const raw = typeof ev.raw_data === 'string' ? ev.raw_data : '';
  // Cheap pre-check: only large raw records can push an event near the limit.
  if (raw.length * 3 < maxEventBytes / 2) return ev;
  const size = Buffer.byteLength(JSON.stringify(ev), 'utf8');
  if (size <= maxEventBytes) return ev;
  const rest = size - Buffer.byteLength(JSON.stringify(raw), 'utf8');
  const budget = Math.max(0, Math.floor((maxEventBytes - rest - 1024) / 2));
  return {
    ...ev,
    raw_data: raw.slice(0, budget),
    metadata: { ...ev.metadata, is_truncated: true, untruncated_size: size },
  };
}

/** The Event Hub output of one invocation. Events stay objects: the host binding serializes them. */
export function createEventHubOutput(set: SetOutput, maxEventBytes = DEFAULT_MAX_EVENT_BYTES): Pick<IngestOutputs, 'openEvents'> & { writeEvents(batch: EventBatch): Promise<void> } {
  const all: OcsfEvent[] = [];
  const openEvents = (): EventWriter => {
    let taken: OcsfEvent[] = [];
    return {
      write: (ev) => void taken.push(fitEventForEventHub(ev, maxEventBytes)),
      end() {
        for (const ev of taken) all.push(ev);
        set(all);
        return Promise.resolve();
      },
      abort: () => void (taken = []),
    };
  };
  return { openEvents, writeEvents: (batch) => writeEventBatch({ openEvents }, batch) };
}
