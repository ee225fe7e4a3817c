import { app } from '@azure/functions';
import { appServices } from '../lib/app/appServices.js';
import { createOnboardingQueueHandler } from '../lib/onboarding/longOnboarding.js';

// Onboardings that outlast their HTTP request (a new pool namespace); PUT /api/tenants/{id} answered 202.
const services = appServices();

app.storageQueue('onboarding-continue', {
  queueName: services.settings.onboarding.queue,
  connection: 'AzureWebJobsStorage',
  handler: createOnboardingQueueHandler(services),
});
