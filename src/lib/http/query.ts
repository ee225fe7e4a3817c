import type { HttpRequest } from '@azure/functions';
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { fieldProblems } from '../onboarding/tenantRequest.js';

/**
 * Strict query strings: a handler names the parameters it takes; anything else — an unknown name (`dryrun`,
 * `dry-run`), a repeated one, a boolean other than `true`/`false` — is a 400 naming it, never silently ignored
 * (a typo of `dryRun` must not run for real). `code` is the function key, which the Functions host reads itself.
 */
export const FUNCTION_KEY_PARAM = 'code';

/** A boolean query parameter: exactly `true` or `false`. */
export const queryBoolean = z.enum(['true', 'false'], { message: "expected 'true' or 'false'" }).transform((v) => v === 'true');

export function parseQuery<S extends z.ZodRawShape>(req: Pick<HttpRequest, 'query'>, shape: S): z.infer<z.ZodObject<S>> {
  const raw: Record<string, string> = {};
  const problems: { field: string; message: string }[] = [];
  for (const [name, value] of req.query) {
    if (name === FUNCTION_KEY_PARAM) continue;
    if (Object.hasOwn(raw, name)) problems.push({ field: name, message: 'given more than once' });
    else raw[name] = value;
  }
  const accepted = Object.keys(shape);
  const r = z.object(shape).strict().safeParse(raw);
  if (!r.success)
    for (const p of fieldProblems(r.error))
      problems.push(p.message === 'unknown field' ? { field: p.field, message: `unknown query parameter (accepted: ${accepted.join(', ') || 'none'})` } : p);
  if (problems.length > 0 || !r.success)
    throw new ValidationError(`Invalid query: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`, problems);
  return r.data;
}
