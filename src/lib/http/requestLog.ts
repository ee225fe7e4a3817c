import { contextLogger } from '../observability/contextLogger.js';
import { TENANT_ID_PATTERN, type HttpHandler } from './problem.js';

/**
 * One `http.request` line per call (handler, method, tenant, status, duration), so every HTTP invocation shows in
 * Application Insights with the fields operators filter on. Only a well-formed tenant id is logged as such.
 */
export function withRequestLog(name: string, handler: HttpHandler): HttpHandler {
  return async (req, ctx) => {
    const started = performance.now();
    const id = req.params.id ?? '';
    const fields = { handler: name, method: req.method, tenantId: TENANT_ID_PATTERN.test(id) ? id.toLowerCase() : id === '' ? undefined : 'invalid' };
    try {
      const res = await handler(req, ctx);
      contextLogger(ctx).info('http.request', { ...fields, status: res.status ?? 200, durationMs: Math.round(performance.now() - started) });
      return res;
    } catch (e) {
      contextLogger(ctx).error('http.request', { ...fields, status: 500, durationMs: Math.round(performance.now() - started), error: e instanceof Error ? e.message : String(e) });
      throw e;
    }
  };
}
