import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateOcsfEvent } from '../src/lib/ingest/ocsf/validate.js';
import { GOLDEN_ROOT, GOLDEN_SOURCES, goldenInputs, runGolden } from './support/ingestGolden.js';

/**
 * Golden tests: every ingest fixture (test/fixtures/<source>/, see SOURCES.md) is fed as one Event Hub message
 * body and the output (events + dead letters) must equal `<file>.expected.json`. `UPDATE_GOLDEN=1` rewrites them
 * (review the diff by eye). Every event must also validate against OCSF 1.8.0.
 */
const SOURCES = GOLDEN_SOURCES;
const root = GOLDEN_ROOT;
const update = process.env.UPDATE_GOLDEN === '1';

const cases = goldenInputs();

describe('golden fixtures', () => {
  it('covers every source folder with at least one input', () => {
    for (const s of SOURCES) expect(cases.some((c) => c.source === s), s).toBe(true);
  });

  it('has no expected file without its input', () => {
    const orphans = SOURCES.flatMap((s) =>
      readdirSync(join(root, s))
        .filter((f) => f.endsWith('.expected.json') && !existsSync(join(root, s, f.slice(0, -'.expected.json'.length))))
        .map((f) => `${s}/${f}`),
    );
    expect(orphans).toEqual([]);
  });

  for (const c of cases) {
    it(`normalizes ${c.source}/${c.file} to its expected OCSF output`, async () => {
      const out = await runGolden(readFileSync(c.path));
      const expectedPath = `${c.path}.expected.json`;
      const actual = JSON.parse(JSON.stringify(out)) as unknown;
      if (update) writeFileSync(expectedPath, `${JSON.stringify(actual, null, 2)}\n`);
      expect(existsSync(expectedPath), `missing ${expectedPath} (run with UPDATE_GOLDEN=1 and review it)`).toBe(true);
      expect(actual).toEqual(JSON.parse(readFileSync(expectedPath, 'utf8')));
      expect(out.records).toBe(out.events.length + out.deadLetters.length);
      for (const ev of out.events) {
        const v = validateOcsfEvent(ev);
        expect(v.errors, `${ev.class_name as string} ${ev.metadata.uid}`).toEqual([]);
      }
    });
  }
});
