import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_ROLES, ROUTE_ROLES, withOperatorAuth, type AppRole } from '../../../src/lib/http/operatorAuth.js';
import type { HttpHandler } from '../../../src/lib/http/problem.js';
import { httpRequest, invocation } from '../../support/http.js';

/**
 * Issue #12, point 5: app roles checked in code from the platform-verified principal, function keys full access,
 * one audit line per mutating call with the verified caller.
 */
const T = 'aaaaaaaa-0000-0000-0000-000000000001';
const OID = '99999999-0000-0000-0000-000000000001';
const EASY_AUTH = { http: { easyAuth: true, platformAuthEnabled: true } };
const KEYS_ONLY = { http: { easyAuth: false, platformAuthEnabled: false } };

/** The X-MS-CLIENT-PRINCIPAL App Service authentication sets for an Entra caller with these app roles. */
function principal(roles: string[], name = 'analyst@mdr.example'): Record<string, string> {
  const claims = [{ typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: OID }, { typ: 'name', val: name }, ...roles.map((val) => ({ typ: 'roles', val }))];
  return {
    'x-ms-client-principal': Buffer.from(JSON.stringify({ auth_typ: 'aad', claims, name_typ: 'name', role_typ: 'roles' })).toString('base64'),
    'x-ms-client-principal-id': OID,
    'x-ms-client-principal-name': name,
    'x-ms-client-principal-idp': 'aad',
  };
}

function guarded(route: string, settings = EASY_AUTH, status = 200) {
  const calls: string[] = [];
  const inner: HttpHandler = async (req) => {
    calls.push(req.method);
    return { status, jsonBody: { ok: true } };
  };
  return { calls, handler: withOperatorAuth(route, settings, inner) };
}

async function call(route: string, method: string, headers: Record<string, string>, settings = EASY_AUTH, status = 200) {
  const g = guarded(route, settings, status);
  const ctx = invocation(route);
  const res = await g.handler(httpRequest({ method, path: `tenants/${T}`, params: { id: T }, headers }), ctx);
  const audit = ctx.logged.filter((l) => l.startsWith('audit ')).map((l) => JSON.parse(l.slice('audit '.length)) as Record<string, unknown>);
  return { res, calls: g.calls, audit };
}

const routeMethods = Object.entries(ROUTE_ROLES).flatMap(([route, methods]) => Object.entries(methods).map(([method, p]) => ({ route, method, role: p!.role, audit: p!.audit })));
const otherRoles = (role: AppRole) => APP_ROLES.filter((r) => r !== role && !(role === 'Tenants.Read' && r === 'Tenants.Write'));

describe('app roles per route', () => {
  it.each(routeMethods)('$method $route needs $role: refused (403) without it, served with it', async ({ route, method, role }) => {
    const denied = await call(route, method, principal(otherRoles(role)));
    expect(denied.res.status).toBe(403);
    expect((denied.res.jsonBody as { detail: string }).detail).toContain(role);
    expect(denied.calls).toEqual([]);
    const allowed = await call(route, method, principal([role]));
    expect(allowed.res.status).toBe(200);
    expect(allowed.calls).toEqual([method]);
  });

  it('lets a tenant writer read tenants, but not change alert state', async () => {
    expect((await call('tenant', 'GET', principal(['Tenants.Write']))).res.status).toBe(200);
    expect((await call('tenant-alert-state', 'POST', principal(['Tenants.Write']))).res.status).toBe(403);
  });

  it('serves a call that carries no principal (only the function key let it in) with full access', async () => {
    for (const { route, method } of routeMethods) expect((await call(route, method, {})).calls).toEqual([method]);
  });

  it('trusts no caller header while Easy Auth is off: a forged principal is just the function key', async () => {
    const r = await call('tenant', 'DELETE', principal([], 'ceo@forged.example'), KEYS_ONLY);
    expect(r.res.status).toBe(200);
    expect(r.audit).toEqual([expect.objectContaining({ caller: 'function key', callerKind: 'function-key' })]);
  });

  it('refuses every call when MDR_EASY_AUTH is on but the platform reports no authentication (headers could be forged)', async () => {
    const r = await call('tenant', 'GET', principal(['Tenants.Read']), { http: { easyAuth: true, platformAuthEnabled: false } });
    expect(r.res.status).toBe(500);
    expect(r.calls).toEqual([]);
  });

  it('answers 401 to a principal header it cannot read', async () => {
    const r = await call('tenant', 'GET', { 'x-ms-client-principal': 'not base64 json' });
    expect(r.res.status).toBe(401);
    expect(r.calls).toEqual([]);
  });
});

describe('audit lines', () => {
  it.each(routeMethods.filter((r) => r.audit))('$method $route writes one audit line with the verified caller, tenant, operation and outcome', async ({ route, method, role, audit }) => {
    const ok = await call(route, method, principal([role]));
    expect(ok.audit).toEqual([expect.objectContaining({ caller: `analyst@mdr.example (${OID})`, callerKind: 'principal', callerId: OID, tenantId: T, operation: audit, outcome: 'succeeded', status: 200 })]);
    const denied = await call(route, method, principal([]));
    expect(denied.audit).toEqual([expect.objectContaining({ caller: `analyst@mdr.example (${OID})`, operation: audit, outcome: 'denied', status: 403 })]);
    const failed = await call(route, method, principal([role]), EASY_AUTH, 409);
    expect(failed.audit).toEqual([expect.objectContaining({ operation: audit, outcome: 'rejected', status: 409 })]);
    const byKey = await call(route, method, {});
    expect(byKey.audit).toEqual([expect.objectContaining({ caller: 'function key', callerKind: 'function-key', tenantId: T, operation: audit, outcome: 'succeeded' })]);
  });

  it('writes none for a read', async () => {
    expect((await call('tenant', 'GET', principal(['Tenants.Read']))).audit).toEqual([]);
  });
});

describe('wiring', () => {
  const functionsDir = path.resolve(import.meta.dirname, '../../../src/functions');
  const sources = readdirSync(functionsDir).map((f) => readFileSync(path.join(functionsDir, f), 'utf8'));
  const httpRegistrations = sources.flatMap((s) => [...s.matchAll(/app\.http\('([\w-]+)',\s*\{([\s\S]*?)\}\);/g)].map((m) => ({ name: m[1]!, body: m[2]! })));

  it('wraps every HTTP route in withOperatorAuth under its own name, and the role table covers each of its methods', () => {
    expect(httpRegistrations.length).toBeGreaterThanOrEqual(7);
    for (const r of httpRegistrations) {
      expect(r.body).toContain(`withOperatorAuth('${r.name}'`);
      const methods = [...(/methods:\s*\[([^\]]*)\]/.exec(r.body)?.[1] ?? '').matchAll(/'(\w+)'/g)].map((m) => m[1]!);
      expect(methods.length).toBeGreaterThan(0);
      for (const m of methods) expect(ROUTE_ROLES[r.name]?.[m], `${m} ${r.name}`).toBeDefined();
    }
  });

  it('declares exactly the roles the code checks in the app registration manifest infra/apiAppRoles.json', () => {
    const manifest = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../../infra/apiAppRoles.json'), 'utf8')) as { value: string; isEnabled: boolean; id: string }[];
    expect(manifest.map((r) => r.value).sort()).toEqual([...APP_ROLES].sort());
    expect(manifest.every((r) => r.isEnabled && /^[0-9a-f-]{36}$/.test(r.id))).toBe(true);
    expect(new Set(manifest.map((r) => r.id)).size).toBe(manifest.length);
  });
});
