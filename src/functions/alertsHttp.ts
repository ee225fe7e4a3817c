import { app } from '@azure/functions';
import { appServices } from '../lib/app/appServices.js';
import { withRequestLog } from '../lib/http/requestLog.js';
import { createAlertStateHttpHandler } from '../lib/alerts/httpHandlers.js';

app.http('tenant-alert-state', {
  route: 'tenants/{id}/alerts/{alertName}/state',
  methods: ['POST'],
  authLevel: 'function',
  handler: withRequestLog('tenant-alert-state', createAlertStateHttpHandler(appServices())),
});
