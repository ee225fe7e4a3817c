import { registrarFor } from '../lib/app/appRole.js';
import { appServices } from '../lib/app/appServices.js';
import { createOnboardingQueueHandler } from '../lib/onboarding/longOnboarding.js';

// Control plane: registered only when MDR_APP_ROLE is control or all (docs/fleet.md).
const app = registrarFor('control');

// Onboardings that outlast their HTTP request (a new pool namespace); PUT /api/tenants/{id} answered 202.
const services = appServices();

app.storageQueue('onboarding-continue', {
  queueName: services.settings.onboarding.queue,
  connection: 'AzureWebJobsStorage',
  handler: createOnboardingQueueHandler(services),
});
