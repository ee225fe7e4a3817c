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
}

const ENVELOPE_KEYS = new Set(['records', 'Records', 'value']);

/** Splits text into top-level JSON values (objects/arrays) and junk runs (anything else, up to a newline). */
export function scanTopLevel(text: string): TopLevelSegment[] {
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
      const seg = scanValue(text, i);
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
    out.push({ kind: 'junk', start: i, end: e, depth: 0, complete: true });
    i = j;
  }
  return out;
}

/** Scans one object/array starting at `start`; collects the element spans of an envelope array member. */
function scanValue(text: string, start: number): TopLevelSegment {
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
        elements!.push(endElement(text, elStart, i, elMax - captureDepth));
        elStart = -1;
      }
      depth--;
      if (capturing && depth === captureDepth - 1 && topIsObject) {
        capturing = false;
        captured = true;
      }
      i++;
      if (depth <= 0) return { kind: 'value', start, end: i, depth: maxDepth, complete: depth === 0, elements };
      continue;
    }
    if (capturing && depth === captureDepth) {
      if (c === COMMA) {
        if (elStart >= 0) elements!.push(endElement(text, elStart, i, elMax - captureDepth));
        elStart = -1;
      } else if (!isSpace(c) && elStart < 0) {
        elStart = i;
        elMax = depth;
      }
    }
    i++;
  }
  // Truncated: keep the last element's text too, so the complete records before the cut are still salvaged.
  if (capturing && elStart >= 0) elements!.push(endElement(text, elStart, n, elMax - captureDepth));
  return { kind: 'value', start, end: n, depth: maxDepth, complete: false, elements };
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
