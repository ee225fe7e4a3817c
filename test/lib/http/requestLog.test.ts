import azf from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { withRequestLog } from '../../../src/lib/http/requestLog.js';

const { HttpRequest, InvocationContext } = azf;

function run(id: string, handler: Parameters<typeof withRequestLog>[1]) {
  const lines: string[] = [];
  const ctx = new InvocationContext({ functionName: 'tenant', invocationId: 'inv-1', logHandler: (_level, ...args) => lines.push(args.map(String).join(' ')) });
  const req = new HttpRequest({ method: 'GET', url: `http://localhost/api/tenants/${encodeURIComponent(id)}`, params: { id } });
  return { lines, result: withRequestLog('tenant', handler)(req, ctx) };
}

describe('withRequestLog', () => {
  it('logs handler, method, tenant, status and duration for every call', async () => {
    const id = '3E8A9C21-6D4B-4F70-B2E5-A1C9D8F07B35';
    const { lines, result } = run(id, async () => ({ status: 404 }));
    expect((await result).status).toBe(404);
    const line = lines.find((l) => l.startsWith('http.request '));
    const fields = JSON.parse(line!.slice('http.request '.length)) as Record<string, unknown>;
    expect(fields).toMatchObject({ handler: 'tenant', method: 'GET', tenantId: id.toLowerCase(), status: 404, invocationId: 'inv-1' });
    expect(typeof fields.durationMs).toBe('number');
  });

  it('never logs a hostile id as a tenant, and logs a thrown error as a 500 before rethrowing', async () => {
    const { lines, result } = run('../../etc/passwd', async () => {
      throw new Error('boom');
    });
    await expect(result).rejects.toThrow('boom');
    const fields = JSON.parse(lines.find((l) => l.startsWith('http.request '))!.slice('http.request '.length)) as Record<string, unknown>;
    expect(fields).toMatchObject({ tenantId: 'invalid', status: 500, error: 'boom' });
    expect(lines.join('\n')).not.toContain('passwd');
  });
});
