import { app } from '@azure/functions';
import { appServices } from '../lib/app/appServices.js';
import { lazyHubProvisioner } from '../lib/onboarding/lazyHub.js';
import { createReconcileQueueHandler } from '../lib/reconcile/triggerHandlers.js';

// One tenant (or a batch of its subscriptions) per message; after host.json maxDequeueCount → <queue>-poison.
const services = appServices();

app.storageQueue('reconcile-tenant', {
  queueName: services.settings.reconcile.queue,
  connection: 'AzureWebJobsStorage',
  handler: createReconcileQueueHandler(services, lazyHubProvisioner(services)),
});
