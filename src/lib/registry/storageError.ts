import { ConnectorError, ensureError } from '../errors.js';

/** data-tables errors carry no `code`; the HTTP status and service code sit on statusCode / details (mechanics §5). */
export function storageError(e: unknown, action: string): ConnectorError {
  if (e instanceof ConnectorError) return e;
  const err = ensureError(e);
  const status = (err as { statusCode?: unknown }).statusCode;
  const details = (err as { details?: { errorCode?: unknown; odataError?: { code?: unknown } } }).details;
  const svcCode = details?.errorCode ?? details?.odataError?.code;
  const code = typeof svcCode === 'string' ? svcCode : undefined;
  const statusCode = typeof status === 'number' ? status : undefined;
  const msg = `${action}: ${code ?? err.message.split('\n')[0]}`;
  if (statusCode === 409 || statusCode === 412) return new ConnectorError('conflict', msg, { cause: err, code, statusCode });
  if (statusCode === 404) return new ConnectorError('not-found', msg, { cause: err, code, statusCode });
  if (statusCode === 403 || statusCode === 401 || statusCode === 400) return new ConnectorError('permanent', msg, { cause: err, code, statusCode });
  return new ConnectorError('transient', msg, { cause: err, code, statusCode });
}
