import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { ConnectorError } from '../errors.js';
import { coverageReport } from './coverageReport.js';
import type { ReconcileDeps } from './reconcileTenant.js';
import { reconcileTenant } from './reconcileTenant.js';

export type HttpHandler = (req: HttpRequest, ctx: InvocationContext) => Promise<HttpResponseInit>;
export type ReconcileHttpDeps = ReconcileDeps;

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const problem = (status: number, title: string, detail: string, headers?: Record<string, string>): HttpResponseInit => ({
  status,
  headers: { 'content-type': 'application/problem+json', ...headers },
  jsonBody: { title, status, detail },
});

function tenantIdOf(req: HttpRequest): string | HttpResponseInit {
  const id = req.params.id ?? '';
  return GUID.test(id) ? id.toLowerCase() : problem(400, 'Invalid tenant id', `'${id}' is not a tenant GUID (route /api/tenants/{id}/…)`);
}

function fromError(e: unknown): HttpResponseInit {
  if (e instanceof ConnectorError) {
    if (e.kind === 'not-found') return problem(404, 'Not found', e.message);
    if (e.kind === 'transient') return problem(503, 'Azure is throttling or unavailable', e.message, { 'retry-after': '60' });
    if (e.kind === 'validation') return problem(400, 'Invalid request', e.message);
  }
  throw e;
}

/** POST /api/tenants/{id}/reconcile?dryRun=true|false → the plan/report as JSON. */
export function createReconcileHttpHandler(deps: ReconcileHttpDeps): HttpHandler {
  return async (req) => {
    const id = tenantIdOf(req);
    if (typeof id !== 'string') return id;
    const raw = (req.query.get('dryRun') ?? 'false').toLowerCase();
    if (!['true', 'false', '1', '0', ''].includes(raw)) return problem(400, 'Invalid dryRun', "dryRun must be 'true' or 'false'");
    const tenant = await deps.registry.getTenant(id);
    if (!tenant) return problem(404, 'Tenant not found', `tenant ${id} is not registered`);
    try {
      const report = await reconcileTenant(tenant, deps, { dryRun: raw === 'true' || raw === '1' });
      return { status: 200, jsonBody: report };
    } catch (e) {
      return fromError(e);
    }
  };
}

/** GET /api/tenants/{id}/coverage → ledger entries with totals by state and target. */
export function createCoverageHttpHandler(deps: Pick<ReconcileHttpDeps, 'registry'>): HttpHandler {
  return async (req) => {
    const id = tenantIdOf(req);
    if (typeof id !== 'string') return id;
    const tenant = await deps.registry.getTenant(id);
    if (!tenant) return problem(404, 'Tenant not found', `tenant ${id} is not registered`);
    const report = coverageReport(id, await deps.registry.listCoverage(id));
    return { status: 200, jsonBody: { ...report, lastReconcile: tenant.lastReconcile ?? null } };
  };
}
