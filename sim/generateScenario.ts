import type { Scenario, ScenarioSubscription } from './scenario.js';
import { seededRandom } from './faults.js';

export interface GenerateScenarioOptions {
  subscriptions: number;
  /** Total customer resources (storage accounts and key vaults), spread over the subscriptions. */
  resources: number;
  regions?: string[];
  seed: number;
  /** Customer tenants the subscriptions are spread over (default 1 per 10 subscriptions). */
  tenants?: number;
  /** Ingest Function Apps of the provider's fleet, `mdr-ingest-01…` in `rg-mdr-app` (default none). */
  ingestApps?: number;
}

/** A deterministic GUID from the PRNG (version-4 layout). */
function guidFrom(rand: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16));
  hex[12] = '4';
  hex[16] = '89ab'[Math.floor(rand() * 4)] ?? '8';
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const KINDS = [
  { kind: 'StorageV2', sku: 'Standard_LRS' },
  { kind: 'StorageV2', sku: 'Standard_GRS' },
  { kind: 'BlockBlobStorage', sku: 'Premium_LRS' },
  { kind: 'FileStorage', sku: 'Premium_LRS' },
  { kind: 'StorageV2', sku: 'Premium_LRS' },
] as const;

/** Builds a large, valid scenario for scale tests and the benchmark (100 subs / 10,000 resources in milliseconds). */
export function generateScenario(o: GenerateScenarioOptions): Scenario {
  const rand = seededRandom(o.seed);
  const regions = o.regions && o.regions.length > 0 ? o.regions : ['westeurope', 'northeurope'];
  const tenantCount = Math.max(1, o.tenants ?? Math.ceil(o.subscriptions / 10));
  const tenants: Scenario['tenants'] = Array.from({ length: tenantCount }, (_, i) => ({ tenantId: guidFrom(rand), displayName: `Customer ${i + 1}`, subscriptions: [] }));
  const subs: ScenarioSubscription[] = [];
  for (let i = 0; i < o.subscriptions; i++) {
    const region = regions[i % regions.length] ?? 'westeurope';
    const s: ScenarioSubscription = {
      subscriptionId: guidFrom(rand), displayName: `sub-${String(i + 1).padStart(4, '0')}`, state: 'Enabled', delegated: true, managedByTenants: [], delegationGrantsDelete: true,
      resourceGroups: [{ name: 'rg-workload', location: region }], storageAccounts: [], keyVaults: [], workspaces: [], diagnosticSettings: [], automations: [], alerts: [],
    };
    subs.push(s);
    tenants[i % tenantCount]?.subscriptions.push(s);
  }
  for (let i = 0; i < o.resources && subs.length > 0; i++) {
    const s = subs[i % subs.length];
    if (!s) continue;
    const location = regions[Math.floor(rand() * regions.length)] ?? 'westeurope';
    if (rand() < 0.7) {
      const k = KINDS[Math.floor(rand() * KINDS.length)] ?? KINDS[0];
      s.storageAccounts.push({ name: `st${i.toString(36).padStart(6, '0')}${Math.floor(rand() * 1e6).toString(36)}`.slice(0, 24), resourceGroup: 'rg-workload', location, kind: k.kind, sku: k.sku });
    } else s.keyVaults.push({ name: `kv-${i.toString(36)}`, resourceGroup: 'rg-workload', location });
  }
  return {
    provider: {
      tenantId: guidFrom(rand),
      subscriptionId: guidFrom(rand),
      poolResourceGroup: 'rg-mdr-eventhubs',
      ingestApps: Array.from({ length: o.ingestApps ?? 0 }, (_, i) => ({ resourceGroup: 'rg-mdr-app', name: `mdr-ingest-${String(i + 1).padStart(2, '0')}` })),
    },
    tenants,
    eventHubNamespaces: [],
  };
}
