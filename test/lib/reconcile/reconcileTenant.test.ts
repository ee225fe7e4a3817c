import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../../src/lib/config/settings.js';
import { reconcileTenant } from '../../../src/lib/reconcile/reconcileTenant.js';
import { teardownTenantExports } from '../../../src/lib/reconcile/teardown.js';
import { tenantOptionsSchema, type HubAssignment, type TenantRecord } from '../../../src/lib/registry/types.js';
import { fakeArm, seededRegistry, type FakeArmState } from './fakeArm.js';

const TENANT = 'aaaaaaaa-0000-0000-0000-000000000001';
const SUB = '5ub00000-0000-0000-0000-000000000001'.replace('5ub', '000');
const PROVIDER = 'bbbbbbbb-0000-0000-0000-000000000001';
const settings = parseSettings({ MDR_PROVIDER_TENANT_ID: PROVIDER, MDR_PROVIDER_SUBSCRIPTION_ID: PROVIDER, MDR_INGEST_PRINCIPAL_ID: PROVIDER, AzureWebJobsStorage: 'UseDevelopmentStorage=true' });
const rg = `/subscriptions/${SUB}/resourceGroups/app`;
const NS = (region: string) => `/subscriptions/${PROVIDER}/resourceGroups/mdr-ingest/providers/Microsoft.EventHub/namespaces/mdr-${region}`;
const hub = (region: string): HubAssignment => ({
  tenantId: TENANT,
  region,
  namespace: `mdr-${region}`,
  namespaceId: NS(region),
  hub: 'tenant-acme',
  consumerGroup: 'mdr',
  namespaceRuleId: `${NS(region)}/authorizationRules/mdr-diag`,
  sendRuleId: `${NS(region)}/eventhubs/tenant-acme/authorizationRules/mdr-send`,
  state: 'ready',
  createdAt: '2026-01-01T00:00:00Z',
});
const tenant: TenantRecord = {
  tenantId: TENANT,
  displayName: 'Acme',
  regions: ['westeurope'],
  entraWorkspaceIds: [],
  options: tenantOptionsSchema.parse({}), // the defaults: every source, every storage service
  status: 'active',
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
};

function scenario(over: Partial<FakeArmState> = {}): FakeArmState {
  return {
    subscriptions: [
      { subscriptionId: SUB, tenantId: TENANT },
      { subscriptionId: '00000000-0000-0000-0000-00000000dead', tenantId: TENANT, state: 'Disabled' },
      { subscriptionId: '00000000-0000-0000-0000-0000000000ff', tenantId: 'cccccccc-0000-0000-0000-000000000001' },
    ],
    resources: [
      { id: `${rg}/providers/Microsoft.Storage/storageAccounts/gpv2`, name: 'gpv2', type: 'microsoft.storage/storageaccounts', location: 'westeurope', kind: 'StorageV2', sku: { name: 'Standard_LRS' }, subscriptionId: SUB, resourceGroup: 'app' },
      { id: `${rg}/providers/Microsoft.Storage/storageAccounts/files`, name: 'files', type: 'microsoft.storage/storageaccounts', location: 'westeurope', kind: 'FileStorage', sku: { name: 'Premium_LRS' }, subscriptionId: SUB, resourceGroup: 'app' },
      { id: `${rg}/providers/Microsoft.KeyVault/vaults/kv`, name: 'kv', type: 'microsoft.keyvault/vaults', location: 'West Europe', subscriptionId: SUB, resourceGroup: 'app' },
      { id: `${rg}/providers/Microsoft.OperationalInsights/workspaces/ws`, name: 'ws', type: 'microsoft.operationalinsights/workspaces', location: 'westeurope', subscriptionId: SUB, resourceGroup: 'app' },
    ],
    groups: [{ id: `/subscriptions/${SUB}/resourceGroups/MDRAutomation`, name: 'MDRAutomation', location: 'westeurope', subscriptionId: SUB }],
    settings: {},
    exports: { [`${rg}/providers/Microsoft.OperationalInsights/workspaces/ws`]: [] },
    automations: [],
    ...over,
  };
}

describe('reconcileTenant', () => {
  it('creates every target on a fresh tenant, then a second run plans nothing and writes nothing', async () => {
    const arm = fakeArm(scenario());
    const registry = await seededRegistry([tenant], [hub('westeurope')]);
    const first = await reconcileTenant(TENANT, { settings, registry, clients: arm.clients });
    // activity log + defender + 4 gpv2 services + 1 file service + vault + workspace
    expect(first.counts).toEqual({ created: 9 });
    expect(first.plan.filter((a) => a.resourceId.includes('/files/')).map((a) => a.resourceId.split('/').slice(-2)[0])).toEqual(['fileServices']);
    expect(first.result).toBe('succeeded');
    const writesAfterFirst = arm.writes().length;
    const second = await reconcileTenant(TENANT, { settings, registry, clients: arm.clients });
    expect(second.counts).toEqual({ streaming: 9 });
    expect(arm.writes().length).toBe(writesAfterFirst);
    expect(second.armWrites).toBe(0);
    // The plan says streaming; the ledger keeps `created` through the 90-minute grace stream health grants new settings.
    expect((await registry.listCoverage(TENANT)).map((e) => e.state)).toEqual(Array(9).fill('created'));
    expect((await registry.getTenant(TENANT))?.lastReconcile).toMatchObject({ result: 'succeeded', summary: { streaming: 9 } });
  });

  it('plans without writing in dry-run mode and leaves the ledger alone', async () => {
    const arm = fakeArm(scenario());
    const registry = await seededRegistry([tenant], [hub('westeurope')]);
    const r = await reconcileTenant(TENANT, { settings, registry, clients: arm.clients }, { dryRun: true });
    expect(r.actions).toEqual({ create: 9 });
    expect(arm.writes()).toEqual([]);
    expect(await registry.listCoverage(TENANT)).toEqual([]);
  });

  it('reports a vault in a region without a hub, then provisions one through ensureHub and covers it', async () => {
    const state = scenario();
    state.resources.push({ id: `${rg}/providers/Microsoft.KeyVault/vaults/kv-us`, name: 'kv-us', type: 'microsoft.keyvault/vaults', location: 'eastus', subscriptionId: SUB, resourceGroup: 'app' });
    const arm = fakeArm(state);
    const registry = await seededRegistry([tenant], [hub('westeurope')]);
    const without = await reconcileTenant(TENANT, { settings, registry, clients: arm.clients });
    expect(without.plan.find((a) => a.resourceId.endsWith('kv-us'))).toMatchObject({ kind: 'blocked', coverage: 'no-hub-in-region' });
    const provisioned: string[] = [];
    const ensureHub = async (_t: TenantRecord, region: string) => {
      provisioned.push(region);
      return hub(region);
    };
    const withHub = await reconcileTenant(TENANT, { settings, registry, clients: arm.clients, ensureHub });
    expect(provisioned).toEqual(['eastus']);
    expect(withHub.plan.find((a) => a.resourceId.endsWith('kv-us'))).toMatchObject({ kind: 'create', coverage: 'created' });
    expect(arm.diag.store.get(`${rg}/providers/Microsoft.KeyVault/vaults/kv-us`.slice(1).toLowerCase())?.get('mdr-export')?.eventHubAuthorizationRuleId).toContain('mdr-eastus');
  });

  it('records a 403 on one target as forbidden and still covers the others', async () => {
    const arm = fakeArm(scenario({ forbidden: [`${rg}/providers/Microsoft.KeyVault/vaults/kv`] }));
    const registry = await seededRegistry([tenant], [hub('westeurope')]);
    const r = await reconcileTenant(TENANT, { settings, registry, clients: arm.clients });
    expect(r.plan.find((a) => a.target === 'keyvault-diagnostics')).toMatchObject({ coverage: 'forbidden' });
    expect(r.counts.created).toBe(8);
    expect(r.result).toBe('partial');
    expect(r.errors).toHaveLength(1);
  });

  it('reports a missing delegation as a failed run without throwing', async () => {
    const arm = fakeArm(scenario({ subscriptions: [] }));
    const registry = await seededRegistry([tenant], [hub('westeurope')]);
    const r = await reconcileTenant(TENANT, { settings, registry, clients: arm.clients });
    expect(r.result).toBe('failed');
    expect(r.errors[0]?.message).toMatch(/Lighthouse delegation/);
  });

  it('uses the listKeys connection string only when writing the Defender automation', async () => {
    const arm = fakeArm(scenario());
    const registry = await seededRegistry([tenant], [hub('westeurope')]);
    await reconcileTenant(TENANT, { settings, registry, clients: arm.clients });
    expect(arm.calls.filter((c) => c.op === 'listKeys')).toHaveLength(1);
    await reconcileTenant(TENANT, { settings, registry, clients: arm.clients });
    expect(arm.calls.filter((c) => c.op === 'listKeys')).toHaveLength(1);
  });
});

describe('teardownTenantExports', () => {
  it('removes only objects that are provably ours and leaves customer ones', async () => {
    const arm = fakeArm(scenario());
    const registry = await seededRegistry([tenant], [hub('westeurope')]);
    await reconcileTenant(TENANT, { settings, registry, clients: arm.clients });
    const kvUri = `${rg}/providers/Microsoft.KeyVault/vaults/kv`.slice(1);
    await arm.diag.api.createOrUpdate(kvUri, 'customer-siem', { eventHubName: 'theirs', logs: [] });
    const writes = arm.writes().length;
    // the ledger's provenance proves them ours (this pool's namespaces are not named like a pool's)
    const ledger = await registry.listCoverage(TENANT);
    const dry = await teardownTenantExports({ tenant, clients: arm.clients, settings, ledger, dryRun: true });
    expect(dry.removed).toHaveLength(9);
    expect(arm.writes().length).toBe(writes);
    const done = await teardownTenantExports({ tenant, clients: arm.clients, settings, ledger });
    expect(done.verified).toBe(true);
    expect(done.removed).toHaveLength(9);
    expect(done.failed).toEqual([]);
    const again = await reconcileTenant(TENANT, { settings, registry, clients: arm.clients }, { dryRun: true });
    expect(again.actions).toEqual({ create: 9 });
    expect([...(arm.diag.store.get(kvUri.toLowerCase())?.keys() ?? [])]).toEqual(['customer-siem']);
  });
});
