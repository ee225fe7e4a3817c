import { createHash } from 'node:crypto';
import type { Reply, RouteContext, Router } from '../http.js';
import { armError, badRequest, notFound, paged } from '../http.js';
import type { SimResource, SimState } from '../state.js';

/**
 * Azure Lighthouse registrations, Microsoft.ManagedServices 2022-10-01 (managedservices.json): each delegation is a
 * registration definition (who manages, with which roles) and an assignment of it at subscription scope. Seeded for
 * every delegated subscription (to the provider) and every other managing tenant of it. Deleting the provider's
 * last assignment in a subscription ends the delegation: the subscription disappears and calls under it get 403.
 */
const DELETE_ROLE = '91c1777a-f3dc-4fae-b103-61d183457e46';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const MS = '/subscriptions/{sub}/providers/Microsoft.ManagedServices';

/** A stable GUID per (subscription, managing tenant, kind), as ARM templates derive theirs with guid(). */
function guidOf(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('|').toLowerCase()).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Seeds a delegation of `subscriptionId` to `managedByTenantId` (definition + assignment). */
export function addDelegation(st: SimState, subscriptionId: string, managedByTenantId: string, opts: { grantsDelete: boolean; manageeTenantId: string }): void {
  const base = `/subscriptions/${subscriptionId}/providers/Microsoft.ManagedServices`;
  const defName = guidOf(subscriptionId, managedByTenantId, 'definition');
  const authorizations = [{ principalId: guidOf(managedByTenantId, 'group'), principalIdDisplayName: 'Delegated group', roleDefinitionId: READER }];
  if (opts.grantsDelete) authorizations.push({ principalId: guidOf(managedByTenantId, 'group'), principalIdDisplayName: 'Delegated group', roleDefinitionId: DELETE_ROLE });
  const tenantName = st.tenants.get(managedByTenantId.toLowerCase())?.displayName ?? 'Managing tenant';
  const def = st.put({
    id: `${base}/registrationDefinitions/${defName}`, name: defName, type: 'Microsoft.ManagedServices/registrationDefinitions', subscriptionId,
    properties: {
      registrationDefinitionName: `${tenantName} delegation`, description: `Delegation to ${tenantName}`, authorizations, managedByTenantId,
      managedByTenantName: tenantName, manageeTenantId: opts.manageeTenantId, manageeTenantName: st.tenants.get(opts.manageeTenantId.toLowerCase())?.displayName ?? '', provisioningState: 'Succeeded',
    },
  });
  const asgName = guidOf(subscriptionId, managedByTenantId, 'assignment');
  st.put({ id: `${base}/registrationAssignments/${asgName}`, name: asgName, type: 'Microsoft.ManagedServices/registrationAssignments', subscriptionId,
    properties: { registrationDefinitionId: def.id, provisioningState: 'Succeeded' } });
}

function definitionOf(st: SimState, a: SimResource): SimResource | undefined {
  return st.get(String(a.properties.registrationDefinitionId ?? ''));
}

/** The assignment as the API answers it, with its definition inline when asked for (`$expandRegistrationDefinition`). */
function assignmentBody(st: SimState, a: SimResource, expand: boolean): Record<string, unknown> {
  const d = definitionOf(st, a);
  const properties: Record<string, unknown> = { ...a.properties };
  if (expand && d) properties.registrationDefinition = { id: d.id, type: d.type, name: d.name, properties: d.properties };
  return { id: a.id, type: a.type, name: a.name, properties };
}

/** `$filter`: the forms the spec's examples use, `managedByTenantId eq '…'` and `managedByTenantId in ('…', '…')`. */
function parseFilter(f: string | null): { tenants: Set<string> } | { error: string } | undefined {
  if (f === null || f.trim() === '') return undefined;
  let m = /^managedByTenantId\s+eq\s+'([^']*)'$/i.exec(f.trim());
  if (m) return { tenants: new Set([(m[1] ?? '').toLowerCase()]) };
  m = /^managedByTenantId\s+in\s+\(([^)]*)\)$/i.exec(f.trim());
  if (m && (m[1] ?? '').split(',').every((x) => /^\s*'[^']*'\s*$/.test(x)))
    return { tenants: new Set((m[1] ?? '').split(',').map((x) => x.trim().slice(1, -1).toLowerCase())) };
  return { error: `The filter '${f}' is not supported: use managedByTenantId eq '<id>' or managedByTenantId in ('<id>', …).` };
}

/** Whether any assignment left in the subscription delegates it to the provider. */
function delegatedToProvider(st: SimState, sub: string): boolean {
  return st.list(`/subscriptions/${sub}/providers/Microsoft.ManagedServices/registrationAssignments`)
    .some((a) => String(definitionOf(st, a)?.properties.managedByTenantId ?? '').toLowerCase() === st.providerTenantId.toLowerCase());
}

export function registerManagedServices(r: Router): void {
  r.on('GET', `${MS}/registrationAssignments`, (ctx: RouteContext): Reply => {
    const filter = parseFilter(ctx.query.get('$filter'));
    if (filter && 'error' in filter) return badRequest('InvalidFilter', filter.error);
    const expand = ctx.query.get('$expandRegistrationDefinition') === 'true';
    const all = ctx.state.list(`/subscriptions/${ctx.params.sub}/providers/Microsoft.ManagedServices/registrationAssignments`);
    const wanted = all.filter((a) => !filter || filter.tenants.has(String(definitionOf(ctx.state, a)?.properties.managedByTenantId ?? '').toLowerCase()));
    return paged(ctx, wanted.map((a) => assignmentBody(ctx.state, a, expand)));
  });
  r.on('DELETE', `${MS}/registrationAssignments/{id}`, (ctx) => {
    const sub = ctx.params.sub ?? '';
    const a = ctx.state.get(`/subscriptions/${sub}/providers/Microsoft.ManagedServices/registrationAssignments/${ctx.params.id}`);
    if (!a) return { status: 204 }; // "No Content - The registration assignment does not exist."
    // The provider's delegation must grant the Managed Services Registration assignment Delete Role.
    const own = ctx.state.list(`/subscriptions/${sub}/providers/Microsoft.ManagedServices/registrationAssignments`)
      .map((x) => definitionOf(ctx.state, x))
      .filter((d) => String(d?.properties.managedByTenantId ?? '').toLowerCase() === ctx.state.providerTenantId.toLowerCase());
    const grants = own.some((d) => ((d?.properties.authorizations as { roleDefinitionId?: string }[] | undefined) ?? []).some((x) => x.roleDefinitionId === DELETE_ROLE));
    if (!grants)
      return armError(403, 'AuthorizationFailed', `The client does not have authorization to perform action 'Microsoft.ManagedServices/registrationAssignments/delete' over scope '${a.id}'.`);
    ctx.state.delete(a.id);
    if (!delegatedToProvider(ctx.state, sub)) ctx.state.revokeDelegation(sub);
    return { status: 200 };
  });
  // An assignment that is not there: the spec's 204 answer is for DELETE only; a GET would 404.
  r.on('GET', `${MS}/registrationAssignments/{id}`, (ctx) => {
    const a = ctx.state.get(ctx.path);
    return a ? { status: 200, body: assignmentBody(ctx.state, a, ctx.query.get('$expandRegistrationDefinition') === 'true') } : notFound(`registrationAssignments/${ctx.params.id}`);
  });
}
