import azf, { type HttpRequest, type InvocationContext } from '@azure/functions';

const { HttpRequest: Request, InvocationContext: Context } = azf;

/** An HttpRequest as the Functions host hands it to a handler (route params, query in the url, JSON body). */
export function httpRequest(o: { method: string; path: string; params?: Record<string, string>; headers?: Record<string, string>; body?: unknown }): HttpRequest {
  const body = o.body === undefined ? {} : { body: { string: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) } };
  return new Request({ method: o.method, url: `http://localhost/api/${o.path.replace(/^\/+/, '')}`, params: o.params ?? {}, headers: { 'content-type': 'application/json', ...o.headers }, ...body });
}

/** An invocation context whose log lines are kept, so tests can read what a handler logged. */
export function invocation(name = 'test'): InvocationContext & { logged: string[] } {
  const logged: string[] = [];
  const ctx = new Context({ functionName: name, invocationId: 'inv-1', logHandler: (_level, ...args) => void logged.push(args.map(String).join(' ')) });
  return Object.assign(ctx, { logged });
}
