import { nestingDepth } from './scanJson.js';
import { repairSingleQuotes } from './repairSingleQuotes.js';

/**
 * JSON.parse with the guards untrusted hub payloads need:
 * - nesting deeper than `maxDepth` is refused before V8 recurses into it;
 * - keys that could poison prototypes (`__proto__`, `constructor`, `prototype`, also spelled with `\u` escapes) are
 *   dropped. JSON.parse itself only creates them as own data properties, but any later spread/merge would act on
 *   them, so they never leave decode. The reviver (slow) runs only when the text may contain one of those keys.
 * - on failure, one repair is tried: Azure's single-quoted pseudo-JSON (`{'appName':'x'}`, FunctionAppLogs).
 */
export const DANGEROUS_KEY = /"(?:__proto__|constructor|prototype)"\s*:/;
/** A `\u` escape of `_` or a lower-case letter: a key spelled with escapes may decode to one of the above. */
const ESCAPED_LETTER = /\\u00(?:5[fF]|[67][0-9a-fA-F])/;

export function dropDangerous(this: unknown, key: string, value: unknown): unknown {
  return key === '__proto__' || key === 'constructor' || key === 'prototype' ? undefined : value;
}

export type SafeParse = { ok: true; value: unknown; repaired?: 'single-quotes' } | { ok: false; detail: string };

export function parseJsonSafely(text: string, maxDepth = 64, depthKnown?: number): SafeParse {
  const depth = depthKnown ?? nestingDepth(text, maxDepth);
  if (depth > maxDepth) return { ok: false, detail: `nesting deeper than ${maxDepth} levels` };
  const reviver = DANGEROUS_KEY.test(text) || ESCAPED_LETTER.test(text) ? dropDangerous : undefined;
  try {
    return { ok: true, value: JSON.parse(text, reviver) as unknown };
  } catch (e) {
    const repaired = repairSingleQuotes(text);
    if (repaired !== undefined) {
      try {
        return { ok: true, value: JSON.parse(repaired, DANGEROUS_KEY.test(repaired) ? dropDangerous : undefined) as unknown, repaired: 'single-quotes' };
      } catch {
        // fall through: report the original error
      }
    }
    return { ok: false, detail: `invalid JSON: ${(e as Error).message.slice(0, 200)}` };
  }
}
