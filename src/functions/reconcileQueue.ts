import { output } from '@azure/functions';
import { registrarFor } from '../lib/app/appRole.js';
import { appServices } from '../lib/app/appServices.js';
import { eventDrivenStores, reconcileQueueExtras } from '../lib/eventDriven/eventDrivenServices.js';
import { lazyHubProvisioner } from '../lib/onboarding/lazyHub.js';
import { createReconcileQueueHandler } from '../lib/reconcile/triggerHandlers.js';

// Control plane: registered only when MDR_APP_ROLE is control or all (docs/fleet.md).
const app = registrarFor('control');

// One tenant (or a batch of its subscriptions, or an event-driven targeted item) per message; after host.json
// maxDequeueCount → <queue>-poison. Tamper findings of targeted items go where OCSF events go.
const services = appServices();
const { settings } = services;
const downstream = settings.ingest.outputMode === 'blob' ? undefined : output.eventHub({ eventHubName: settings.ingest.downstreamEventHub, connection: settings.ingest.downstreamConnection });

app.storageQueue('reconcile-tenant', {
  queueName: settings.reconcile.queue,
  connection: 'AzureWebJobsStorage',
  extraOutputs: downstream ? [downstream] : [],
  handler: createReconcileQueueHandler(services, lazyHubProvisioner(services), reconcileQueueExtras(services, eventDrivenStores(services), downstream)),
});
