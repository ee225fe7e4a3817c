import type { AzureClients } from '../azure/clientFactory.js';
import { classifyArmError } from '../azure/classifyError.js';
import type { Settings } from '../config/settings.js';
import { silentLogger, type Logger } from '../log.js';
import { bindingsFromRegistry, isOwnedIngestSetting } from '../registry/bindingsFromRegistry.js';
import type { TenantRegistry } from '../registry/tenantRegistry.js';

export type AppSettingsSyncResult =
  | { status: 'skipped'; reason: string }
  | { status: 'unchanged'; bindings: number }
  | { status: 'updated'; bindings: number; added: string[]; changed: string[]; removed: string[] };

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
    if (!(k in current)) added.push(k);
    else if (current[k] !== v) changed.push(k);
    next[k] = v;
  }
  return { next, added, changed, removed };
}

function parseAppId(id: string): { subscriptionId: string; resourceGroup: string; name: string } {
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Web\/sites\/([^/]+)$/i.exec(id);
  if (!m) throw new Error(`not a Function App resource id: ${id}`);
  return { subscriptionId: m[1]!, resourceGroup: m[2]!, name: m[3]! };
}

/**
 * Brings the Function App's own ingest settings in line with the registry (MDR_INGEST_BINDINGS and one
 * `<conn>__fullyQualifiedNamespace` per namespace), through ARM with the app's managed identity (needs
 * Website Contributor on the app). Writing app settings restarts the app, which then registers the new triggers;
 * so it writes only when something changed. Setting values are never logged (the dictionary holds secrets).
 */
export async function syncIngestAppSettings(deps: {
  settings: Pick<Settings, 'provider' | 'cloud'>;
  registry: TenantRegistry;
  clients: AzureClients;
  logger?: Logger;
}): Promise<AppSettingsSyncResult> {
  const log = deps.logger ?? silentLogger;
  const appId = deps.settings.provider.functionAppResourceId;
  if (!appId) {
    const reason = 'MDR_FUNCTION_APP_RESOURCE_ID is not set: ingest triggers were not updated; set it to let the app update its own hub bindings';
    log.warn('appsettings.skipped', { reason });
    return { status: 'skipped', reason };
  }
  const { subscriptionId, resourceGroup, name } = parseAppId(appId);
  const [hubs, namespaces] = await Promise.all([deps.registry.listHubs(), deps.registry.listNamespaces()]);
  const wiring = bindingsFromRegistry(hubs, namespaces, deps.settings.cloud.eventHubsSuffix);
  const web = await deps.clients.appService(subscriptionId);
  let current: Record<string, string>;
  try {
    current = (await web.webApps.listApplicationSettings(resourceGroup, name)).properties ?? {};
  } catch (e) {
    throw classifyArmError(e, `read app settings of ${name}`);
  }
  const { next, added, changed, removed } = mergeIngestSettings(current, wiring.appSettings);
  if (added.length + changed.length + removed.length === 0) return { status: 'unchanged', bindings: wiring.bindings.length };
  try {
    await web.webApps.updateApplicationSettings(resourceGroup, name, { properties: next });
  } catch (e) {
    throw classifyArmError(e, `update app settings of ${name}`);
  }
  log.info('appsettings.updated', { app: name, bindings: wiring.bindings.length, added, changed, removed });
  return { status: 'updated', bindings: wiring.bindings.length, added, changed, removed };
}
