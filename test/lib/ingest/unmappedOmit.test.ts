import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateOcsfEvent } from '../../../src/lib/ingest/ocsf/validate.js';
import { goldenInputs, runGolden } from '../../support/ingestGolden.js';

/**
 * MDR_INGEST_UNMAPPED=omit (README "Ingest output"): every event is the default event without `unmapped`, and
 * `raw_data` still holds the record's whole text, so what `unmapped` carried is still there. Checked on every golden
 * input (the fixtures are public Azure samples, test/fixtures/SOURCES.md).
 */
const inputs = goldenInputs().map((c) => c.path);

describe('MDR_INGEST_UNMAPPED=omit', () => {
  it('leaves only `unmapped` out of each event, keeps raw_data whole, and the events still validate', async () => {
    let withUnmapped = 0;
    let events = 0;
    for (const path of inputs) {
      const body = readFileSync(path);
      const kept = await runGolden(body);
      const omitted = await runGolden(body, undefined, 'omit');
      expect(omitted.deadLetters, path).toEqual(kept.deadLetters);
      expect(omitted.events.length, path).toBe(kept.events.length);
      kept.events.forEach((ev, i) => {
        const o = omitted.events[i]!;
        if (ev.unmapped !== undefined) withUnmapped++;
        expect(o.unmapped, path).toBeUndefined();
        expect(JSON.parse(JSON.stringify(o)), path).toEqual(JSON.parse(JSON.stringify({ ...ev, unmapped: undefined })));
        expect(o.raw_data, path).toBe(ev.raw_data);
        // What `unmapped` carried is in raw_data: each of its top-level keys is a key of the raw record.
        for (const k of Object.keys(ev.unmapped ?? {})) expect(o.raw_data, `${path}: ${k}`).toContain(JSON.stringify(k).slice(0, -1));
        expect(validateOcsfEvent(o).ok, path).toBe(true);
      });
      events += kept.events.length;
    }
    expect(events).toBeGreaterThan(50);
    // The comparison means something only if the default keeps `unmapped` on many events.
    expect(withUnmapped).toBeGreaterThan(events / 2);
  });
});
