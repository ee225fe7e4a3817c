import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { AzureClients } from '../azure/clientFactory.js';
import type { Settings } from '../config/settings.js';
import { ConnectorError, ValidationError } from '../errors.js';
import type { Logger } from '../log.js';
import { problem, TENANT_ID_PATTERN, type FieldProblem, type HttpHandler } from '../http/problem.js';
import { callerLabel, operatorAuthConfig, resolveCaller } from '../http/operatorAuth.js';
import { parseQuery } from '../http/query.js';
import { contextLogger } from '../observability/contextLogger.js';
import type { TenantRegistry } from '../registry/tenantRegistry.js';
import { alertNameProblem, parseAlertStateBody, setAlertState } from './alertState.js';

export interface AlertStateHttpDeps {
  clients: AzureClients;
  registry: Pick<TenantRegistry, 'getTenant'>;
  /** Defaults to the invocation's logger (the audit line then lands in Application Insights). */
  logger?: Logger;
  /** Whether caller headers can be trusted (operatorAuth.ts); absent = they cannot, the caller is "function key". */
  settings?: Pick<Settings, 'http'>;
}

const MAX_BODY_BYTES = 16 * 1024;

const invalid = (errors: FieldProblem[]) => problem(400, 'invalid-request', 'Invalid request', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors });

/** The verified caller (operatorAuth.ts): a header any client can send is never taken as the actor. */
function actorOf(req: HttpRequest, deps: AlertStateHttpDeps): string {
  const c = resolveCaller(req, deps.settings ? operatorAuthConfig(deps.settings) : { easyAuth: false, platformAuthEnabled: false });
  return 'problem' in c ? 'unknown' : callerLabel(c);
}

function fromError(e: unknown): HttpResponseInit {
  if (e instanceof ValidationError) return invalid(e.problems.length > 0 ? e.problems : [{ field: '(body)', message: e.message }]);
  if (!(e instanceof ConnectorError)) throw e;
  if (e.kind === 'not-found') return problem(404, e.code === 'SubscriptionNotInTenant' ? 'subscription-not-in-tenant' : 'alert-not-found', 'Not found', e.message);
  if (e.statusCode === 401 || e.statusCode === 403) return problem(403, e.code === 'SubscriptionNotDelegated' ? 'subscription-not-delegated' : 'delegation-forbidden', 'The delegation does not allow this', e.message);
  if (e.kind === 'transient') return problem(503, 'azure-unavailable', 'Azure is throttling or unavailable', e.message, { headers: { 'retry-after': '60' } });
  if (e.statusCode === 400) return problem(400, 'azure-rejected', 'Azure rejected the request', e.message);
  return problem(502, 'azure-error', 'Azure returned an error', e.message);
}

/**
 * POST /api/tenants/{id}/alerts/{alertName}/state, body `{state, subscriptionId, location, resourceGroup?}` →
 * 200 `{tenantId, subscriptionId, resourceGroup?, location, alertName, from?, to}`; 400 names the bad fields,
 * 404 unknown tenant/subscription/alert, 403 when the delegation lacks Security Admin, 503 when Azure throttles.
 */
export function createAlertStateHttpHandler(deps: AlertStateHttpDeps): HttpHandler {
  return async (req, ctx) => {
    const errors: FieldProblem[] = [];
    const id = req.params.id ?? '';
    const alertName = req.params.alertName ?? '';
    if (!TENANT_ID_PATTERN.test(id)) errors.push({ field: 'tenantId', message: 'expected a tenant GUID in the route /api/tenants/{id}/alerts/{alertName}/state' });
    const nameProblem = alertNameProblem(alertName);
    if (nameProblem) errors.push({ field: 'alertName', message: nameProblem });
    try {
      parseQuery(req, {});
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      errors.push(...e.problems);
    }

    let raw: unknown;
    const text = await req.text();
    if (Buffer.byteLength(text) > MAX_BODY_BYTES) errors.push({ field: '(body)', message: `too large (at most ${MAX_BODY_BYTES} bytes)` });
    else {
      try {
        raw = text.trim() === '' ? undefined : (JSON.parse(text) as unknown);
      } catch {
        errors.push({ field: '(body)', message: 'expected a JSON object like {"state":"Dismissed","subscriptionId":"…","location":"centralus"}' });
      }
      if (raw === undefined && errors.every((e) => e.field !== '(body)')) errors.push({ field: '(body)', message: 'required: a JSON object with state, subscriptionId and location' });
    }
    let body;
    if (raw !== undefined) {
      try {
        body = parseAlertStateBody(raw);
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
        errors.push(...e.problems);
      }
    }
    if (errors.length > 0 || !body) return invalid(errors);

    const tenantId = id.toLowerCase();
    const tenant = await deps.registry.getTenant(tenantId);
    if (!tenant || tenant.status === 'offboarded') return problem(404, 'tenant-not-found', 'Tenant not found', `tenant ${tenantId} is not registered`);
    try {
      const result = await setAlertState({ clients: deps.clients, tenant, alertName, body, actor: actorOf(req, deps), logger: deps.logger ?? contextLogger(ctx) });
      return { status: 200, jsonBody: result };
    } catch (e) {
      return fromError(e);
    }
  };
}
