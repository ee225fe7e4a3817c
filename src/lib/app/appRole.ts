import { app } from '@azure/functions';
import type { Settings } from '../config/settings.js';
import { appServices } from './appServices.js';

/** The two parts of the connector an app can run (docs/fleet.md): the control plane, and the ingest triggers. */
export type AppPart = 'control' | 'ingest';

export function roleServes(role: Settings['fleet']['role'], part: AppPart): boolean {
  return role === 'all' || role === part;
}

/** The registration calls the function modules use. */
export type Registrar = Pick<typeof app, 'http' | 'timer' | 'storageQueue' | 'eventHub'>;

const skipped: Registrar = {
  http: () => {},
  timer: () => {},
  storageQueue: () => {},
  eventHub: () => {},
};

/**
 * The Functions registrar for one part of the connector: the real `app` when this app's role (MDR_APP_ROLE)
 * serves that part, else one that registers nothing. A control app so has no ingest triggers, and an ingest app
 * no HTTP route, timer or queue function: it has nothing to serve but its shard of hubs.
 */
export function registrarFor(part: AppPart, role: Settings['fleet']['role'] = appServices().settings.fleet.role): Registrar {
  return roleServes(role, part) ? app : skipped;
}
