import { describe, expect, it } from 'vitest';
import { ConnectorError, ValidationError } from '../../../src/lib/errors.js';
import { memoryLogger } from '../../../src/lib/log.js';
import { problemFromError } from '../../../src/lib/http/problemFromError.js';

const body = (r: { jsonBody?: unknown }) => r.jsonBody as { type: string; status: number; detail: string; errors?: unknown };

describe('problemFromError', () => {
  it('maps each error kind to its status', () => {
    const log = memoryLogger();
    const cases: [unknown, number][] = [
      [new ValidationError('bad', [{ field: 'x', message: 'y' }]), 400],
      [new ConnectorError('not-found', 'nope'), 404],
      [new ConnectorError('conflict', 'raced'), 409],
      [new ConnectorError('capacity', 'full'), 503],
      [new ConnectorError('transient', 'throttled', { statusCode: 429 }), 503],
      [new ConnectorError('permanent', 'denied', { statusCode: 403 }), 502],
      [new ConnectorError('permanent', 'bad template', { statusCode: 400 }), 424],
      [new ConnectorError('config', 'MDR_X is invalid'), 500],
    ];
    expect(cases.map(([e]) => problemFromError(e, log).status)).toEqual(cases.map(([, s]) => s));
    expect(body(problemFromError(cases[0]![0], log)).errors).toEqual([{ field: 'x', message: 'y' }]);
    expect(problemFromError(cases[3]![0], log).headers).toMatchObject({ 'retry-after': '300' });
  });

  it('hides the internals of unexpected errors', () => {
    const log = memoryLogger();
    const r = problemFromError(new TypeError('Cannot read properties of undefined (reading key) at /src/secret/path.ts'), log);
    expect(r.status).toBe(500);
    expect(JSON.stringify(r)).not.toMatch(/TypeError|secret\/path|Cannot read/);
    expect(log.lines.some((l) => l.level === 'error')).toBe(true);
  });
});

describe('createTenantRouteHandler', () => {
  it('answers 405 naming the allowed methods for anything but GET, PUT and DELETE', async () => {
    const { default: azf } = await import('@azure/functions');
    const { createTenantRouteHandler } = await import('../../../src/lib/onboarding/httpHandlers.js');
    const h = createTenantRouteHandler({ settings: {} as never, registry: {} as never, clients: {} as never, logger: memoryLogger() });
    const res = await h(new azf.HttpRequest({ method: 'PATCH', url: 'http://localhost/api/tenants/x', params: { id: 'x' } }), new azf.InvocationContext({ functionName: 't', invocationId: 'i' }));
    expect(res.status).toBe(405);
    expect(res.headers).toMatchObject({ allow: 'GET, PUT, DELETE' });
  });
});
