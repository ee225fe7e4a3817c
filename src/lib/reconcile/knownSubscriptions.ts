import type { AzureClients } from '../azure/clientFactory.js';
import type { TenantRegistry } from '../registry/tenantRegistry.js';
import type { TenantRecord } from '../registry/types.js';
import { discoverSubscriptions, type DiscoveredSubscription } from './discovery.js';

/**
 * The known-subscription record: which subscriptions discovery found to be the tenant's own (home tenant). Written
 * at onboarding and by every reconcile before it writes anything, read by ingest, which trusts a record only when
 * every subscription it names is in it (ingest/attribution.ts).
 */

/** Replaces the record with what discovery found; a discovery narrowed to `only` replaces just those. */
export async function recordKnownSubscriptions(
  registry: Pick<TenantRegistry, 'putKnownSubscriptions'>,
  tenantId: string,
  found: readonly DiscoveredSubscription[],
  at: string,
  only?: readonly string[],
): Promise<void> {
  const rows = found.map((s) => ({ tenantId, subscriptionId: s.subscriptionId, displayName: s.displayName, discoveredAt: at }));
  await registry.putKnownSubscriptions(tenantId, rows, only ? { replaceSubscriptions: only } : { replaceAll: true });
}

/** Discovers the tenant's subscriptions and records them (onboarding: ingest must not wait for the first reconcile). */
export async function refreshKnownSubscriptions(clients: AzureClients, registry: Pick<TenantRegistry, 'putKnownSubscriptions'>, tenant: Pick<TenantRecord, 'tenantId'>, at: string): Promise<number> {
  const { subscriptions } = await discoverSubscriptions(clients, tenant);
  await recordKnownSubscriptions(registry, tenant.tenantId, subscriptions, at);
  return subscriptions.length;
}

/** The tenant's known subscription ids (lower case) for ingest attribution. */
export async function knownSubscriptionIds(registry: Pick<TenantRegistry, 'listKnownSubscriptions'>, tenantId: string): Promise<string[]> {
  return (await registry.listKnownSubscriptions(tenantId)).map((k) => k.subscriptionId.toLowerCase());
}
