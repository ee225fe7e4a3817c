import { registrarFor } from '../lib/app/appRole.js';
import { appServices } from '../lib/app/appServices.js';
import { withOperatorAuth } from '../lib/http/operatorAuth.js';
import { withRequestLog } from '../lib/http/requestLog.js';
import { createAlertStateHttpHandler } from '../lib/alerts/httpHandlers.js';

// Control plane: registered only when MDR_APP_ROLE is control or all (docs/fleet.md).
const app = registrarFor('control');

const services = appServices();

app.http('tenant-alert-state', {
  route: 'tenants/{id}/alerts/{alertName}/state',
  methods: ['POST'],
  authLevel: 'function',
  handler: withRequestLog('tenant-alert-state', withOperatorAuth('tenant-alert-state', services.settings, createAlertStateHttpHandler(services))),
});
