import { ConnectorError, ValidationError, ensureError } from '../errors.js';
import type { Logger } from '../log.js';
import { problem } from './problem.js';
import type { HttpResponseInit } from '@azure/functions';

/** The one mapping of error kinds to HTTP (RFC 9457 problem bodies). Unknown errors say nothing about internals. */
export function problemFromError(e: unknown, log: Logger): HttpResponseInit {
  const err = ensureError(e);
  if (err instanceof ValidationError) return problem(400, 'validation', 'Invalid request', err.message, { errors: err.problems });
  if (err instanceof ConnectorError) {
    log.warn('http.problem', { kind: err.kind, statusCode: err.statusCode, message: err.message });
    switch (err.kind) {
      case 'validation':
        return problem(400, 'validation', 'Invalid request', err.message, { errors: [] });
      case 'not-found':
        return problem(404, 'not-found', 'Not found', err.message);
      case 'conflict':
        if (err.code === 'TenantNotActive') return problem(409, 'tenant-not-active', 'Tenant is not active', err.message);
        return problem(409, 'conflict', 'Conflicting change', `${err.message}. Another request changed the same record; retry.`);
      case 'capacity':
        return problem(503, 'capacity', 'No capacity (Event Hubs pool or ingest fleet)', err.message, { headers: { 'retry-after': '300' } });
      case 'transient':
        return problem(503, 'transient', 'Azure is throttling or unavailable', err.message, { headers: { 'retry-after': '60' } });
      case 'permanent':
        return err.statusCode === 401 || err.statusCode === 403
          ? problem(502, 'forbidden', 'Azure refused the operation', `${err.message}. Check the app identity's role assignments (docs/onboarding.md).`)
          : problem(424, 'dependency', 'An Azure operation failed', err.message);
      case 'config':
        return problem(500, 'config', 'The app is misconfigured', 'An app setting is invalid; the operator finds which in the app log.');
    }
  }
  log.error('http.unhandled', { error: err });
  return problem(500, 'internal', 'Internal error', 'The request failed unexpectedly; see the app log for the invocation id.');
}

