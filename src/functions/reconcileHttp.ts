import { app } from '@azure/functions';
import { appServices } from '../lib/app/appServices.js';
import { lazyHubProvisioner } from '../lib/onboarding/lazyHub.js';
import { createCoverageHttpHandler, createReconcileHttpHandler } from '../lib/reconcile/httpHandlers.js';

const services = appServices();
const deps = { ...services, ensureHub: lazyHubProvisioner(services) };

app.http('tenant-reconcile', { route: 'tenants/{id}/reconcile', methods: ['POST'], authLevel: 'function', handler: createReconcileHttpHandler(deps) });
app.http('tenant-coverage', { route: 'tenants/{id}/coverage', methods: ['GET'], authLevel: 'function', handler: createCoverageHttpHandler(deps) });
