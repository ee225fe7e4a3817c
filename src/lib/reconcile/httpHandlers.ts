import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { ValidationError } from '../errors.js';
import { problem, TENANT_ID_PATTERN, type HttpHandler } from '../http/problem.js';
import { problemFromError } from '../http/problemFromError.js';
import { parseQuery, queryBoolean } from '../http/query.js';
import { contextLogger } from '../observability/contextLogger.js';
import { coverageReport } from './coverageReport.js';
import type { ReconcileDeps } from './reconcileTenant.js';
import { reconcileTenant } from './reconcileTenant.js';

export type ReconcileHttpDeps = ReconcileDeps;

function tenantIdOf(req: HttpRequest): string | HttpResponseInit {
  const id = req.params.id ?? '';
  return TENANT_ID_PATTERN.test(id)
    ? id.toLowerCase()
    : problem(400, 'validation', 'Invalid tenant id', `'${id.slice(0, 64)}' is not a tenant GUID (route /api/tenants/{id}/…)`, { errors: [{ field: 'tenantId', message: 'expected a GUID' }] });
}

const invalidQuery = (e: ValidationError): HttpResponseInit => problem(400, 'validation', 'Invalid query', e.message, { errors: e.problems });

/**
 * POST /api/tenants/{id}/reconcile?dryRun=true|false&full=true|false → the plan/report as JSON. A tenant that is not
 * active (offboarding, offboarded, still onboarding) is refused with 409: reconciling it would write our exports back
 * into the customer's subscriptions.
 */
export function createReconcileHttpHandler(deps: ReconcileHttpDeps): HttpHandler {
  return async (req, ctx) => {
    const id = tenantIdOf(req);
    if (typeof id !== 'string') return id;
    let flags: { dryRun: boolean; full: boolean };
    try {
      const q = parseQuery(req, { dryRun: queryBoolean.optional(), full: queryBoolean.optional() });
      flags = { dryRun: q.dryRun ?? false, full: q.full ?? false };
    } catch (e) {
      if (e instanceof ValidationError) return invalidQuery(e);
      throw e;
    }
    const tenant = await deps.registry.getTenant(id);
    if (!tenant) return problem(404, 'not-found', 'Tenant not found', `tenant ${id} is not registered`);
    const log = deps.logger ?? contextLogger(ctx, { tenantId: id });
    try {
      const report = await reconcileTenant(tenant, { ...deps, logger: log }, flags);
      return { status: 200, jsonBody: report };
    } catch (e) {
      return problemFromError(e, log);
    }
  };
}

/** GET /api/tenants/{id}/coverage → ledger entries with totals by state and target. */
export function createCoverageHttpHandler(deps: Pick<ReconcileHttpDeps, 'registry'>): HttpHandler {
  return async (req) => {
    const id = tenantIdOf(req);
    if (typeof id !== 'string') return id;
    try {
      parseQuery(req, {});
    } catch (e) {
      if (e instanceof ValidationError) return invalidQuery(e);
      throw e;
    }
    const tenant = await deps.registry.getTenant(id);
    if (!tenant) return problem(404, 'not-found', 'Tenant not found', `tenant ${id} is not registered`);
    const report = coverageReport(id, await deps.registry.listCoverage(id));
    return { status: 200, jsonBody: { ...report, lastReconcile: tenant.lastReconcile ?? null } };
  };
}
