import { app } from '@azure/functions';
import { appServices } from '../lib/app/appServices.js';
import { withOperatorAuth } from '../lib/http/operatorAuth.js';
import { withRequestLog } from '../lib/http/requestLog.js';
import { createAlertStateHttpHandler } from '../lib/alerts/httpHandlers.js';

const services = appServices();

app.http('tenant-alert-state', {
  route: 'tenants/{id}/alerts/{alertName}/state',
  methods: ['POST'],
  authLevel: 'function',
  handler: withRequestLog('tenant-alert-state', withOperatorAuth('tenant-alert-state', services.settings, createAlertStateHttpHandler(services))),
});
