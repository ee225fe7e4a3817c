import type { SimState } from './state.js';

/** What a route handler returns; the server serializes it. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RouteContext {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  state: SimState;
  /** Base URL of this simulator, for nextLink and Azure-AsyncOperation headers. */
  baseUrl: string;
  apiVersion: string;
  options: RouteOptions;
}

export interface RouteOptions {
  pageSize: number;
  resourceGraphPageSize: number;
  asyncOperationPolls: number;
}

export type Handler = (ctx: RouteContext) => Reply | Promise<Reply>;

export const armError = (status: number, code: string, message: string): Reply => ({ status, body: { error: { code, message } } });
export const notFound = (what: string): Reply => armError(404, 'ResourceNotFound', `The Resource '${what}' was not found.`);
export const badRequest = (code: string, message: string): Reply => armError(400, code, message);

/**
 * For the APIs whose spec declares a flat error body `{code, message}` instead of ARM's `{error: {code, message}}`:
 * Insights diagnostic settings 2021-05-01-preview (diagnosticsSettings_API.json, subscriptionDiagnosticsSettings_API.json)
 * and the activity log 2015-04-01 (activityLogs_API.json), each `definitions.ErrorResponse` (test/fixtures/specs).
 */
export function withFlatErrors(handler: Handler): Handler {
  return async (ctx) => {
    const reply = await handler(ctx);
    const inner = reply.status >= 400 ? (reply.body as { error?: unknown } | undefined)?.error : undefined;
    return inner !== null && typeof inner === 'object' ? { ...reply, body: inner } : reply;
  };
}

/** A JSON object body or an empty object; ARM rejects anything else with 400. */
export function objectBody(ctx: RouteContext): Record<string, unknown> {
  const b = ctx.body;
  return b !== null && typeof b === 'object' && !Array.isArray(b) ? (b as Record<string, unknown>) : {};
}
export function propsOf(body: Record<string, unknown>): Record<string, unknown> {
  const p = body.properties;
  return p !== null && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>) : {};
}

/** Pages `items` with a `$skiptoken` offset; nextLink is absolute on the simulator's own base URL. */
export function paged(ctx: RouteContext, items: unknown[]): Reply {
  const start = Number(ctx.query.get('$skiptoken') ?? '0') || 0;
  const size = ctx.options.pageSize;
  const value = items.slice(start, start + size);
  const body: Record<string, unknown> = { value };
  if (start + size < items.length) {
    // The link keeps the request's own query ($filter, $select…), as ARM's do.
    const q = new URLSearchParams(ctx.query);
    q.set('api-version', ctx.apiVersion);
    q.set('$skiptoken', String(start + size));
    body.nextLink = `${ctx.baseUrl}${ctx.path}?${q.toString()}`;
  }
  return { status: 200, body };
}

type Route = { method: string; re: RegExp; names: string[]; handler: Handler };

/** Case-insensitive ARM path router. */
export class Router {
  private readonly routes: Route[] = [];
  on(method: string, template: string, handler: Handler): this {
    const names: string[] = [];
    // `{name}` is one segment; `{+name}` is one or more (a whole resource id, as in arm-monitor's `{+resourceUri}`).
    const src = template.replace(/[.$]/g, (c) => `\\${c}`).replace(/\{(\+?)(\w+)\}/g, (_, plus: string, n: string) => {
      names.push(n);
      return plus ? '(/.+?)' : '([^/]+)';
    });
    this.routes.push({ method, re: new RegExp(`^${src}$`, 'i'), names, handler });
    return this;
  }
  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | 'method' | undefined {
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.re.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== method) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => (params[n] = m[i + 1] ?? '')); // the server already decoded the path
      return { handler: r.handler, params };
    }
    return pathMatched ? 'method' : undefined;
  }
}
