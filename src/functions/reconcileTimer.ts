import { app, output } from '@azure/functions';
import { appServices } from '../lib/app/appServices.js';
import { createFanOutTimerHandler } from '../lib/reconcile/triggerHandlers.js';

const services = appServices();
const queue = output.storageQueue({ queueName: services.settings.reconcile.queue, connection: 'AzureWebJobsStorage' });

app.timer('reconcile-fanout', {
  schedule: services.settings.reconcile.schedule,
  extraOutputs: [queue],
  handler: createFanOutTimerHandler(services, queue),
});
