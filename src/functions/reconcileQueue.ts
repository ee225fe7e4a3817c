import { registrarFor } from '../lib/app/appRole.js';
import { appServices } from '../lib/app/appServices.js';
import { lazyHubProvisioner } from '../lib/onboarding/lazyHub.js';
import { createReconcileQueueHandler } from '../lib/reconcile/triggerHandlers.js';

// Control plane: registered only when MDR_APP_ROLE is control or all (docs/fleet.md).
const app = registrarFor('control');

// One tenant (or a batch of its subscriptions) per message; after host.json maxDequeueCount → <queue>-poison.
const services = appServices();

app.storageQueue('reconcile-tenant', {
  queueName: services.settings.reconcile.queue,
  connection: 'AzureWebJobsStorage',
  handler: createReconcileQueueHandler(services, lazyHubProvisioner(services)),
});
