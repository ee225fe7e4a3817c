import type { AzureClients } from '../azure/clientFactory.js';
import { classifyArmError } from '../azure/classifyError.js';
import type { Settings } from '../config/settings.js';
import { ConnectorError } from '../errors.js';
import { parseSiteId } from '../azure/siteId.js';
import { adoptUnassignedHubs, hubKey, syncPoolRecords } from '../fleet/ingestPool.js';
import { MAX_ENV_STRING_BYTES, settingsSize } from '../fleet/settingsLimits.js';
import { silentLogger, type Logger } from '../log.js';
import { bindingsFromRegistry, isOwnedIngestSetting } from '../registry/bindingsFromRegistry.js';
import type { TenantRegistry } from '../registry/tenantRegistry.js';
import type { HubAssignment, IngestAppRecord, NamespaceRecord } from '../registry/types.js';

/** What one ingest app's settings sync did. `bytes` is its largest environment string after the sync (MDR_INGEST_BINDINGS). */
export interface AppSyncResult {
  app: string;
  status: 'unchanged' | 'updated';
  bindings: number;
  bytes: number;
  added: string[];
  changed: string[];
  removed: string[];
}

export type AppSettingsSyncResult =
  | { status: 'skipped'; reason: string; apps: AppSyncResult[]; unassigned: number }
  | { status: 'unchanged' | 'updated'; bindings: number; apps: AppSyncResult[]; unassigned: number };

/** Pure merge: our desired entries over the current settings, our stale entries removed, others untouched. */
export function mergeIngestSettings(current: Record<string, string>, desired: Record<string, string>): { next: Record<string, string>; added: string[]; changed: string[]; removed: string[] } {
  const next: Record<string, string> = {};
  const added: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];
  for (const [k, v] of Object.entries(current)) {
    if (isOwnedIngestSetting(k) && !(k in desired)) removed.push(k);
    else next[k] = v;
  }
  for (const [k, v] of Object.entries(desired)) {
    // An absent MDR_INGEST_BINDINGS is its default `[]`: an app with no hubs is not restarted to say so.
    if (!(k in current) && k === 'MDR_INGEST_BINDINGS' && v === '[]') continue;
    if (!(k in current)) added.push(k);
    else if (current[k] !== v) changed.push(k);
    next[k] = v;
  }
  return { next, added, changed, removed };
}

/** The ingest settings one app should carry: the bindings of exactly the hubs its record lists. */
export function desiredAppSettings(app: IngestAppRecord, hubs: readonly HubAssignment[], namespaces: readonly NamespaceRecord[], eventHubsSuffix: string) {
  const mine = new Set(app.hubs);
  return bindingsFromRegistry(hubs.filter((h) => mine.has(hubKey(h.tenantId, h.region))), namespaces, eventHubsSuffix);
}

export interface SyncDeps {
  settings: Pick<Settings, 'fleet' | 'cloud'>;
  registry: TenantRegistry;
  clients: AzureClients;
  logger?: Logger;
}

export interface SyncOptions {
  /** Only these apps (names); default every app of the fleet. Apps that adopt unassigned hubs are added. */
  apps?: readonly string[];
  /** An operator runs it (`azure-mdr bindings`, `rebalance`): writes even when MDR_INGEST_SETTINGS_SYNC=manual. */
  operator?: boolean;
}

/**
 * Brings ingest apps' settings in line with the registry: each app gets MDR_INGEST_BINDINGS and one
 * `<conn>__fullyQualifiedNamespace` per namespace for the hubs its record lists, and nothing else of ours. Ready
 * hubs no app holds are assigned first (as far as there is room). An app's settings are written only when they
 * changed: the write restarts that app, and only that app. Written through ARM with the caller's identity (the
 * control plane holds the settings-writer role on the ingest apps' sites, never on its own). Values are never logged.
 */
export async function syncIngestAppSettings(deps: SyncDeps, opts: SyncOptions = {}): Promise<AppSettingsSyncResult> {
  const log = deps.logger ?? silentLogger;
  const { fleet } = deps.settings;
  if (fleet.ingestApps.length === 0) {
    const reason = 'no ingest app is configured (MDR_INGEST_APPS, or MDR_FUNCTION_APP_RESOURCE_ID for a single app): ingest triggers were not updated';
    log.warn('appsettings.skipped', { reason });
    return { status: 'skipped', reason, apps: [], unassigned: 0 };
  }
  await syncPoolRecords(deps);
  const [hubs, namespaces] = await Promise.all([deps.registry.listHubs(), deps.registry.listNamespaces()]);
  const adopted = await adoptUnassignedHubs(deps, hubs);
  if (adopted.left.length > 0) log.error('fleet.unassigned_hubs', { hubs: adopted.left.map((h) => hubKey(h.tenantId, h.region)), reason: 'every ingest app is full' });
  if (fleet.settingsSync === 'manual' && !opts.operator) {
    const reason = 'MDR_INGEST_SETTINGS_SYNC=manual: an operator runs `azure-mdr bindings` to write the ingest apps\' settings';
    log.warn('appsettings.skipped', { reason, apps: [...(opts.apps ?? []), ...adopted.apps] });
    return { status: 'skipped', reason, apps: [], unassigned: adopted.left.length };
  }
  const records = await deps.registry.listIngestApps();
  const wanted = opts.apps === undefined ? undefined : new Set([...opts.apps, ...adopted.apps]);
  const targets = records.filter((a) => wanted === undefined || wanted.has(a.name)).sort((a, b) => a.name.localeCompare(b.name));
  const apps: AppSyncResult[] = [];
  for (const app of targets) apps.push(await syncOneApp(deps, app, hubs, namespaces, log));
  const status = apps.some((a) => a.status === 'updated') ? 'updated' : 'unchanged';
  return { status, bindings: apps.reduce((s, a) => s + a.bindings, 0), apps, unassigned: adopted.left.length };
}

async function syncOneApp(deps: SyncDeps, app: IngestAppRecord, hubs: readonly HubAssignment[], namespaces: readonly NamespaceRecord[], log: Logger): Promise<AppSyncResult> {
  const wiring = desiredAppSettings(app, hubs, namespaces, deps.settings.cloud.eventHubsSuffix);
  const size = settingsSize(wiring.appSettings);
  if (size.largest.bytes > MAX_ENV_STRING_BYTES) {
    // The host could not start with it: refuse rather than take the app down (docs/fleet.md "Shard size").
    throw new ConnectorError('capacity', `ingest app ${app.name}: ${size.largest.name} would be ${size.largest.bytes} bytes, over the ${MAX_ENV_STRING_BYTES}-byte limit of one environment string; lower MDR_INGEST_APP_MAX_HUBS and rebalance`);
  }
  const { subscriptionId, resourceGroup, name } = parseSiteId(app.resourceId);
  const web = await deps.clients.appService(subscriptionId);
  let current: Record<string, string>;
  try {
    current = (await web.webApps.listApplicationSettings(resourceGroup, name)).properties ?? {};
  } catch (e) {
    throw classifyArmError(e, `read app settings of ${name}`);
  }
  const { next, added, changed, removed } = mergeIngestSettings(current, wiring.appSettings);
  const bytes = size.largest.bytes;
  if (added.length + changed.length + removed.length === 0) return { app: app.name, status: 'unchanged', bindings: wiring.bindings.length, bytes, added, changed, removed };
  try {
    await web.webApps.updateApplicationSettings(resourceGroup, name, { properties: next });
  } catch (e) {
    throw classifyArmError(e, `update app settings of ${name}`);
  }
  log.info('appsettings.updated', { app: name, bindings: wiring.bindings.length, bytes, added, changed, removed });
  return { app: app.name, status: 'updated', bindings: wiring.bindings.length, bytes, added, changed, removed };
}
