/**
 * A single-pass, allocation-light scanner over JSON-ish text. It does not parse: it finds where top-level
 * values start and end, where the elements of an envelope array (`records`, `value`) start and end, and how
 * deep each one nests. That lets decode cut each record's original text out of a message (for `raw_data`
 * and dead letters) and refuse over-deep input before `JSON.parse` recurses into it.
 * Only double-quoted strings are tracked; malformed input just yields odd spans, which the parse step rejects.
 */

const OPEN_OBJ = 0x7b; // {
const CLOSE_OBJ = 0x7d; // }
const OPEN_ARR = 0x5b; // [
const CLOSE_ARR = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * Index of the quote closing the string that opens at `open` (or text.length). Uses indexOf — most of a log's bytes
 * are inside strings, and a native search is far faster than a char loop there.
 */
function stringEnd(text: string, open: number): number {
  let j = text.indexOf('"', open + 1);
  while (j > 0) {
    let k = j - 1;
    while (text.charCodeAt(k) === BACKSLASH) k--;
    if ((j - 1 - k) % 2 === 0) return j; // an even run of backslashes: the quote is not escaped
    j = text.indexOf('"', j + 1);
  }
  return text.length;
}

export interface Span {
  start: number;
  end: number;
  /** Deepest nesting inside the span (1 = a flat object). */
  depth: number;
  /** false when the value never closed (truncated text). */
  complete: boolean;
}

export interface TopLevelSegment extends Span {
  kind: 'value' | 'junk';
  /** Element spans of the first `records`/`Records`/`value` array member of a top-level object, if any. */
  elements?: Span[] | undefined;
  /** Members of a top-level object as written (a repeated name counts twice: JSON.parse keeps only the last). */
  members?: number | undefined;
}

const ENVELOPE_KEYS = new Set(['records', 'Records', 'value']);

/** Thrown by the scanners when a message holds more records than the caller allows (decode stops right there). */
export class TooManyRecords extends Error {
  constructor(readonly limit: number) {
    super(`message holds more than ${limit} records`);
    this.name = 'TooManyRecords';
  }
}

/** Records left before a scan gives up: top-level segments and envelope elements each take one. */
export interface RecordBudget {
  left: number;
  readonly limit: number;
}
function spend(budget: RecordBudget | undefined): void {
  if (budget && --budget.left < 0) throw new TooManyRecords(budget.limit);
}

/**
 * Splits text into top-level JSON values (objects/arrays) and junk runs (anything else, up to a newline). With a
 * budget, throws TooManyRecords as soon as segments plus envelope elements exceed it.
 */
export function scanTopLevel(text: string, budget?: RecordBudget): TopLevelSegment[] {
  const out: TopLevelSegment[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === OPEN_OBJ || c === OPEN_ARR) {
      const seg = scanValue(text, i, budget);
      if (!seg.elements || seg.elements.length === 0) spend(budget);
      out.push(seg);
      i = seg.end;
      continue;
    }
    // Junk (a stray header line, YAML, a bare scalar…): up to the next line that starts a JSON value.
    let j = text.indexOf('\n', i);
    while (j >= 0) {
      let k = j + 1;
      while (k < n && (text.charCodeAt(k) === 0x20 || text.charCodeAt(k) === 0x09 || text.charCodeAt(k) === 0x0d)) k++;
      const d = text.charCodeAt(k);
      if (k >= n || d === OPEN_OBJ || d === OPEN_ARR) break;
      j = text.indexOf('\n', k);
    }
    if (j < 0) j = n;
    let e = j;
    while (e > i && isSpace(text.charCodeAt(e - 1))) e--;
    spend(budget);
    out.push({ kind: 'junk', start: i, end: e, depth: 0, complete: true });
    i = j;
  }
  return out;
}

/** Scans one object/array starting at `start`; collects the element spans of an envelope array member. */
function scanValue(text: string, start: number, budget: RecordBudget | undefined): TopLevelSegment {
  const n = text.length;
  const topIsObject = text.charCodeAt(start) === OPEN_OBJ;
  let depth = 0;
  let maxDepth = 0;
  let i = start;
  let lastStringStart = -1;
  let lastStringEnd = -1;
  // Envelope element capture (depth 2 inside the first matching array).
  let capturing = false;
  let captured = false;
  let elements: Span[] | undefined;
  let elStart = -1;
  let elMax = 0;
  let members = 0;
  // For a top-level array, its own elements are the records.
  if (!topIsObject) {
    capturing = true;
    elements = [];
  }
  const captureDepth = topIsObject ? 2 : 1;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const s = i;
      i = stringEnd(text, i);
      if (capturing && depth === captureDepth && elStart < 0) {
        elStart = s;
        elMax = depth;
      }
      lastStringStart = s + 1;
      lastStringEnd = i;
      i++;
      continue;
    }
    if (c === OPEN_OBJ || c === OPEN_ARR) {
      if (capturing && depth === captureDepth && elStart < 0) {
        elStart = i;
        elMax = depth;
      }
      if (topIsObject && depth === 1 && c === OPEN_ARR && !captured && lastStringStart >= 0) {
        const key = text.slice(lastStringStart, lastStringEnd);
        if (ENVELOPE_KEYS.has(key)) {
          capturing = true;
          elements = [];
        }
      }
      depth++;
      if (depth > maxDepth) maxDepth = depth;
      if (elStart >= 0 && depth > elMax) elMax = depth;
      i++;
      continue;
    }
    if (c === CLOSE_OBJ || c === CLOSE_ARR) {
      if (capturing && depth === captureDepth && elStart >= 0) {
        spend(budget);
        elements!.push(endElement(text, elStart, i, elMax - captureDepth));
        elStart = -1;
      }
      depth--;
      if (capturing && depth === captureDepth - 1 && topIsObject) {
        capturing = false;
        captured = true;
      }
      i++;
      if (depth <= 0) return { kind: 'value', start, end: i, depth: maxDepth, complete: depth === 0, elements, members: topIsObject ? members : undefined };
      continue;
    }
    if (capturing && depth === captureDepth) {
      if (c === COMMA) {
        if (elStart >= 0) {
          spend(budget);
          elements!.push(endElement(text, elStart, i, elMax - captureDepth));
        }
        elStart = -1;
      } else if (!isSpace(c) && elStart < 0) {
        elStart = i;
        elMax = depth;
      }
    }
    if (c === COLON && depth === 1) members++;
    i++;
  }
  // Truncated: keep the last element's text too, so the complete records before the cut are still salvaged.
  if (capturing && elStart >= 0) {
    spend(budget);
    elements!.push(endElement(text, elStart, n, elMax - captureDepth));
  }
  return { kind: 'value', start, end: n, depth: maxDepth, complete: false, elements, members: topIsObject ? members : undefined };
}

function endElement(text: string, s: number, e: number, depth: number): Span {
  let end = e;
  while (end > s && isSpace(text.charCodeAt(end - 1))) end--;
  return { start: s, end, depth, complete: true };
}

/** Maximum nesting depth of a JSON text (strings skipped). Stops counting past `cap`. */
export function nestingDepth(text: string, cap = Number.MAX_SAFE_INTEGER): number {
  let depth = 0;
  let max = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i);
    } else if (c === OPEN_OBJ || c === OPEN_ARR) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > cap) return max;
      }
    } else if (c === CLOSE_OBJ || c === CLOSE_ARR) depth--;
  }
  return max;
}

/** Element spans (byte offsets) of a body that is exactly one diagnostic-settings envelope; see scanEnvelopeBytes. */
export interface ByteEnvelope {
  starts: number[];
  ends: number[];
  /** Per element: it holds a string that is, or may decode to, `__proto__` / `constructor` / `prototype`. */
  suspect: boolean[];
}

function isSpaceByte(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function bytesEqual(b: Uint8Array, at: number, ascii: string): boolean {
  for (let k = 0; k < ascii.length; k++) if (b[at + k] !== ascii.charCodeAt(k)) return false;
  return true;
}

/**
 * Whether the string body b[s, e) is, or (through `\u` escapes) may decode to, a key the decoder must drop. Only a
 * `\uXXXX` escape can spell a letter or `_`, so an escaped spelling starts with the name's first letter or `\u`,
 * holds a `\u`, and takes at most 6 bytes per character.
 */
function maybePrototypeKey(b: Uint8Array, s: number, e: number): boolean {
  const len = e - s;
  if (len < 9 || len > 66) return false;
  const first = b[s];
  if (first !== 0x5f && first !== 0x63 && first !== 0x70 && !(first === BACKSLASH && b[s + 1] === 0x75)) return false;
  if (len === 9 && (bytesEqual(b, s, '__proto__') || bytesEqual(b, s, 'prototype'))) return true;
  if (len === 11 && bytesEqual(b, s, 'constructor')) return true;
  for (let k = s; k < e - 1; k++) if (b[k] === BACKSLASH && b[k + 1] === 0x75) return true;
  return false;
}

/**
 * The shape nearly every hub message has — `{"records":[…]}` (or `Records`) with nothing else, or a bare array of
 * records — scanned over the UTF-8 bytes, so each record can be decoded and parsed on its own: its text is then a
 * flat one-byte string unless the record itself holds non-Latin-1 characters (decoding the whole body makes every
 * record two-byte as soon as one character anywhere needs it, and leaves each record a slice pinning the body).
 *
 * Returns undefined for anything else, and for anything odd (an empty element, a trailing comma, a member besides
 * the records, trailing bytes, nesting deeper than `maxDepth`, a record over `maxRecordBytes`): the general string
 * path then decides, exactly as before. Throws TooManyRecords past `maxRecords` elements. When this returns spans
 * and every element parses, the body is valid JSON: the envelope grammar is checked here and each element is
 * checked by its own parse.
 *
 * The caller must first check that the bytes are valid UTF-8 (continuation bytes are ≥ 0x80, so no structural
 * character is ever misread inside a multi-byte sequence).
 */
export function scanEnvelopeBytes(b: Buffer, maxDepth: number, maxRecordBytes: number, maxRecords = Number.POSITIVE_INFINITY): ByteEnvelope | undefined {
  const n = b.length;
  let i = n >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  while (i < n && isSpaceByte(b[i])) i++;
  let captureDepth: number;
  if (b[i] === OPEN_ARR) {
    captureDepth = 1;
    i++;
  } else if (b[i] === OPEN_OBJ) {
    i++;
    while (i < n && isSpaceByte(b[i])) i++;
    if (b[i] !== QUOTE || (b[i + 1] !== 0x72 && b[i + 1] !== 0x52) || !bytesEqual(b, i + 2, 'ecords"')) return undefined;
    i += 9;
    while (i < n && isSpaceByte(b[i])) i++;
    if (b[i] !== 0x3a) return undefined;
    i++;
    while (i < n && isSpaceByte(b[i])) i++;
    if (b[i] !== OPEN_ARR) return undefined;
    i++;
    captureDepth = 2;
  } else return undefined;

  const starts: number[] = [];
  const ends: number[] = [];
  const suspect: boolean[] = [];
  let depth = captureDepth;
  let deepest = depth;
  let elStart = -1;
  let flagged = false;
  let closed = false;
  while (i < n) {
    const c = b[i]!;
    if (c === QUOTE) {
      if (elStart < 0) elStart = i;
      // Most of a log's bytes are inside strings; Buffer#indexOf (native) beats a byte loop there.
      let j = b.indexOf(QUOTE, i + 1);
      while (j > 0 && b[j - 1] === BACKSLASH) {
        let k = j - 2;
        while (b[k] === BACKSLASH) k--;
        if ((j - 1 - k) % 2 === 0) break; // an even run of backslashes: the quote is not escaped
        j = b.indexOf(QUOTE, j + 1);
      }
      if (j < 0) return undefined;
      if (!flagged && maybePrototypeKey(b, i + 1, j)) flagged = true;
      i = j + 1;
      continue;
    }
    if (c === OPEN_OBJ || c === OPEN_ARR) {
      if (elStart < 0) elStart = i;
      if (++depth > deepest) deepest = depth;
      i++;
      continue;
    }
    if (c === CLOSE_OBJ || c === CLOSE_ARR) {
      if (depth > captureDepth) {
        depth--;
        i++;
        continue;
      }
      if (c !== CLOSE_ARR) return undefined;
      if (elStart < 0 && starts.length > 0) return undefined; // trailing comma
      closed = true;
    } else if (depth === captureDepth) {
      if (c === COMMA) {
        if (elStart < 0) return undefined;
      } else {
        if (elStart < 0 && !isSpaceByte(c)) elStart = i;
        i++;
        continue;
      }
    } else {
      i++;
      continue;
    }
    // An element ends here (at a comma or at the closing bracket).
    if (elStart >= 0) {
      let e = i;
      while (e > elStart && isSpaceByte(b[e - 1])) e--;
      if (e - elStart > maxRecordBytes) return undefined;
      if (starts.length >= maxRecords) throw new TooManyRecords(maxRecords);
      starts.push(elStart);
      ends.push(e);
      suspect.push(flagged);
      elStart = -1;
      flagged = false;
    }
    i++;
    if (closed) break;
  }
  if (!closed || deepest > maxDepth) return undefined;
  while (i < n && isSpaceByte(b[i])) i++;
  if (captureDepth === 2) {
    if (b[i] !== CLOSE_OBJ) return undefined;
    i++;
    while (i < n && isSpaceByte(b[i])) i++;
  }
  return i === n ? { starts, ends, suspect } : undefined;
}
