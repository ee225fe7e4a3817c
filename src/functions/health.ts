import { registrarFor } from '../lib/app/appRole.js';
import { appServices } from '../lib/app/appServices.js';
import { withOperatorAuth } from '../lib/http/operatorAuth.js';
import { withRequestLog } from '../lib/http/requestLog.js';
import { createEventHubsPartitionInfo } from '../lib/health/eventHubsPartitionInfo.js';
import { createHealthTimerHandler } from '../lib/health/healthTimerHandler.js';
import { createHealthHttpHandler } from '../lib/health/httpHandlers.js';
import { storageQueueDepth } from '../lib/health/poisonQueues.js';

// Control plane: registered only when MDR_APP_ROLE is control or all (docs/fleet.md).
const app = registrarFor('control');

const { settings, registry, storage } = appServices();
const deps = {
  settings,
  registry,
  partitionInfo: createEventHubsPartitionInfo({ authorityHost: settings.cloud.authorityHost, managedIdentityClientId: settings.managedIdentityClientId }),
};
// The control app's queue triggers: their poison queues are read on every health run (README "Operating").
const poison = { source: storageQueueDepth(storage), queues: [settings.reconcile.queue, settings.onboarding.queue] };

app.timer('stream-health', { schedule: settings.health.schedule, handler: createHealthTimerHandler({ ...deps, poison }) });
app.http('tenant-health', { route: 'tenants/{id}/health', methods: ['GET'], authLevel: 'function', handler: withRequestLog('tenant-health', withOperatorAuth('tenant-health', settings, createHealthHttpHandler(deps))) });
