import { registrarFor } from '../lib/app/appRole.js';
import { appServices } from '../lib/app/appServices.js';
import { withOperatorAuth } from '../lib/http/operatorAuth.js';
import { withRequestLog } from '../lib/http/requestLog.js';
import { lazyHubProvisioner } from '../lib/onboarding/lazyHub.js';
import { createCoverageHttpHandler, createReconcileHttpHandler } from '../lib/reconcile/httpHandlers.js';

// Control plane: registered only when MDR_APP_ROLE is control or all (docs/fleet.md).
const app = registrarFor('control');

const services = appServices();
const deps = { ...services, ensureHub: lazyHubProvisioner(services) };

app.http('tenant-reconcile', { route: 'tenants/{id}/reconcile', methods: ['POST'], authLevel: 'function', handler: withRequestLog('tenant-reconcile', withOperatorAuth('tenant-reconcile', services.settings, createReconcileHttpHandler(deps))) });
app.http('tenant-coverage', { route: 'tenants/{id}/coverage', methods: ['GET'], authLevel: 'function', handler: withRequestLog('tenant-coverage', withOperatorAuth('tenant-coverage', services.settings, createCoverageHttpHandler(deps))) });
