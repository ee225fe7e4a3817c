import { activityOf, newActivityEvent } from './routes/activityLog.js';
import { addStorageAccount, type SimResource, type SimState } from './state.js';

/**
 * Changes someone in the customer's tenant makes that the simulator has no write route for (it serves storage
 * accounts read-only): made in the state and logged in the subscription's activity log as ARM logs a PUT, with the
 * caller's token as `caller`.
 */
export function createStorageAccountAs(
  sim: { state: SimState; now(): number },
  principal: string,
  subscriptionId: string,
  account: { name: string; resourceGroup: string; location: string; kind?: string; sku?: string },
): SimResource {
  const res = addStorageAccount(sim.state, subscriptionId, { kind: 'StorageV2', sku: 'Standard_LRS', ...account });
  const a = activityOf('PUT', res.id);
  if (a) sim.state.recordActivity(newActivityEvent(subscriptionId, principal, sim.now(), a));
  return res;
}
