import { app } from '@azure/functions';
import { appServices } from '../lib/app/appServices.js';
import { ingestRegistrations } from '../lib/ingest/ingestRegistrations.js';
import { stderrLogger } from '../lib/log.js';

// One Event Hub trigger per (tenant, region) hub, from MDR_INGEST_BINDINGS (derived from the registry).
for (const r of ingestRegistrations(appServices(), process.env, stderrLogger('info', { component: 'ingest.registration' }))) {
  app.eventHub(r.functionName, r.options);
}
