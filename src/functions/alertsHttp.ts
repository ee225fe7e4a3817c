import { app } from '@azure/functions';
import { appServices } from '../lib/app/appServices.js';
import { createAlertStateHttpHandler } from '../lib/alerts/httpHandlers.js';

app.http('tenant-alert-state', {
  route: 'tenants/{id}/alerts/{alertName}/state',
  methods: ['POST'],
  authLevel: 'function',
  handler: createAlertStateHttpHandler(appServices()),
});
