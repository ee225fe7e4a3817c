import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBody, decodeText, defaultDecodeLimits, recordLimit } from '../../../../src/lib/ingest/decode/decodeBody.js';
import type { DecodedRecord } from '../../../../src/lib/ingest/types.js';
import { repairSingleQuotes } from '../../../../src/lib/ingest/decode/repairSingleQuotes.js';

const ok = (r: ReturnType<typeof decodeBody>['records'][number]) => (r.ok ? r.value : undefined);

describe('decodeBody', () => {
  it('splits a records envelope and keeps each record’s original text (whitespace and all)', () => {
    const text = '{ "records": [ {"a": 1,  "s": "x]},{"} , {"b":[2,{"c":3}]} ] }';
    const d = decodeBody(Buffer.from(text));
    expect(d.records.map(ok)).toEqual([{ a: 1, s: 'x]},{' }, { b: [2, { c: 3 }] }]);
    expect(d.records.map((r) => r.raw)).toEqual(['{"a": 1,  "s": "x]},{"}', '{"b":[2,{"c":3}]}']);
    expect(d.records.every((r) => r.isolated)).toBe(true);
  });

  it('handles escaped quotes and backslashes inside strings when cutting records', () => {
    const text = String.raw`{"records":[{"p":"C:\\dir\\","q":"say \"hi\""},{"r":1}]}`;
    const d = decodeBody(text);
    expect(d.records.map(ok)).toEqual([{ p: 'C:\\dir\\', q: 'say "hi"' }, { r: 1 }]);
    expect(d.records[1]!.raw).toBe('{"r":1}');
  });

  it('decodes line-delimited records and isolates a bad line without losing its neighbours', () => {
    const d = decodeBody('{"a":1}\n{"b":oops}\n{"c":3}\n');
    expect(d.records.map((r) => r.ok)).toEqual([true, false, true]);
    expect(d.records[1]!.raw).toBe('{"b":oops}');
  });

  it('salvages the good records of an envelope whose JSON is broken', () => {
    const d = decodeBody('{"records":[{"a":1},{"b":nope},{"c":3}]}');
    expect(d.records.map(ok)).toEqual([{ a: 1 }, undefined, { c: 3 }]);
  });

  it('repairs single-quoted pseudo-JSON and says so', () => {
    const d = decodeBody(`{"category":"FunctionAppLogs","properties":{'appName':'x','n':2,'msg':'it''s'}}`);
    // unrepairable ('' inside) stays unparseable rather than guessing
    expect(d.records[0]!.ok).toBe(false);
    const e = decodeBody(`{"category":"FunctionAppLogs","properties":{'appName':'x','n':2,'q':'say "hi"'}}`);
    expect(e.records[0]).toMatchObject({ ok: true, repaired: 'single-quotes', value: { properties: { appName: 'x', n: 2, q: 'say "hi"' } } });
    expect(repairSingleQuotes(`{"a":"don't"}`)).toBeUndefined();
  });

  it('treats a junk line before a record as its own unparseable record', () => {
    const d = decodeBody('Content\n{\n  "time": "2023-12-12T12:12:19Z"\n}');
    expect(d.records.map((r) => r.ok)).toEqual([false, true]);
    expect(d.records[0]!.raw).toBe('Content');
  });

  it('expands bare arrays, Graph value lists and Log Analytics query tables', () => {
    expect(decodeBody('[{"a":1},{"b":2}]').records.map(ok)).toEqual([{ a: 1 }, { b: 2 }]);
    expect(decodeBody('{"@odata.context":"x","value":[{"id":"1"}]}').records.map(ok)).toEqual([{ id: '1' }]);
    expect(decodeBody('{"tables":[{"columns":[{"name":"A"},{"name":"__proto__"}],"rows":[[1,2],[3,4]]}]}').records.map(ok)).toEqual([{ A: 1 }, { A: 3 }]);
  });

  it('accepts bodies the Functions host already parsed', () => {
    const d = decodeBody({ records: [{ a: 1 }, { b: 2 }] });
    expect(d.records.map((r) => r.raw)).toEqual(['{"a":1}', '{"b":2}']);
    expect(decodeBody([{ a: 1 }]).records.map(ok)).toEqual([{ a: 1 }]);
  });

  it('drops prototype-pollution keys from text and from host-parsed objects', () => {
    const d = decodeBody('{"records":[{"__proto__":{"x":1},"constructor":{"prototype":{"y":1}},"ok":1}]}');
    const v = ok(d.records[0]!) as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(['ok']);
    const parsed = JSON.parse('{"__proto__":{"x":1},"ok":2}') as unknown;
    expect(Object.keys(ok(decodeBody(parsed).records[0]!) as object)).toEqual(['ok']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('survives invalid UTF-8 and keeps the original bytes for dead letters', () => {
    const bytes = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    const d = decodeBody(bytes);
    expect(d.lossy).toBe(true);
    expect(d.records[0]!.ok).toBe(true);
    expect(Buffer.from(d.bodyBytes()).equals(bytes)).toBe(true);
  });

  it('refuses over-deep nesting, truncated values and oversized bodies as unparseable', () => {
    expect(decodeBody(`${'['.repeat(70)}${']'.repeat(70)}`).records[0]).toMatchObject({ ok: false, detail: expect.stringContaining('nesting') });
    expect(decodeBody('{"records":[{"a":1}').records.map((r) => r.ok)).toEqual([true]);
    expect(decodeBody('{"a":').records[0]).toMatchObject({ ok: false, detail: expect.stringContaining('truncated') });
    expect(decodeBody('x'.repeat(100), { ...defaultDecodeLimits, maxBodyBytes: 10 }).records[0]).toMatchObject({ ok: false, detail: expect.stringContaining('exceeds') });
  });

  it('dead-letters a message with more records than the limit whole, however the records are framed', () => {
    const limits = { ...defaultDecodeLimits, maxRecords: 3 };
    const bodies = ['{"records":[{},{},{},{}]}', '[{},{},{},{}]', '{}{}{}{}', '{}\nx\n{}\ny', '{"records":[{},{},{},{}]', '{"tables":[{"columns":[{"name":"a"}],"rows":[[1],[2],[3],[4]]}]}'];
    for (const b of [...bodies.map((t) => Buffer.from(t)), ...bodies, JSON.parse(bodies[0]!) as unknown]) {
      const d = decodeBody(b, limits);
      expect(d.records, String(b)).toEqual([{ ok: false, detail: expect.stringContaining('more than 3 records'), raw: '', isolated: false }]);
    }
    // At the limit, decoding goes on as usual.
    expect(decodeBody(Buffer.from('{"records":[{},{},{}]}'), limits).records).toHaveLength(3);
    expect(decodeBody('{}\nx\n{}', limits).records).toHaveLength(3);
  });

  it('allows one record per 32 bytes beyond the first 256, so a body of tiny records cannot cost more heap than its size allows', () => {
    expect(recordLimit(defaultDecodeLimits, 100)).toBe(256);
    expect(recordLimit(defaultDecodeLimits, 64 * 1024)).toBe(2_048);
    expect(recordLimit(defaultDecodeLimits, 1024 * 1024)).toBe(20_000);
    // The property test's counterexample: a 64 KB array of 3-byte records with one invalid byte, cut short.
    const tiny = Buffer.concat([Buffer.from('["s\xff0"'), Buffer.from(Array.from({ length: 17_000 }, (_, i) => `,x${i % 10}`).join(''))]);
    tiny[3] = 0xff;
    const d = decodeBody(tiny);
    expect(d.records).toEqual([{ ok: false, detail: expect.stringContaining(`more than ${recordLimit(defaultDecodeLimits, tiny.byteLength)} records`), raw: '', isolated: false }]);
    expect(Buffer.from(d.bodyBytes()).equals(tiny)).toBe(true);
    // Up to the floor, tiny records are still decoded one by one, whatever the body's size.
    const floor = Buffer.from(`[${Array.from({ length: 256 }, () => '1').join(',')}]`);
    expect(decodeBody(floor).records).toHaveLength(256);
    expect(decodeBody(floor.toString('utf8')).records).toHaveLength(256);
    expect(decodeBody(Buffer.from(`[${Array.from({ length: 257 }, () => '1').join(',')}]`)).records).toEqual([expect.objectContaining({ ok: false, detail: expect.stringContaining('more than 256 records') })]);
  });

  it('cuts records out of envelopes that do not start the body (leading whitespace, several envelopes)', () => {
    const text = '  \n {"records":[{"a":1}, {"b":2}]}\n{"records":[{"c":3}]}';
    for (const d of [decodeBody(Buffer.from(text)), decodeBody(text)]) expect(d.records.map((r) => r.raw)).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
    expect(decodeBody(Buffer.from(' \t{ "records" : [ {"a":1} ] } \n')).records[0]!.raw).toBe('{"a":1}');
  });

  it('drops prototype keys however they are spelled', () => {
    const text = String.raw`{"records":[{"\u005f_proto__":{"x":1},"\u0063onstructor":1,"ok":1}]}`;
    // The byte path (an envelope) and the text path (the same records as lines) both drop them.
    for (const d of [decodeBody(Buffer.from(text)), decodeBody(text.slice(12, -2))]) expect(Object.keys(ok(d.records[0]!) as object)).toEqual(['ok']);
  });

  // The byte path (decodeEnvelopeBytes) handles the common envelope shapes; everything else takes the text path.
  // Whichever path a body takes, the records must be the same.
  it('decodes an envelope from bytes exactly as from text', () => {
    const record = fc.oneof(
      fc.dictionary(fc.string({ unit: fc.constantFrom('a', 'é', '–', '"', '\\', '{', ']', ',', ' ', '\n', '😀') }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
      fc.jsonValue({ maxDepth: 3 }),
    );
    const space = fc.constantFrom('', ' ', '\n', '\r\n  ', '\t');
    const body = fc.tuple(fc.array(fc.tuple(record, space, space), { maxLength: 5 }), space, fc.constantFrom('records', 'Records', 'array', 'value'), fc.boolean()).map(([recs, ws, shape, pretty]) => {
      const items = recs.map(([r, a, b]) => `${a}${JSON.stringify(r, null, pretty ? 2 : undefined)}${b}`).join(',');
      const inner = `[${items}]`;
      return `${ws}${shape === 'array' ? inner : `{${ws}"${shape}"${ws}:${ws}${inner}${ws}}`}${ws}`;
    });
    fc.assert(
      fc.property(body, (text) => {
        const bytes = Buffer.from(text, 'utf8');
        const fromBytes = decodeBody(bytes).records;
        // Offsets differ by nature (bytes vs characters); each must cut out exactly the record's text.
        for (const r of fromBytes) if (r.start !== undefined) expect(bytes.subarray(r.start, r.end).toString('utf8')).toBe(r.raw);
        for (const r of decodeText(text)) if (r.start !== undefined) expect(text.slice(r.start, r.end)).toBe(r.raw);
        const noSpans = (rs: DecodedRecord[]) => rs.map(({ start: _s, end: _e, ...r }) => r);
        expect(noSpans(fromBytes)).toEqual(noSpans(decodeText(text)));
      }),
      { numRuns: 300 },
    );
  });
});

