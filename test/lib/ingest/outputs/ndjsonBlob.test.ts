import { execFileSync } from 'node:child_process';
import { crc32, gunzipSync, inflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NdjsonBlob } from '../../../../src/lib/ingest/outputs/ndjsonBlob.js';

/**
 * The event blob encoder: what it writes must be exactly the lines, newline-terminated, as plain NDJSON or as one
 * standard gzip member — checked with node's gunzip, with a raw inflate of the single member's body (a second member
 * would not inflate as part of the first), against its own CRC-32/length trailer, and with the system's `gzip -dc`.
 */
function encode(lines: readonly string[], level?: number): Buffer {
  const b = new NdjsonBlob(level === undefined ? { kind: 'none' } : { kind: 'gzip', level });
  for (const l of lines) b.addLine(l);
  return b.finish();
}
const ndjson = (lines: readonly string[]): Buffer => Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');

function expectOneGzipMember(gz: Buffer, expected: Buffer): void {
  expect([...gz.subarray(0, 3)]).toEqual([0x1f, 0x8b, 0x08]);
  expect(inflateRawSync(gz.subarray(10, gz.length - 8)).equals(expected)).toBe(true);
  expect(gz.readUInt32LE(gz.length - 8)).toBe(crc32(expected));
  expect(gz.readUInt32LE(gz.length - 4)).toBe(expected.length % 2 ** 32);
  expect(gunzipSync(gz).equals(expected)).toBe(true);
}

// Lines of a few KB, varied enough that deflate cannot collapse them: more than one 1 MiB deflate span in total.
const manyLines = Array.from({ length: 4000 }, (_, i) => JSON.stringify({ i, text: `record ${i} ${'ab€😀'.repeat(i % 50)}`, pad: (i * 7919).toString(36).repeat(100) }));

describe('NDJSON event blobs', () => {
  it('without compression writes each line and a newline, byte for byte (multi-byte characters included)', () => {
    const lines = ['{"a":1}', '{"s":"Grüße 日本語 😀"}', '{"e":"\\u00e9 \\"q\\""}'];
    expect(encode(lines).equals(ndjson(lines))).toBe(true);
  });

  it('with gzip writes one member holding exactly the lines, across several deflate spans', () => {
    const expected = ndjson(manyLines);
    expect(expected.length).toBeGreaterThan(2 * 1024 * 1024);
    for (const level of [1, 6, 9]) expectOneGzipMember(encode(manyLines, level), expected);
  });

  it('takes a line longer than its encoding buffer, and an empty blob is a valid empty member', () => {
    const big = JSON.stringify({ raw: 'x€'.repeat(100_000) });
    const lines = ['{"before":1}', big, '{"after":2}'];
    expect(encode(lines).equals(ndjson(lines))).toBe(true);
    expectOneGzipMember(encode(lines, 1), ndjson(lines));
    expectOneGzipMember(encode([], 1), Buffer.alloc(0));
  });

  it('is read back by the system gzip tool', () => {
    const out = execFileSync('gzip', ['-dc'], { input: encode(manyLines, 1), maxBuffer: 64 * 1024 * 1024 });
    expect(out.equals(ndjson(manyLines))).toBe(true);
  });

  it('keeps every finished blob intact while later blobs reuse the encoding buffers of earlier ones', () => {
    // Blobs interleaved the way a batch fills several (tenant, class, hour) groups; each blob's result is checked
    // after all of them were finished, so a buffer handed on to a later blob would show as changed bytes here.
    const lines = (tag: string, n: number): string[] => Array.from({ length: n }, (_, i) => JSON.stringify({ tag, i, pad: `${tag}${i}`.repeat(40 + (i % 30)) }));
    const specs = [
      { lines: lines('a', 3), level: undefined }, // one buffer, handed over as is
      { lines: lines('b', 900), level: undefined }, // several buffers, joined
      { lines: lines('c', 2500), level: 1 }, // more than one deflate span
      { lines: lines('d', 5), level: 1 },
      { lines: lines('e', 1200), level: undefined },
    ];
    const results: { blob: Buffer; expected: Buffer; gzip: boolean }[] = [];
    for (let round = 0; round < 3; round++) {
      const blobs = specs.map((s) => new NdjsonBlob(s.level === undefined ? { kind: 'none' } : { kind: 'gzip', level: s.level }));
      const longest = Math.max(...specs.map((s) => s.lines.length));
      for (let i = 0; i < longest; i++) specs.forEach((s, k) => i < s.lines.length && blobs[k]!.addLine(s.lines[i]!));
      blobs.forEach((b, k) => results.push({ blob: b.finish(), expected: ndjson(specs[k]!.lines), gzip: specs[k]!.level !== undefined }));
    }
    for (const r of results) expect((r.gzip ? gunzipSync(r.blob) : r.blob).equals(r.expected)).toBe(true);
  });

  it('round-trips any lines, compressed or not', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 3000 }), { maxLength: 60 }), fc.integer({ min: 1, max: 9 }), (lines, level) => {
        const expected = ndjson(lines);
        expect(encode(lines).equals(expected)).toBe(true);
        expect(gunzipSync(encode(lines, level)).equals(expected)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
