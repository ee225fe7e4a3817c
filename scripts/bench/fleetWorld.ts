import azf from '@azure/functions';
import type { HttpResponseInit } from '@azure/functions';
import { startArmSimulator, type ArmSimulator } from '../../sim/armSimulator.js';
import { startAzurite, type AzuriteHandle } from '../../sim/azurite.js';
import { generateScenario } from '../../sim/generateScenario.js';
import { createAzureClients, staticTokenCredential, type AzureClients } from '../../src/lib/azure/clientFactory.js';
import { parseSettings, type Settings } from '../../src/lib/config/settings.js';
import { createPutTenantHandler } from '../../src/lib/onboarding/httpHandlers.js';
import { createRegistry } from '../../src/lib/registry/createRegistry.js';
import type { TenantRegistry } from '../../src/lib/registry/tenantRegistry.js';

const { HttpRequest, InvocationContext } = azf;

/**
 * A provider with a control plane and a fleet of ingest apps, on Azurite and the ARM simulator: the fleet bench
 * and the fleet integration tests onboard tenants through the real PUT handler into it and read back what the
 * simulator's App Service settings endpoint (sim/routes/web.ts) received.
 */
export interface FleetWorld {
  sim: ArmSimulator;
  azurite: AzuriteHandle;
  /** The ingest apps' site names and resource ids, in order. */
  apps: { name: string; id: string }[];
  env: Record<string, string>;
  settings: Settings;
  registry: TenantRegistry;
  clients: AzureClients;
  /** Settings with overrides (a second app list, a smaller shard...), same registry tables. */
  settingsWith(extra: Record<string, string>): Settings;
  /** PUT /api/tenants/{id} through the real handler, within the request (no onboarding queue). */
  put(tenantId: string, settings?: Settings): Promise<HttpResponseInit & { jsonBody: Record<string, unknown> }>;
  /** The app settings the simulator holds for an ingest app. */
  appSettings(name: string): Record<string, string>;
  /** Ingest apps whose settings were written since the last clearRequests(). */
  appsWritten(): string[];
  stop(): Promise<void>;
}

export interface FleetWorldOptions {
  apps: number;
  maxHubsPerApp: number;
  regions: string[];
  /** Reuse a running Azurite (tests share one); else one is started and stopped with the world. */
  azurite?: AzuriteHandle;
  tablePrefix?: string;
}

let worlds = 0;

export async function startFleetWorld(o: FleetWorldOptions): Promise<FleetWorld> {
  const scenario = generateScenario({ subscriptions: 0, resources: 0, tenants: 1, seed: 16, ingestApps: o.apps });
  const ownAzurite = o.azurite === undefined;
  const azurite = o.azurite ?? (await startAzurite());
  let sim: ArmSimulator | undefined;
  try {
    sim = await startArmSimulator({ scenario, asyncOperationPolls: 1 });
    const p = scenario.provider;
    const apps = p.ingestApps.map((a) => ({ name: a.name, id: `/subscriptions/${p.subscriptionId}/resourceGroups/${a.resourceGroup}/providers/Microsoft.Web/sites/${a.name}` }));
    const env: Record<string, string> = {
      MDR_AZURE_CLOUD: 'Custom',
      MDR_ARM_ENDPOINT: sim.url,
      MDR_AUTHORITY_HOST: 'https://login.microsoftonline.com',
      MDR_PROVIDER_TENANT_ID: p.tenantId,
      MDR_PROVIDER_SUBSCRIPTION_ID: p.subscriptionId,
      MDR_INGEST_PRINCIPAL_ID: 'dddddddd-0000-4000-8000-000000000016',
      MDR_EH_POOL_RESOURCE_GROUP: p.poolResourceGroup,
      MDR_EH_POOL_REGIONS: o.regions.join(','),
      MDR_APP_ROLE: 'control',
      MDR_INGEST_APPS: apps.map((a) => a.id).join(','),
      MDR_INGEST_APP_MAX_HUBS: String(o.maxHubsPerApp),
      AzureWebJobsStorage: azurite.connectionString,
      MDR_TABLE_PREFIX: o.tablePrefix ?? `fleet${++worlds}x${Date.now() % 100_000}`,
    };
    const settings = parseSettings(env);
    const clients = createAzureClients({ armEndpoint: sim.url, credential: staticTokenCredential(), tlsCa: sim.ca, retry: { maxRetries: 3, retryDelayInMs: 20, maxRetryDelayInMs: 200 } });
    const registry = createRegistry(settings);
    const s = sim;
    const siteOf = (path: string) => /\/providers\/Microsoft\.Web\/sites\/([^/]+)\/config\/appsettings$/i.exec(path)?.[1]?.toLowerCase();
    return {
      sim: s,
      azurite,
      apps,
      env,
      settings,
      registry,
      clients,
      settingsWith: (extra) => parseSettings({ ...env, ...extra }),
      async put(tenantId, st = settings) {
        const handler = createPutTenantHandler({ settings: st, registry, clients, lroPollMs: 5 });
        const req = new HttpRequest({ method: 'PUT', url: `http://localhost/api/tenants/${tenantId}`, params: { id: tenantId }, headers: { 'content-type': 'application/json' }, body: { string: JSON.stringify({ displayName: `Tenant ${tenantId.slice(-6)}` }) } });
        const ctx = new InvocationContext({ functionName: 'tenant', invocationId: `fleet-${tenantId}`, logHandler: () => {} });
        return (await handler(req, ctx)) as HttpResponseInit & { jsonBody: Record<string, unknown> };
      },
      appSettings: (name) => ({ ...(s.state.appSettings.get(apps.find((a) => a.name === name)?.id.toLowerCase() ?? '') ?? {}) }),
      appsWritten: () => [...new Set(s.requests.filter((r) => r.method === 'PUT' && r.status < 300).map((r) => siteOf(r.path)).filter((x): x is string => x !== undefined))].sort(),
      async stop() {
        await s.stop();
        if (ownAzurite) await azurite.stop();
      },
    };
  } catch (e) {
    await sim?.stop().catch(() => undefined);
    if (ownAzurite) await azurite.stop().catch(() => undefined);
    throw e;
  }
}
