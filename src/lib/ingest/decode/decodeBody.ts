import { isUtf8 } from 'node:buffer';
import type { DecodedRecord } from '../types.js';
import { parseJsonSafely, DANGEROUS_KEY, dropDangerous } from './parseJsonSafely.js';
import { nestingDepth, scanEnvelopeBytes, scanTopLevel, TooManyRecords, type Span, type TopLevelSegment } from './scanJson.js';

/**
 * Turns one Event Hub message body into per-record results. Handles every shape Azure delivers:
 * - diagnostic settings / LA data export `{"records":[...]}` envelopes (also `Records`),
 * - a bare JSON array (Defender continuous export, Managed HSM docs), a single object,
 * - line-delimited or concatenated records, with junk lines (each junk run is its own unparseable record),
 * - Microsoft Graph `{"@odata.context":…,"value":[...]}` and Log Analytics query `{"tables":[{columns,rows}]}`
 *   (not hub payloads, but what operators paste into the CLI),
 * - bodies the Functions host already parsed (objects/arrays).
 * Every record carries its own original text when it can be cut out of the message.
 */
export interface DecodeLimits {
  /** Bodies larger than this are dead-lettered whole. Event Hubs caps a message at 1 MB (Premium/Dedicated: 1 MB+), so 8 MiB is generous. */
  maxBodyBytes: number;
  /**
   * A body holding more records is dead-lettered whole, undecoded. Decoding costs a few hundred bytes of heap per
   * record, so this bounds a message's cost whatever it is made of (1 MB of `{}` is 500,000 records). Azure's own
   * messages stay far below it: at least ~250 bytes a record puts a 1 MB message at ~4,000 records. A smaller body
   * gets a smaller limit (recordLimit).
   */
  maxRecords: number;
  /** A single record larger than this is dead-lettered. */
  maxRecordChars: number;
  maxDepth: number;
}
export const defaultDecodeLimits: DecodeLimits = { maxBodyBytes: 8 * 1024 * 1024, maxRecords: 20_000, maxRecordChars: 4 * 1024 * 1024, maxDepth: 64 };

/** Records any body may hold, however small (their decoding costs a few hundred KB of heap at most). */
const RECORDS_ANY_BODY = 256;
/** Beyond RECORDS_ANY_BODY, one record per this many bytes of body. */
const BYTES_PER_RECORD = 32;

/**
 * The record limit for a body of `bytes`: `maxRecords`, and no more than one record per BYTES_PER_RECORD bytes
 * beyond the first RECORDS_ANY_BODY. A record that fails to parse costs ~350 bytes of heap once decoded, and more
 * while it is (its parse error), so a 64 KB message of 3-byte records (`x1,x2,…` with one invalid byte) needed ~11 MiB
 * of heap, ~180× its size, past the 64× the pipeline promises (test/faults/ingestHeap.prop.test.ts); 16-byte junk
 * records still needed 64×. At one record per 32 bytes, 32-byte junk records measured ~16×. Azure's records are hundreds of
 * bytes each, so no message of theirs comes near this; a denser one is dead-lettered whole, with its bytes.
 */
export function recordLimit(limits: DecodeLimits, bytes: number): number {
  return Math.min(limits.maxRecords, Math.max(RECORDS_ANY_BODY, Math.floor(bytes / BYTES_PER_RECORD)));
}

function sizedLimits(limits: DecodeLimits, bytes: number): DecodeLimits {
  const maxRecords = recordLimit(limits, bytes);
  return maxRecords === limits.maxRecords ? limits : { ...limits, maxRecords };
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

export interface DecodedBody {
  /** The message's bytes exactly as received (or the UTF-8 of a string body / JSON of an object body); computed on demand. */
  bodyBytes(): Uint8Array;
  /** true when the bytes were not valid UTF-8: isolated record texts then are not byte-exact. */
  lossy: boolean;
  records: DecodedRecord[];
}

export function decodeBody(body: unknown, limits: DecodeLimits = defaultDecodeLimits): DecodedBody {
  try {
    return decodeAny(body, limits);
  } catch (e) {
    if (!(e instanceof TooManyRecords)) throw e;
    const bytes = body instanceof Uint8Array ? body : typeof body === 'string' ? Buffer.from(body, 'utf8') : undefined;
    const detail = `${e.message}: dead-lettered whole, undecoded (limit ${e.limit} records for a message of its size)`;
    return { bodyBytes: () => bytes ?? Buffer.from(safeJson(body), 'utf8'), lossy: false, records: [{ ok: false, detail, raw: '', isolated: false }] };
  }
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function decodeAny(body: unknown, bodyLimits: DecodeLimits): DecodedBody {
  if (body instanceof Uint8Array) {
    if (body.byteLength > bodyLimits.maxBodyBytes) return tooLarge(body, bodyLimits);
    const limits = sizedLimits(bodyLimits, body.byteLength);
    // isUtf8 is a native SIMD check: cheaper than scanning the decoded text for U+FFFD first.
    const lossy = !isUtf8(body);
    const records = lossy ? undefined : decodeEnvelopeBytes(body, limits);
    if (records) return { bodyBytes: () => body, lossy, records };
    const text = utf8.decode(body);
    // The decoder drops a BOM; with only ASCII after it, character offsets are byte offsets (shifted by the BOM).
    const bom = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0;
    const decoded = withByteSpans(decodeText(text, limits), !lossy && text.length + bom === body.byteLength, bom);
    if (lossy) keepLossyBytes(decoded);
    return { bodyBytes: () => body, lossy, records: decoded };
  }
  if (typeof body === 'string') {
    const bytes = Buffer.from(body, 'utf8');
    if (bytes.byteLength > bodyLimits.maxBodyBytes) return tooLarge(bytes, bodyLimits);
    const limits = sizedLimits(bodyLimits, bytes.byteLength);
    const bom = body.charCodeAt(0) === 0xfeff ? 1 : 0;
    const records = decodeText(bom ? body.slice(1) : body, limits);
    return { bodyBytes: () => bytes, lossy: false, records: withByteSpans(records, body.length === bytes.byteLength, 0) };
  }
  // Already parsed by the host: its size in bytes is unknown, and `maxRecords` alone applies.
  return decodeParsed(body, bodyLimits);
}

/**
 * The common case, `{"records":[…]}` or a bare array, decoded record by record from the bytes (see
 * scanEnvelopeBytes for why). Returns undefined — and the general path then handles the whole body — as soon as
 * anything is unusual, including a record that does not parse, so that path's salvage and repair rules stay the
 * only ones. Records that may name a prototype key are parsed through the same reviver as in parseJsonSafely.
 */
function decodeEnvelopeBytes(body: Uint8Array, limits: DecodeLimits): DecodedRecord[] | undefined {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const env = scanEnvelopeBytes(buf, limits.maxDepth, limits.maxRecordChars, limits.maxRecords);
  if (!env) return undefined;
  const out: DecodedRecord[] = [];
  for (let k = 0; k < env.starts.length; k++) {
    const raw = buf.toString('utf8', env.starts[k], env.ends[k]);
    let value: unknown;
    try {
      value = JSON.parse(raw, env.suspect[k] ? dropDangerous : undefined);
    } catch {
      return undefined;
    }
    out.push({ ok: true, value, raw, isolated: true, start: env.starts[k], end: env.ends[k] });
  }
  return out;
}

/**
 * A message that is not valid UTF-8 still maps, from text with U+FFFD where the invalid bytes were, so its events'
 * `raw_data` is not the bytes that arrived. Those records are labelled (`repaired:invalid-utf8`), and one more
 * outcome, failed, keeps the message's exact bytes in the dead-letter store.
 */
function keepLossyBytes(records: DecodedRecord[]): void {
  for (const r of records) if (r.ok && r.repaired === undefined && r.raw.includes('\uFFFD')) r.repaired = 'invalid-utf8';
  records.push({ ok: false, detail: 'message is not valid UTF-8: its records were decoded with U+FFFD for the invalid bytes; the exact bytes are kept with this dead letter', raw: '', isolated: false });
}

/** Keeps decodeText's character offsets as byte offsets when they are the same thing, else drops them. */
function withByteSpans(records: DecodedRecord[], ascii: boolean, shift: number): DecodedRecord[] {
  for (const r of records) {
    if (r.start === undefined || r.end === undefined) continue;
    if (ascii) {
      r.start += shift;
      r.end += shift;
    } else {
      // Cleared, not deleted: delete turns each record into a dictionary-mode object, about 3× its heap (a 64 KB
      // message of ~18,000 tiny records with one invalid byte held 11 MB instead of about 4).
      r.start = undefined;
      r.end = undefined;
    }
  }
  return records;
}

function tooLarge(bytes: Uint8Array, limits: DecodeLimits): DecodedBody {
  return {
    bodyBytes: () => bytes,
    lossy: false,
    records: [{ ok: false, detail: `message body of ${bytes.byteLength} bytes exceeds the ${limits.maxBodyBytes}-byte limit`, raw: '', isolated: false }],
  };
}

/** Text body: split into top-level values, expand envelopes, parse each record once. */
export function decodeText(text: string, limits: DecodeLimits = defaultDecodeLimits): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  const segments = scanTopLevel(text, { left: limits.maxRecords, limit: limits.maxRecords });
  const single = segments.length === 1;
  for (const seg of segments) {
    const segText = single && seg.start === 0 && seg.end === text.length ? text : text.slice(seg.start, seg.end);
    if (seg.kind === 'junk') {
      out.push({ ok: false, detail: `not JSON: ${JSON.stringify(segText.slice(0, 60))}`, raw: segText, isolated: true, start: seg.start, end: seg.end });
      continue;
    }
    // Fast path: the whole value is sane, parse it once and pair records with their scanned spans.
    if (seg.complete && seg.depth <= limits.maxDepth) {
      const parsed = parseJsonSafely(segText, limits.maxDepth, seg.depth);
      if (parsed.ok) {
        expand(parsed.value, text, seg, segText, out, limits, parsed.repaired);
        continue;
      }
      if (!seg.elements || seg.elements.length === 0) {
        out.push({ ok: false, detail: parsed.detail, raw: segText, isolated: !single, start: seg.start, end: seg.end });
        continue;
      }
    }
    // Slow path: the envelope is broken or too deep; salvage the records one by one.
    if (seg.elements && seg.elements.length > 0) {
      // Element spans are offsets into the whole text, not into the segment.
      let allParsed = true;
      for (const el of seg.elements) {
        const r = parseSpan(text, el, limits);
        allParsed &&= r.ok;
        out.push(r);
      }
      // What the salvage leaves out: other members of an object envelope, or (every record parsing, the envelope
      // not) whatever broke it. A failed record already keeps the message; otherwise one outcome more does.
      if (allParsed && seg.members !== undefined && (seg.members > 1 || seg.complete))
        out.push({ ok: false, detail: `envelope ${!seg.complete ? 'never closes (truncated)' : 'does not parse'} and holds more than its records: they were salvaged one by one, and the message is kept whole with this dead letter`, raw: '', isolated: false });
    } else {
      const detail = !seg.complete ? 'truncated JSON (value never closes)' : seg.depth > limits.maxDepth ? `nesting deeper than ${limits.maxDepth} levels` : 'record too large';
      out.push({ ok: false, detail, raw: segText, isolated: !single, start: seg.start, end: seg.end });
    }
  }
  return out;
}

// The offsets are written out rather than spread in: a spread adds them after the literal's own properties, outside
// the object, which costs heap on every salvaged record (a message may hold ~18,000 of them).
function parseSpan(text: string, el: Span, limits: DecodeLimits): DecodedRecord {
  const raw = text.slice(el.start, el.end);
  if (raw.length > limits.maxRecordChars) return { ok: false, detail: `record of ${raw.length} chars exceeds the ${limits.maxRecordChars}-char limit`, raw, isolated: true, start: el.start, end: el.end };
  const p = parseJsonSafely(raw, limits.maxDepth, el.depth);
  return p.ok ? { ok: true, value: p.value, raw, isolated: true, repaired: p.repaired, start: el.start, end: el.end } : { ok: false, detail: p.detail, raw, isolated: true, start: el.start, end: el.end };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Pairs parsed envelope records with their scanned spans (falls back to re-serializing when they disagree). */
function expand(value: unknown, text: string, seg: TopLevelSegment, segText: string, out: DecodedRecord[], limits: DecodeLimits, repaired: 'single-quotes' | undefined): void {
  const elements = seg.elements;
  let list: unknown[] | undefined;
  let listKey: string | undefined;
  if (Array.isArray(value)) list = value;
  else if (isObject(value)) {
    const recs = value.records ?? value.Records;
    if (Array.isArray(recs)) {
      list = recs;
      listKey = value.records !== undefined ? 'records' : 'Records';
    } else if (Array.isArray(value.value) && typeof value['@odata.context'] === 'string') {
      list = value.value;
      listKey = 'value';
    } else if (Array.isArray(value.tables)) {
      for (const row of laQueryRows(value.tables, limits.maxRecords)) out.push({ ok: true, value: row, raw: JSON.stringify(row), isolated: false });
      return;
    }
  }
  if (!list) {
    // A repaired record's text is still the original (its offsets hold); only the parse saw the repair.
    out.push(sized({ ok: true, value, raw: segText, isolated: true, repaired, start: seg.start, end: seg.end }, limits));
    return;
  }
  // What the list leaves out of the envelope: other members (Graph's own @odata.* aside), or a member written twice,
  // of which JSON.parse kept the last while the scanner cut its spans from the first.
  const keys = listKey !== undefined && isObject(value) ? Object.keys(value) : [];
  const extra = keys.filter((k) => k !== listKey && !(listKey === 'value' && k.startsWith('@odata.')));
  const repeated = listKey !== undefined && seg.members !== undefined && seg.members !== keys.length;
  // Spans are only trustworthy when the scanner saw exactly the parsed elements (repair shifts offsets).
  // With other members the scanner may have cut its spans from another array (it takes the first envelope key's).
  const spansOk = !repaired && !repeated && extra.length === 0 && elements !== undefined && elements.length === list.length;
  for (let i = 0; i < list.length; i++) {
    const el = spansOk ? elements[i]! : undefined;
    const raw = el ? text.slice(el.start, el.end) : JSON.stringify(list[i]) ?? 'null';
    out.push(sized(el ? { ok: true, value: list[i], raw, isolated: true, repaired, start: el.start, end: el.end } : { ok: true, value: list[i], raw, isolated: false, repaired }, limits));
  }
  if (repeated || extra.length > 0) {
    const what = repeated ? 'names a member more than once (JSON.parse keeps only the last)' : `holds members besides its records (${extra.slice(0, 5).join(', ')})`;
    out.push({ ok: false, detail: `envelope ${what}: the message is kept whole with this dead letter`, raw: '', isolated: false });
  }
}

function sized(r: DecodedRecord, limits: DecodeLimits): DecodedRecord {
  return r.raw.length > limits.maxRecordChars ? { ok: false, detail: `record of ${r.raw.length} chars exceeds the ${limits.maxRecordChars}-char limit`, raw: r.raw, isolated: r.isolated, start: r.start, end: r.end } : r;
}

/** Log Analytics query API `{"tables":[{"columns":[{name}],"rows":[[...]]}]}` → one object per row. */
function laQueryRows(tables: unknown[], maxRows: number): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const t of tables) {
    if (!isObject(t) || !Array.isArray(t.columns) || !Array.isArray(t.rows)) continue;
    if (rows.length + t.rows.length > maxRows) throw new TooManyRecords(maxRows);
    const names = t.columns.map((c) => (isObject(c) && typeof c.name === 'string' ? c.name : ''));
    for (const r of t.rows) {
      if (!Array.isArray(r)) continue;
      const o: Record<string, unknown> = {};
      names.forEach((n, i) => {
        if (n && n !== '__proto__' && n !== 'constructor' && n !== 'prototype') o[n] = r[i];
      });
      rows.push(o);
    }
  }
  return rows;
}

/** A body the Functions host already parsed: records are objects; their text is re-serialized once. */
function decodeParsed(body: unknown, limits: DecodeLimits): DecodedBody {
  let list: unknown[];
  if (Array.isArray(body)) list = body;
  else if (isObject(body) && Array.isArray(body.records ?? body.Records)) list = (body.records ?? body.Records) as unknown[];
  else if (isObject(body) && Array.isArray(body.value) && typeof body['@odata.context'] === 'string') list = body.value;
  else if (isObject(body) && Array.isArray(body.tables)) list = laQueryRows(body.tables, limits.maxRecords);
  else list = [body];
  if (list.length > limits.maxRecords) throw new TooManyRecords(limits.maxRecords);
  const records: DecodedRecord[] = [];
  const texts: string[] = [];
  for (const item of list) {
    let raw: string;
    try {
      raw = JSON.stringify(item) ?? String(item);
    } catch (e) {
      records.push({ ok: false, detail: `unserializable record: ${(e as Error).message.slice(0, 200)}`, raw: '', isolated: false });
      continue;
    }
    texts.push(raw);
    if (raw.length > limits.maxRecordChars) {
      records.push({ ok: false, detail: `record of ${raw.length} chars exceeds the ${limits.maxRecordChars}-char limit`, raw, isolated: true });
      continue;
    }
    // Host-parsed objects may carry own `__proto__` keys or absurd depth: re-parse those through the guards.
    if (DANGEROUS_KEY.test(raw) || nestingDepth(raw, limits.maxDepth) > limits.maxDepth) {
      const p = parseJsonSafely(raw, limits.maxDepth);
      records.push(p.ok ? { ok: true, value: p.value, raw, isolated: true } : { ok: false, detail: p.detail, raw, isolated: true });
    } else records.push({ ok: true, value: item, raw, isolated: true });
  }
  const bodyBytes = (): Uint8Array => {
    if (list.length === 1 && list[0] === body) return Buffer.from(texts[0] ?? '', 'utf8');
    try {
      return Buffer.from(JSON.stringify(body), 'utf8');
    } catch {
      return Buffer.from(texts.join('\n'), 'utf8');
    }
  };
  return { bodyBytes, lossy: false, records };
}
