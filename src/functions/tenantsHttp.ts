import { registrarFor } from '../lib/app/appRole.js';
import { appServices } from '../lib/app/appServices.js';
import { withOperatorAuth } from '../lib/http/operatorAuth.js';
import { withRequestLog } from '../lib/http/requestLog.js';
import { createGetOnboardingHandler, createGetOperationHandler, createListTenantsHandler, createTenantRouteHandler } from '../lib/onboarding/httpHandlers.js';
import { storageOnboardingQueue } from '../lib/onboarding/longOnboarding.js';

// Control plane: registered only when MDR_APP_ROLE is control or all (docs/fleet.md).
const app = registrarFor('control');

// Onboarding API. Function-level keys at least; put Entra ID (Easy Auth) in front in production (docs/onboarding.md).
const services = appServices();
const deps = { ...services, onboardingQueue: storageOnboardingQueue(services.storage, services.settings.onboarding.queue) };

app.http('tenants-list', { route: 'tenants', methods: ['GET'], authLevel: 'function', handler: withRequestLog('tenants-list', withOperatorAuth('tenants-list', deps.settings, createListTenantsHandler(deps))) });
app.http('tenant', { route: 'tenants/{id}', methods: ['GET', 'PUT', 'DELETE'], authLevel: 'function', handler: withRequestLog('tenant', withOperatorAuth('tenant', deps.settings, createTenantRouteHandler(deps))) });
app.http('tenant-onboarding', { route: 'tenants/{id}/onboarding', methods: ['GET'], authLevel: 'function', handler: withRequestLog('tenant-onboarding', withOperatorAuth('tenant-onboarding', deps.settings, createGetOnboardingHandler(deps))) });
app.http('tenant-operation', { route: 'tenants/{id}/operations/{operationId}', methods: ['GET'], authLevel: 'function', handler: withRequestLog('tenant-operation', withOperatorAuth('tenant-operation', deps.settings, createGetOperationHandler(deps))) });
