import { registrarFor } from '../lib/app/appRole.js';
import { appServices } from '../lib/app/appServices.js';
import { withOperatorAuth } from '../lib/http/operatorAuth.js';
import { withRequestLog } from '../lib/http/requestLog.js';
import { createEventHubsPartitionInfo } from '../lib/health/eventHubsPartitionInfo.js';
import { createHealthTimerHandler } from '../lib/health/healthTimerHandler.js';
import { createHealthHttpHandler } from '../lib/health/httpHandlers.js';

// Control plane: registered only when MDR_APP_ROLE is control or all (docs/fleet.md).
const app = registrarFor('control');

const { settings, registry } = appServices();
const deps = {
  settings,
  registry,
  partitionInfo: createEventHubsPartitionInfo({ authorityHost: settings.cloud.authorityHost, managedIdentityClientId: settings.managedIdentityClientId }),
};

app.timer('stream-health', { schedule: settings.health.schedule, handler: createHealthTimerHandler(deps) });
app.http('tenant-health', { route: 'tenants/{id}/health', methods: ['GET'], authLevel: 'function', handler: withRequestLog('tenant-health', withOperatorAuth('tenant-health', settings, createHealthHttpHandler(deps))) });
