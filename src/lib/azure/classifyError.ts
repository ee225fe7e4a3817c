import { ConnectorError, ensureError } from '../errors.js';

/** The only place that maps ARM/SDK failures to error kinds. */
export function classifyArmError(e: unknown, action: string): ConnectorError {
  if (e instanceof ConnectorError) return e;
  const err = ensureError(e);
  const status = (err as { statusCode?: unknown }).statusCode;
  const code = (err as { code?: unknown }).code;
  const statusCode = typeof status === 'number' ? status : undefined;
  const codeStr = typeof code === 'string' ? code : undefined;
  const msg = `${action}: ${err.message}`;
  if (statusCode === 404) return new ConnectorError('not-found', msg, { cause: err, code: codeStr, statusCode });
  if (statusCode === 401 || statusCode === 403)
    return new ConnectorError('permanent', `${msg} (the delegation does not grant this; check the Lighthouse roles)`, { cause: err, code: codeStr, statusCode });
  if (statusCode === 409 || statusCode === 412) return new ConnectorError('conflict', msg, { cause: err, code: codeStr, statusCode });
  if (statusCode === 400) return new ConnectorError('permanent', msg, { cause: err, code: codeStr, statusCode });
  if (statusCode === undefined || statusCode === 408 || statusCode === 429 || statusCode >= 500)
    return new ConnectorError('transient', msg, { cause: err, code: codeStr ?? (err as NodeJS.ErrnoException).code, statusCode });
  return new ConnectorError('permanent', msg, { cause: err, code: codeStr, statusCode });
}

export function isNotFound(e: unknown): boolean {
  return (e as { statusCode?: unknown } | null)?.statusCode === 404;
}
