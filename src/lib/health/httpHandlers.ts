import { ConnectorError, ValidationError } from '../errors.js';
import { problem, TENANT_ID_PATTERN, type HttpHandler } from '../http/problem.js';
import { parseQuery } from '../http/query.js';
import { contextLogger } from '../observability/contextLogger.js';
import { runHealthCheck, type HealthDeps } from './runHealthCheck.js';

/**
 * GET /api/tenants/{id}/health → the tenant's stream health (hubs, sources, ledger entries) evaluated now.
 * Read-only: the ledger is written by the health timer only, so polling this endpoint changes nothing.
 */
export function createHealthHttpHandler(deps: HealthDeps): HttpHandler {
  return async (req, ctx) => {
    const id = req.params.id ?? '';
    if (!TENANT_ID_PATTERN.test(id)) return problem(400, 'invalid-request', 'Invalid tenant id', `'${id}' is not a tenant GUID (route /api/tenants/{id}/health)`);
    try {
      parseQuery(req, {});
    } catch (e) {
      if (e instanceof ValidationError) return problem(400, 'invalid-request', 'Invalid query', e.message, { errors: e.problems });
      throw e;
    }
    try {
      const report = await runHealthCheck({ ...deps, logger: deps.logger ?? contextLogger(ctx) }, { tenantId: id.toLowerCase(), dryRun: true });
      const health = report.tenants[0];
      if (!health) return problem(503, 'health-unavailable', 'Health could not be evaluated', report.errors[0]?.message ?? 'unknown error');
      return { status: 200, jsonBody: { ...health, pendingLedgerChanges: report.ledgerChanges } };
    } catch (e) {
      if (e instanceof ConnectorError && e.kind === 'not-found') return problem(404, 'tenant-not-found', 'Tenant not found', e.message);
      throw e;
    }
  };
}
