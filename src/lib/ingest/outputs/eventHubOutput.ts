import type { OcsfEvent } from '../types.js';
import { writeEventBatch, type EventBatch, type EventWriter, type IngestOutputs } from '../handleIngestBatch.js';

/**
 * Event Hub output through a Functions `output.eventHub` binding: the thin adapter sets the binding value
 * (`context.extraOutputs.set(output, events)`); the host sends one event per array element after the function
 * returns. Functions types stay out of the core: the setter is injected.
 * Several batches written in one invocation accumulate (the binding holds one value per invocation).
 *
 * Event Hubs rejects events over 1 MB, and a rejected send fails the invocation on every retry. An event that would
 * exceed `maxEventBytes` is sent smaller (fitEventForEventHub) with `metadata.is_truncated`/`untruncated_size` set
 * (OCSF's own truncation markers); the blob output always keeps the full event.
 */
export type SetOutput = (events: OcsfEvent[]) => void;

export const DEFAULT_MAX_EVENT_BYTES = 900 * 1024;

/** Attributes an event keeps whatever it must shed: what identifies it and its class (OCSF base event). */
const KEPT = new Set(['class_uid', 'class_name', 'category_uid', 'category_name', 'activity_id', 'activity_name', 'type_uid', 'type_name', 'severity_id', 'severity', 'time', 'metadata', 'cloud', 'status_id', 'status']);

const bytesOf = (v: unknown): number => Buffer.byteLength(JSON.stringify(v), 'utf8');

/** The longest prefix of `text` whose JSON string form takes at most `budget` UTF-8 bytes (whole characters only). */
function cutToBytes(text: string, budget: number): string {
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (bytesOf(text.slice(0, mid)) <= budget) lo = mid;
    else hi = mid - 1;
  }
  // Never end on the first half of a surrogate pair.
  const c = text.charCodeAt(lo - 1);
  return c >= 0xd800 && c <= 0xdbff ? text.slice(0, lo - 1) : text.slice(0, lo);
}

/**
 * `ev` as it may be sent: under `maxEventBytes` in UTF-8, measured (every attribute may be large: `unmapped` and the
 * mapped copies of a record's fields, and non-ASCII text takes up to 3 bytes a character). Over it, in this order:
 * `unmapped` goes (it repeats fields of `raw_data`), `raw_data` is cut to what fits, then the largest attributes
 * other than the class, time and metadata go; `metadata.is_truncated`/`untruncated_size` say so.
 */
export function fitEventForEventHub(ev: OcsfEvent, maxEventBytes = DEFAULT_MAX_EVENT_BYTES): OcsfEvent {
  const json = JSON.stringify(ev);
  // A UTF-16 unit takes at most 3 UTF-8 bytes: below this no measuring is needed.
  if (json.length * 3 <= maxEventBytes) return ev;
  const size = Buffer.byteLength(json, 'utf8');
  if (size <= maxEventBytes) return ev;
  const out: OcsfEvent = { ...ev, metadata: { ...ev.metadata, is_truncated: true, untruncated_size: size } };
  delete out.unmapped;
  if (bytesOf(out) <= maxEventBytes) return out;
  const raw = typeof out.raw_data === 'string' ? out.raw_data : '';
  out.raw_data = '';
  const budget = maxEventBytes - bytesOf(out) - 64;
  if (budget > 0) {
    out.raw_data = cutToBytes(raw, budget);
    if (bytesOf(out) <= maxEventBytes) return out;
  }
  // The mapped attributes alone are over the limit: shed the largest until it fits.
  const sheddable = Object.keys(out)
    .filter((k) => !KEPT.has(k))
    .sort((a, b) => bytesOf(out[b]) - bytesOf(out[a]));
  for (const k of sheddable) {
    delete out[k];
    if (bytesOf(out) <= maxEventBytes) return out;
  }
  return out;
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
