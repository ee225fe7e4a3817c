import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import type { AzureClients } from '../azure/clientFactory.js';
import type { Settings } from '../config/settings.js';
import { ConnectorError, ValidationError } from '../errors.js';
import type { Logger } from '../log.js';
import { problem, type HttpHandler } from '../http/problem.js';
import { parseQuery, queryBoolean } from '../http/query.js';
import { problemFromError } from '../http/problemFromError.js';
import { contextLogger } from '../observability/contextLogger.js';
import type { TenantRegistry } from '../registry/tenantRegistry.js';
import { beginLongOnboarding, operationPath, publicOperation, type OnboardingQueue } from './longOnboarding.js';
import { offboardTenant, type TeardownFn } from './offboardTenant.js';
import { onboardTenant } from './onboardTenant.js';
import { onboardingTemplate } from './onboardingTemplate.js';
import { parseTenantRequest, tenantIdSchema } from './tenantRequest.js';
import { LOWERCASE_GUID_PATTERN } from '../guid.js';

export interface OnboardingHttpDeps {
  settings: Settings;
  registry: TenantRegistry;
  clients: AzureClients;
  /** Defaults to a logger writing to the invocation context. */
  logger?: Logger;
  teardown?: TeardownFn;
  /** LRO poll interval for namespace creation (tests shorten it). */
  lroPollMs?: number;
  /** Where onboardings that outlast the request go (202 + operation); without it every PUT runs to the end. */
  onboardingQueue?: OnboardingQueue;
}

/** Seconds a client waits between polls of an onboarding operation. */
const OPERATION_RETRY_AFTER_SECONDS = 10;

function loggerFor(deps: OnboardingHttpDeps, ctx: InvocationContext): Logger {
  return deps.logger ?? contextLogger(ctx);
}

function tenantIdParam(req: HttpRequest): string {
  const raw = req.params.tenantId ?? req.params.id ?? '';
  const r = tenantIdSchema.safeParse(raw);
  if (!r.success) throw new ValidationError(`Invalid tenant id '${raw.slice(0, 64)}'`, [{ field: 'tenantId', message: r.error.issues[0]?.message ?? 'invalid' }]);
  return r.data;
}

function wrap(deps: OnboardingHttpDeps, name: string, fn: (req: HttpRequest, log: Logger) => Promise<HttpResponseInit>): HttpHandler {
  return async (req, ctx) => {
    const log = loggerFor(deps, ctx).child({ handler: name });
    try {
      return await fn(req, log);
    } catch (e) {
      return problemFromError(e, log);
    }
  };
}

/** A tenant body is a few hundred bytes; a much larger one is a mistake or abuse, refused before it is parsed. */
export const MAX_TENANT_BODY_BYTES = 64 * 1024;

function tooLarge(bytes: number): HttpResponseInit {
  return problem(413, 'too-large', 'Request body too large', `The body has ${bytes} bytes; at most ${MAX_TENANT_BODY_BYTES} bytes are accepted.`);
}

/** PUT /api/tenants/{id} — body {displayName, managementGroupId?, regions?, entraWorkspaceIds?, options?}. 201 when created, 200 otherwise. */
export function createPutTenantHandler(deps: OnboardingHttpDeps): HttpHandler {
  return wrap(deps, 'putTenant', async (req, log) => {
    let body: unknown;
    const declared = Number(req.headers.get('content-length') ?? '0');
    if (declared > MAX_TENANT_BODY_BYTES) return tooLarge(declared);
    parseQuery(req, {});
    const text = await req.text();
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > MAX_TENANT_BODY_BYTES) return tooLarge(bytes);
    try {
      body = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      throw new ValidationError('The body is not valid JSON', [{ field: '(body)', message: 'expected a JSON object' }]);
    }
    const { tenantId, request } = parseTenantRequest(req.params.tenantId ?? req.params.id, body, deps.settings.provider.tenantId);
    if (deps.onboardingQueue) {
      const op = await beginLongOnboarding({ ...deps, onboardingQueue: deps.onboardingQueue }, tenantId, request);
      if (op) {
        const url = operationPath(tenantId, op.operationId);
        log.info('onboarding.accepted', { tenantId, operationId: op.operationId, status: op.status });
        return { status: 202, headers: { location: url, 'operation-location': url, 'retry-after': String(OPERATION_RETRY_AFTER_SECONDS) }, jsonBody: { operation: publicOperation(op) } };
      }
    }
    const r = await onboardTenant({ ...deps, logger: log.child({ tenantId }) }, tenantId, request);
    return {
      status: r.created ? 201 : 200,
      jsonBody: { tenant: publicTenant(r.tenant), hubs: r.hubs, changed: r.changed, appSettings: r.appSettings?.status ?? 'unchanged', onboarding: r.onboarding },
    };
  });
}

/** GET /api/tenants[?includeOffboarded=true] */
export function createListTenantsHandler(deps: OnboardingHttpDeps): HttpHandler {
  return wrap(deps, 'listTenants', async (req) => {
    const q = parseQuery(req, { includeOffboarded: queryBoolean.optional() });
    const tenants = await deps.registry.listTenants({ includeOffboarded: q.includeOffboarded ?? false });
    return { status: 200, jsonBody: { tenants: tenants.map(publicTenant) } };
  });
}

/** GET /api/tenants/{id} — status, hubs, last reconcile, coverage counts by state. */
export function createGetTenantHandler(deps: OnboardingHttpDeps): HttpHandler {
  return wrap(deps, 'getTenant', async (req) => {
    const tenantId = tenantIdParam(req);
    parseQuery(req, {});
    const tenant = await deps.registry.getTenant(tenantId);
    if (!tenant) throw new ConnectorError('not-found', `Tenant ${tenantId} is not registered`);
    const [hubs, coverage] = await Promise.all([deps.registry.listHubs(tenantId), deps.registry.listCoverage(tenantId)]);
    const byState: Record<string, number> = {};
    for (const c of coverage) byState[c.state] = (byState[c.state] ?? 0) + 1;
    return {
      status: 200,
      jsonBody: { tenant: publicTenant(tenant), hubs, lastReconcile: tenant.lastReconcile ?? null, coverage: { total: coverage.length, byState } },
    };
  });
}

/** DELETE /api/tenants/{id}[?dryRun=true|false] — offboarding; 200 with what was (would be) removed, what failed and whether a read after removal found nothing of ours left. */
export function createDeleteTenantHandler(deps: OnboardingHttpDeps): HttpHandler {
  return wrap(deps, 'deleteTenant', async (req, log) => {
    const tenantId = tenantIdParam(req);
    const dryRun = parseQuery(req, { dryRun: queryBoolean.optional() }).dryRun ?? false;
    const r = await offboardTenant({ ...deps, logger: log.child({ tenantId }) }, tenantId, { dryRun });
    return { status: 200, jsonBody: { ...r, appSettings: r.appSettings?.status ?? null } };
  });
}

/** GET /api/tenants/{id}/onboarding[?managementGroupId=…] — the customer's template and az commands. */
export function createGetOnboardingHandler(deps: OnboardingHttpDeps): HttpHandler {
  return wrap(deps, 'getOnboarding', async (req) => {
    const tenantId = tenantIdParam(req);
    const tenant = await deps.registry.getTenant(tenantId);
    if (!tenant) throw new ConnectorError('not-found', `Tenant ${tenantId} is not registered`);
    const mgParam = parseQuery(req, { managementGroupId: z.string().regex(/^[-\w.()]{1,90}$/, 'expected a management group id (1-90 letters, digits, - _ . ( ))').optional() }).managementGroupId;
    const m = onboardingTemplate(deps.settings, mgParam ?? tenant.managementGroupId ?? tenant.tenantId, tenant.entraWorkspaceIds);
    return { status: 200, jsonBody: { tenantId, managementGroupId: mgParam ?? tenant.managementGroupId ?? tenant.tenantId, template: m.template, commands: m.commands, removal: m.removal, entraDiagnostics: m.entraDiagnostics } };
  });
}

/** GET /api/tenants/{id}/operations/{operationId} — an onboarding operation's status and, once done, its result. */
export function createGetOperationHandler(deps: OnboardingHttpDeps): HttpHandler {
  return wrap(deps, 'getOperation', async (req): Promise<HttpResponseInit> => {
    const tenantId = tenantIdParam(req);
    parseQuery(req, {});
    const operationId = req.params.operationId ?? '';
    if (!LOWERCASE_GUID_PATTERN.test(operationId))
      throw new ValidationError('Invalid operation id', [{ field: 'operationId', message: 'expected the id from the Operation-Location of a 202 response' }]);
    const op = (await deps.registry.listOperations(tenantId)).find((o) => o.operationId === operationId);
    if (!op) throw new ConnectorError('not-found', `Onboarding operation ${operationId} of tenant ${tenantId} does not exist`);
    const running = op.status === 'NotStarted' || op.status === 'Running';
    const headers: Record<string, string> = running ? { 'retry-after': String(OPERATION_RETRY_AFTER_SECONDS) } : {};
    return { status: 200, headers, jsonBody: publicOperation(op) };
  });
}

/** The tenant as the API shows it (no etag: clients do not do conditional requests). */
function publicTenant(t: { etag?: string } & Record<string, unknown>): Record<string, unknown> {
  const { etag: _etag, ...rest } = t;
  return rest;
}

/** One function for `tenants/{id}` with methods GET, PUT and DELETE, when a single registration is preferred. */
export function createTenantRouteHandler(deps: OnboardingHttpDeps): HttpHandler {
  const put = createPutTenantHandler(deps);
  const get = createGetTenantHandler(deps);
  const del = createDeleteTenantHandler(deps);
  return async (req, ctx) => {
    const m = req.method.toUpperCase();
    if (m === 'PUT') return put(req, ctx);
    if (m === 'GET') return get(req, ctx);
    if (m === 'DELETE') return del(req, ctx);
    return problem(405, 'method', 'Method not allowed', `${m} is not supported on /api/tenants/{id}; use GET, PUT or DELETE`, { headers: { allow: 'GET, PUT, DELETE' } });
  };
}
