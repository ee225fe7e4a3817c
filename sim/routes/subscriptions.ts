import type { Router, RouteContext } from '../http.js';
import { armError, paged } from '../http.js';
import type { SimState, SimSubscription } from '../state.js';

/**
 * Subscriptions as the managing tenant sees them through Lighthouse (azure-facts §6): `tenantId` is the home
 * tenant; `managedByTenants` lists every managing tenant — the provider when delegated to it, and any other tenant
 * the customer delegated to (e.g. an MSP that is itself a customer of the provider).
 */
export function subscriptionBody(st: SimState, s: SimSubscription): Record<string, unknown> {
  const own = s.homeTenantId.toLowerCase() === st.providerTenantId.toLowerCase();
  const managers = [...(own || !s.delegated ? [] : [st.providerTenantId]), ...(s.managedByTenants ?? [])];
  return {
    id: `/subscriptions/${s.subscriptionId}`,
    subscriptionId: s.subscriptionId,
    displayName: s.displayName,
    state: s.state,
    // The home tenant is `tenantId`: Subscription at 2022-12-01 has no `homeTenantId` (subscriptions.json).
    tenantId: s.homeTenantId,
    managedByTenants: managers.map((tenantId) => ({ tenantId })),
    authorizationSource: 'RoleBased',
    subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'PayAsYouGo_2014-09-01', spendingLimit: 'Off' },
  };
}

export function visibleSubscriptions(st: SimState): SimSubscription[] {
  return [...st.subscriptions.values()].filter((s) => st.accessible(s.subscriptionId)).sort((a, b) => a.subscriptionId.localeCompare(b.subscriptionId));
}

export function registerSubscriptions(r: Router): void {
  r.on('GET', '/subscriptions', (ctx: RouteContext) => paged(ctx, visibleSubscriptions(ctx.state).map((s) => subscriptionBody(ctx.state, s))));
  r.on('GET', '/subscriptions/{sub}', (ctx) => {
    // Unknown and non-delegated subscriptions are answered (404/403) by the server before routing.
    const s = ctx.state.subscription(ctx.params.sub ?? '');
    return s ? { status: 200, body: subscriptionBody(ctx.state, s) } : armError(404, 'SubscriptionNotFound', `The subscription '${ctx.params.sub}' could not be found.`);
  });
}
