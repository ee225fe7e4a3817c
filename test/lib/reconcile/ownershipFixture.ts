import { ownershipFor, type OwnershipSettings } from '../../../src/lib/reconcile/ownership.js';

/** A provider whose pool is `mdr-ingest` in its subscription, as the simulator scenarios and settingsFor set it up. */
export const PROVIDER_TENANT = 'bbbbbbbb-0000-0000-0000-000000000001';
export const POOL_SUB = 'bbbbbbbb-0000-0000-0000-0000000000aa';
export const poolSettings: OwnershipSettings = {
  prefix: 'mdr',
  provider: { tenantId: PROVIDER_TENANT, subscriptionId: POOL_SUB } as OwnershipSettings['provider'],
  pool: { resourceGroup: 'mdr-ingest', namePrefix: 'mdr-ingest' } as OwnershipSettings['pool'],
};
/** A namespace of that pool, and one of the customer's own. */
export const POOL_NS = `/subscriptions/${POOL_SUB}/resourceGroups/mdr-ingest/providers/Microsoft.EventHub/namespaces/mdr-ingest-westeurope-01`;
export const CUSTOMER_NS = '/subscriptions/aaaaaaaa-1111-0000-0000-000000000001/resourceGroups/siem/providers/Microsoft.EventHub/namespaces/customer-siem';

/** Ownership of one target whose ledger records that we wrote `written` there. */
export const own = (written: string[] = []) => ownershipFor(poolSettings, written);
