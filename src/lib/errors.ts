/**
 * Every error type the app raises. `kind` drives what callers do:
 * - transient: retry (429, 5xx, timeouts) — queue/Event Hub handlers rethrow so the host redelivers.
 * - permanent: will not succeed by retrying (403, missing delegation) — recorded, not retried.
 * - config: a setting is wrong — the app must not start.
 * - validation: caller input is wrong — HTTP 400.
 * - conflict: lost an optimistic-concurrency race — retry the read-modify-write.
 * - capacity: a limit was reached (namespace pool full with growth disabled, every ingest app full).
 */
export type ErrorKind = 'transient' | 'permanent' | 'config' | 'validation' | 'conflict' | 'capacity' | 'not-found';

export class ConnectorError extends Error {
  readonly kind: ErrorKind;
  readonly code: string | undefined;
  readonly statusCode: number | undefined;
  constructor(kind: ErrorKind, message: string, opts: { cause?: unknown; code?: string; statusCode?: number } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ConnectorError';
    this.kind = kind;
    this.code = opts.code;
    this.statusCode = opts.statusCode;
  }
}

export class ConfigError extends ConnectorError {
  constructor(message: string) {
    super('config', message);
    this.name = 'ConfigError';
  }
}

export class ValidationError extends ConnectorError {
  /** Field-level problems, e.g. [{ field: 'displayName', message: 'required' }]. */
  readonly problems: { field: string; message: string }[];
  constructor(message: string, problems: { field: string; message: string }[] = []) {
    super('validation', message);
    this.name = 'ValidationError';
    this.problems = problems;
  }
}

/**
 * `code` of an error from the provider's own subscription met while writing a customer's object (the tenant hub's
 * Send rule). It carries no HTTP status, so a 404 there is never taken for the customer's resource being gone, nor a
 * 403 for the customer's delegation.
 */
export const PROVIDER_SIDE = 'ProviderSide';

/** Normalizes a thrown unknown into an Error with a message. */
export function ensureError(e: unknown): Error {
  if (e instanceof Error) return e;
  return new Error(typeof e === 'string' ? e : JSON.stringify(e));
}

/** True when `e` is a lost optimistic-concurrency race (storage 409/412, an etag mismatch): read again and retry. */
export function isConflict(e: unknown): e is ConnectorError {
  return e instanceof ConnectorError && e.kind === 'conflict';
}

/**
 * Small randomized back-off after a conflict, so racing writers do not retry in lock-step: up to `5 · 2^attempt`
 * ms, at most `maxMs`.
 */
export function conflictBackoff(attempt: number, maxMs = 160): Promise<void> {
  const ms = Math.min(maxMs, 5 * 2 ** attempt) * Math.random();
  return new Promise((r) => setTimeout(r, ms));
}
