import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import type { Settings } from '../config/settings.js';
import { contextLogger } from '../observability/contextLogger.js';
import { problem, TENANT_ID_PATTERN, type HttpHandler } from './problem.js';

/**
 * Operator authorization of the HTTP API.
 *
 * Who the caller is: with App Service authentication ("Easy Auth") in front of the app, the platform validates the
 * Entra token and passes the caller to the app in `X-MS-CLIENT-PRINCIPAL` (base64 JSON of the token's claims) and
 * `X-MS-CLIENT-PRINCIPAL-ID`/`-NAME`. "External requests aren't allowed to set these headers, so they're present only
 * if set by App Service" (learn.microsoft.com/azure/app-service/configure-authentication-user-identities). Without
 * Easy Auth nothing strips them, so anyone could send them: the app trusts them only when the operator says Easy Auth
 * is on (`MDR_EASY_AUTH=true`) AND the platform says so too (`WEBSITE_AUTH_ENABLED=True`, which App Service sets for
 * an app with authentication enabled; Microsoft.Identity.Web's AppServicesAuthenticationInformation reads the same
 * variable). The setting without the platform is refused (fail closed), so turning Easy Auth off never makes forged
 * headers trusted.
 *
 * What the caller may do: app roles of the API's app registration (infra/apiAppRoles.json), from the principal's
 * `roles` claims, checked per route (ROUTE_ROLES). A call without a principal was let in by the function key alone
 * (every route is authLevel 'function'): function keys are for automation and are full access.
 *
 * Every mutating call writes one `audit` line: verified caller (or "function key"), tenant, operation, outcome.
 */

export const APP_ROLES = ['Tenants.Read', 'Tenants.Write', 'Alerts.Write'] as const;
export type AppRole = (typeof APP_ROLES)[number];

/** Roles that also grant another: a tenant writer may read tenants. */
const IMPLIES: Partial<Record<AppRole, AppRole[]>> = { 'Tenants.Write': ['Tenants.Read'] };

interface RoutePolicy {
  role: AppRole;
  /** Operation name in the audit line; present for mutating calls only. */
  audit?: string;
}

/** What each route and method needs (README "HTTP API" lists the same). */
export const ROUTE_ROLES: Record<string, Partial<Record<string, RoutePolicy>>> = {
  'tenants-list': { GET: { role: 'Tenants.Read' } },
  tenant: { GET: { role: 'Tenants.Read' }, PUT: { role: 'Tenants.Write', audit: 'tenant.onboard' }, DELETE: { role: 'Tenants.Write', audit: 'tenant.offboard' } },
  'tenant-onboarding': { GET: { role: 'Tenants.Read' } },
  'tenant-operation': { GET: { role: 'Tenants.Read' } },
  'tenant-reconcile': { POST: { role: 'Tenants.Write', audit: 'tenant.reconcile' } },
  'tenant-coverage': { GET: { role: 'Tenants.Read' } },
  'tenant-health': { GET: { role: 'Tenants.Read' } },
  'tenant-alert-state': { POST: { role: 'Alerts.Write', audit: 'alert.setState' } },
};

export interface OperatorAuthConfig {
  /** MDR_EASY_AUTH: the operator put App Service authentication in front of the app. */
  easyAuth: boolean;
  /** WEBSITE_AUTH_ENABLED as the platform sets it. */
  platformAuthEnabled: boolean;
}

export const operatorAuthConfig = (settings: Pick<Settings, 'http'>): OperatorAuthConfig => settings.http;

export type Caller =
  | { kind: 'principal'; id: string; name: string | undefined; identityProvider: string | undefined; roles: string[] }
  | { kind: 'function-key' };

/** ms-identity claim types App Service maps Entra tokens' claims to (role_typ is given per principal). */
const ROLE_CLAIMS = ['roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'];
const OID_CLAIMS = ['http://schemas.microsoft.com/identity/claims/objectidentifier', 'oid'];

const principalSchema = z.object({
  auth_typ: z.string().optional(),
  claims: z.array(z.object({ typ: z.string(), val: z.string() })),
  name_typ: z.string().optional(),
  role_typ: z.string().optional(),
});

const clean = (s: string | null | undefined): string | undefined => s?.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 256) || undefined;

/** The verified caller of a request, or the problem response when it cannot be established. */
export function resolveCaller(req: Pick<HttpRequest, 'headers'>, cfg: OperatorAuthConfig): Caller | { problem: HttpResponseInit } {
  if (!cfg.easyAuth) return { kind: 'function-key' };
  if (!cfg.platformAuthEnabled)
    return {
      problem: problem(500, 'config', 'The app is misconfigured', 'MDR_EASY_AUTH is true but App Service authentication is not enabled on this app (WEBSITE_AUTH_ENABLED): caller headers cannot be trusted, so no call is served.'),
    };
  const header = req.headers.get('x-ms-client-principal');
  if (header === null) return { kind: 'function-key' };
  let parsed: z.infer<typeof principalSchema>;
  try {
    parsed = principalSchema.parse(JSON.parse(Buffer.from(header, 'base64').toString('utf8')));
  } catch {
    return { problem: problem(401, 'unauthenticated', 'Caller not understood', 'The X-MS-CLIENT-PRINCIPAL header set by App Service authentication could not be read.') };
  }
  const claim = (types: readonly string[]) => parsed.claims.find((c) => types.includes(c.typ))?.val;
  const roleTypes = parsed.role_typ ? [parsed.role_typ, ...ROLE_CLAIMS] : ROLE_CLAIMS;
  const id = clean(req.headers.get('x-ms-client-principal-id')) ?? clean(claim(OID_CLAIMS));
  if (!id) return { problem: problem(401, 'unauthenticated', 'Caller not understood', 'App Service authentication passed no principal id.') };
  return {
    kind: 'principal',
    id,
    name: clean(req.headers.get('x-ms-client-principal-name')) ?? clean(parsed.name_typ ? claim([parsed.name_typ]) : undefined),
    identityProvider: clean(req.headers.get('x-ms-client-principal-idp')),
    roles: [...new Set(parsed.claims.filter((c) => roleTypes.includes(c.typ)).map((c) => c.val))],
  };
}

/** How the audit and alert lines name a caller. */
export const callerLabel = (c: Caller): string => (c.kind === 'function-key' ? 'function key' : `${c.name ?? 'principal'} (${c.id})`);

export function hasRole(c: Caller, role: AppRole): boolean {
  if (c.kind === 'function-key') return true;
  return c.roles.some((r) => r === role || (IMPLIES[r as AppRole] ?? []).includes(role));
}

function outcomeOf(status: number): 'succeeded' | 'denied' | 'rejected' | 'failed' {
  if (status < 400) return 'succeeded';
  if (status === 401 || status === 403) return 'denied';
  return status < 500 ? 'rejected' : 'failed';
}

/**
 * Wraps a route's handler: establishes the caller, checks the route's app role, and for a mutating call writes the
 * audit line whatever the outcome (a denied call included). Registered in src/functions for every HTTP route.
 */
export function withOperatorAuth(route: string, settings: Pick<Settings, 'http'>, handler: HttpHandler): HttpHandler {
  const cfg = operatorAuthConfig(settings);
  return async (req, ctx) => {
    const method = req.method.toUpperCase();
    const policy = ROUTE_ROLES[route]?.[method];
    const id = req.params.id ?? '';
    const tenantId = TENANT_ID_PATTERN.test(id) ? id.toLowerCase() : id === '' ? undefined : 'invalid';
    const resolved = resolveCaller(req, cfg);
    const caller = 'problem' in resolved ? undefined : resolved;
    const audit = (status: number) => {
      if (!policy?.audit) return;
      const dryRun = req.query.get('dryRun') === 'true' ? true : undefined;
      contextLogger(ctx).info('audit', {
        caller: caller ? callerLabel(caller) : 'unknown',
        callerKind: caller?.kind ?? 'unknown',
        callerId: caller?.kind === 'principal' ? caller.id : undefined,
        tenantId,
        operation: policy.audit,
        dryRun,
        outcome: outcomeOf(status),
        status,
      });
    };
    let res: HttpResponseInit;
    if (!caller) res = (resolved as { problem: HttpResponseInit }).problem;
    else if (!policy) res = problem(405, 'method', 'Method not allowed', `${method} is not supported on this route`);
    else if (!hasRole(caller, policy.role))
      res = problem(403, 'forbidden-role', 'Missing app role', `${callerLabel(caller)} lacks the app role ${policy.role}, which ${method} on this route needs (docs/security.md "Operator roles").`);
    else {
      try {
        res = await handler(req, ctx);
      } catch (e) {
        audit(500);
        throw e;
      }
    }
    audit(res.status ?? 200);
    return res;
  };
}
