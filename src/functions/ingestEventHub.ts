import { registrarFor } from '../lib/app/appRole.js';
import { appServices } from '../lib/app/appServices.js';
import { ingestRegistrations } from '../lib/ingest/ingestRegistrations.js';
import { stderrLogger } from '../lib/log.js';

// One Event Hub trigger per (tenant, region) hub of this app's shard, from MDR_INGEST_BINDINGS (derived from the
// registry); only in an app whose MDR_APP_ROLE is ingest or all.
const app = registrarFor('ingest');
for (const r of ingestRegistrations(appServices(), process.env, stderrLogger('info', { component: 'ingest.registration' }))) {
  app.eventHub(r.functionName, r.options);
}
