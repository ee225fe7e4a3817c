import { output } from '@azure/functions';
import { registrarFor } from '../lib/app/appRole.js';
import { appServices } from '../lib/app/appServices.js';
import { createFanOutTimerHandler } from '../lib/reconcile/triggerHandlers.js';

// Control plane: registered only when MDR_APP_ROLE is control or all (docs/fleet.md).
const app = registrarFor('control');

const services = appServices();
const queue = output.storageQueue({ queueName: services.settings.reconcile.queue, connection: 'AzureWebJobsStorage' });

app.timer('reconcile-fanout', {
  schedule: services.settings.reconcile.schedule,
  extraOutputs: [queue],
  handler: createFanOutTimerHandler(services, queue),
});
