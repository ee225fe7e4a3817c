import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startArmSimulator, type ArmSimulator, type FaultConfig } from '../../../sim/armSimulator.js';
import { parseScenario, type Scenario } from '../../../sim/scenario.js';
import { createAzureClients, staticTokenCredential, type AzureClients } from '../../../src/lib/azure/clientFactory.js';
import { parseSettings, type Settings } from '../../../src/lib/config/settings.js';
import { ensureTenantHub } from '../../../src/lib/onboarding/onboardTenant.js';
import type { ReconcileDeps } from '../../../src/lib/reconcile/reconcileTenant.js';
import { createMemoryRegistry } from '../../../src/lib/registry/memoryRegistry.js';
import type { TenantRegistry } from '../../../src/lib/registry/tenantRegistry.js';
import { tenantOptionsSchema, type TenantRecord } from '../../../src/lib/registry/types.js';

export const ACME = 'aaaaaaaa-0000-0000-0000-000000000001';
export const S1 = 'aaaaaaaa-1111-0000-0000-000000000001';
export const S2 = 'aaaaaaaa-2222-0000-0000-000000000002';

export function loadFixtureScenario(name: string): Scenario {
  const path = fileURLToPath(new URL(`../../fixtures/reconcile/${name}`, import.meta.url));
  return parseScenario(JSON.parse(readFileSync(path, 'utf8')), path);
}

export function settingsFor(scenario: Scenario, env: Record<string, string> = {}): Settings {
  return parseSettings({
    MDR_PROVIDER_TENANT_ID: scenario.provider.tenantId,
    MDR_PROVIDER_SUBSCRIPTION_ID: scenario.provider.subscriptionId,
    MDR_INGEST_PRINCIPAL_ID: 'dddddddd-0000-0000-0000-000000000001',
    MDR_EH_POOL_RESOURCE_GROUP: scenario.provider.poolResourceGroup,
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    ...env,
  });
}

export function tenantRecord(tenantId = ACME, over: Partial<TenantRecord> = {}): TenantRecord {
  return {
    tenantId,
    displayName: 'Acme',
    regions: ['westeurope'],
    entraWorkspaceIds: [],
    options: tenantOptionsSchema.parse({}), // the defaults: every source, every storage service
    status: 'active',
    createdAt: '2026-11-01T00:00:00Z',
    updatedAt: '2026-11-01T00:00:00Z',
    ...over,
  };
}

export interface SimHarness {
  sim: ArmSimulator;
  settings: Settings;
  clients: AzureClients;
  registry: TenantRegistry;
  deps: ReconcileDeps;
  /** ensureHub calls the reconciler made (regions). */
  provisioned: string[];
  /** Requests that wrote (PUT/PATCH/POST-action/DELETE) since the last clearRequests(). */
  writes(): { method: string; path: string }[];
  stop(): Promise<void>;
}

/** Simulator + clients + a registry holding the tenant and its westeurope hub (provisioned through onboarding's code). */
export async function startHarness(opts: { scenario: Scenario; faults?: FaultConfig; seed?: number; registry?: TenantRegistry; maxRetries?: number; throttle?: boolean; timeoutMs?: number }): Promise<SimHarness> {
  const sim = await startArmSimulator({ scenario: opts.scenario, faults: opts.faults, seed: opts.seed, throttle: opts.throttle });
  const settings = settingsFor(opts.scenario);
  const clients = createAzureClients({ armEndpoint: sim.url, credential: staticTokenCredential(), tlsCa: sim.ca, retry: { retryDelayInMs: 5, maxRetryDelayInMs: 20, maxRetries: opts.maxRetries }, timeoutMs: opts.timeoutMs });
  const registry = opts.registry ?? createMemoryRegistry();
  const tenant = opts.scenario.tenants[0]?.tenantId ?? ACME;
  if (!(await registry.getTenant(tenant))) await registry.putTenant(tenantRecord(tenant));
  const onboarding = { settings, registry, clients, lroPollMs: 5 };
  await ensureTenantHub(onboarding, tenant, 'westeurope');
  const provisioned: string[] = [];
  const deps: ReconcileDeps = {
    settings,
    registry,
    clients,
    ensureHub: async (t, region) => {
      provisioned.push(region);
      return (await ensureTenantHub(onboarding, t.tenantId, region)).hub;
    },
  };
  sim.clearRequests();
  return {
    sim,
    settings,
    clients,
    registry,
    deps,
    provisioned,
    writes: () => sim.requests.filter((r) => r.kind !== 'read').map((r) => ({ method: r.method, path: r.path })),
    stop: () => sim.stop(),
  };
}
