import { describe, expect, it } from 'vitest';
import type { AzureClients } from '../../../src/lib/azure/clientFactory.js';
import { parseSettings } from '../../../src/lib/config/settings.js';
import { reconcileTenant } from '../../../src/lib/reconcile/reconcileTenant.js';
import type { HubAssignment, TenantRecord } from '../../../src/lib/registry/types.js';
import { fakeArm, seededRegistry, type FakeArmState } from './fakeArm.js';

/**
 * What a failed write may and may not change, found in review (2026-12-03); each case failed before its fix:
 * a provider-side 404 (the tenant hub's Send rule) read as "the customer's resource is gone" dropped the Defender
 * target from plan and ledger with the run `succeeded`; a provider-side 403 sent the customer to check Lighthouse;
 * a refused create made its name "ours", so a customer's later object of that name was taken over.
 */
const TENANT = 'aaaaaaaa-0000-0000-0000-000000000001';
const SUB = '00000000-0000-0000-0000-000000000001';
const PROVIDER = 'bbbbbbbb-0000-0000-0000-000000000001';
const settings = parseSettings({ MDR_PROVIDER_TENANT_ID: PROVIDER, MDR_PROVIDER_SUBSCRIPTION_ID: PROVIDER, MDR_INGEST_PRINCIPAL_ID: PROVIDER, AzureWebJobsStorage: 'UseDevelopmentStorage=true' });
const NS = `/subscriptions/${PROVIDER}/resourceGroups/mdr-ingest/providers/Microsoft.EventHub/namespaces/mdr-ingest-westeurope-01`;
const HUB_ID = `${NS}/eventhubs/mdr-${TENANT}`;
const hub: HubAssignment = { tenantId: TENANT, region: 'westeurope', namespace: 'mdr-ingest-westeurope-01', namespaceId: NS, hub: `mdr-${TENANT}`, consumerGroup: 'mdr', namespaceRuleId: `${NS}/authorizationRules/mdr-diagnostics`, sendRuleId: `${HUB_ID}/authorizationRules/mdr-send`, state: 'ready', createdAt: '2026-01-01T00:00:00Z' };
const only = (o: Partial<TenantRecord['options']>): TenantRecord => ({
  tenantId: TENANT,
  displayName: 'Acme',
  regions: ['westeurope'],
  entraWorkspaceIds: [],
  options: { activityLog: false, storage: false, keyVault: false, entraDataExport: false, defenderAlerts: false, storageServices: [], ...o },
  status: 'active',
  createdAt: 'x',
  updatedAt: 'x',
});
const KV = `/subscriptions/${SUB}/resourceGroups/app/providers/Microsoft.KeyVault/vaults/kv`;
const state = (automations: FakeArmState['automations'] = []): FakeArmState => ({
  subscriptions: [{ subscriptionId: SUB, tenantId: TENANT }],
  resources: [{ id: KV, name: 'kv', type: 'microsoft.keyvault/vaults', location: 'westeurope', subscriptionId: SUB, resourceGroup: 'app' }],
  groups: [{ id: `/subscriptions/${SUB}/resourceGroups/MDRAutomation`, name: 'MDRAutomation', location: 'westeurope', subscriptionId: SUB }],
  settings: {},
  exports: {},
  automations,
});
const failingListKeys = (clients: AzureClients, statusCode: number) =>
  ({ ...clients, eventHub: async () => ({ eventHubs: { listKeys: async () => Promise.reject(Object.assign(new Error(`listKeys refused (${statusCode})`), { statusCode })) } }) }) as unknown as AzureClients;

describe('a failed write', () => {
  it("a 404 on the tenant hub's Send rule (provider side) is a failure in plan and ledger, not a resource gone", async () => {
    const arm = fakeArm(state());
    const registry = await seededRegistry([only({ defenderAlerts: true })], [hub]);
    expect((await reconcileTenant(TENANT, { settings, registry, clients: arm.clients })).plan.map((a) => `${a.target} ${a.kind}`)).toEqual(['defender-export create']);
    arm.state.automations = []; // ours deleted; the Send rule is gone too
    const run = await reconcileTenant(TENANT, { settings, registry, clients: failingListKeys(arm.clients, 404) });
    expect(run.result).toBe('partial');
    expect(run.plan).toEqual([expect.objectContaining({ target: 'defender-export', coverage: 'failed', reason: expect.stringContaining('provider-side') })]);
    expect(run.errors).toHaveLength(1);
    expect((await registry.listCoverage(TENANT)).map((e) => `${e.target} ${e.state}`)).toEqual(['defender-export failed']);
  });

  it('without the Send rule, a working automation of ours elsewhere is not deleted for a replacement that cannot be made', async () => {
    const elsewhere = { id: `/subscriptions/${SUB}/resourceGroups/old-rg/providers/Microsoft.Security/automations/mdr-defender-export`, name: 'mdr-defender-export', isEnabled: true, sources: [{ eventSource: 'Alerts' }], scopes: [{ scopePath: `/subscriptions/${SUB}` }], actions: [{ actionType: 'EventHub', eventHubResourceId: HUB_ID }] };
    const arm = fakeArm(state([elsewhere] as FakeArmState['automations']));
    const registry = await seededRegistry([only({ defenderAlerts: true })], [hub]);
    const run = await reconcileTenant(TENANT, { settings, registry, clients: failingListKeys(arm.clients, 404) });
    expect(run.plan[0]).toMatchObject({ coverage: 'failed' });
    expect(arm.state.automations.map((a) => a.id)).toEqual([elsewhere.id]);
    expect(arm.writes()).toEqual([]);
  });

  it("a 403 in the provider's subscription is not blamed on the customer's delegation", async () => {
    const arm = fakeArm(state());
    const registry = await seededRegistry([only({ defenderAlerts: true })], [hub]);
    const run = await reconcileTenant(TENANT, { settings, registry, clients: failingListKeys(arm.clients, 403) });
    const a = run.plan[0]!;
    expect(a).toMatchObject({ coverage: 'failed', reason: expect.stringContaining('provider-side') });
    expect(`${a.reason} ${a.detail}`).not.toMatch(/delegation|Lighthouse/);
    expect(a.detail).toContain('HTTP 403');
  });

  it('a provider-side transient failure (the Send rule keys, before any customer-side write) claims no name either', async () => {
    const arm = fakeArm(state());
    const registry = await seededRegistry([only({ defenderAlerts: true })], [hub]);
    await reconcileTenant(TENANT, { settings, registry, clients: failingListKeys(arm.clients, 503) });
    expect(arm.writes()).toEqual([]);
    expect((await registry.listCoverage(TENANT))[0]?.ownedNames ?? []).toEqual([]);
    // So the first creation afterwards is a creation, not a "repair" a forged record could be pinned on.
    expect((await reconcileTenant(TENANT, { settings, registry, clients: arm.clients })).plan[0]).toMatchObject({ kind: 'create', coverage: 'created' });
  });

  it('a refused create claims no name: a same-named setting the customer makes later stays theirs', async () => {
    const arm = fakeArm(state());
    const registry = await seededRegistry([only({ keyVault: true })], [hub]);
    const monitor = await arm.clients.monitor(SUB);
    const refused = { ...arm.clients, monitor: async () => ({ ...monitor, diagnosticSettings: { ...monitor.diagnosticSettings, createOrUpdate: async () => Promise.reject(Object.assign(new Error('AuthorizationFailed'), { statusCode: 403 })) } }) } as unknown as AzureClients;
    expect((await reconcileTenant(TENANT, { settings, registry, clients: refused })).plan[0]).toMatchObject({ coverage: 'forbidden' });
    expect((await registry.listCoverage(TENANT))[0]?.ownedNames ?? []).toEqual([]);

    const siem = '/subscriptions/aaaaaaaa-1111-0000-0000-000000000001/resourceGroups/siem/providers/Microsoft.EventHub/namespaces/customer-siem/authorizationRules/RootManageSharedAccessKey';
    await monitor.diagnosticSettings.createOrUpdate(KV.slice(1), 'mdr-export', { eventHubAuthorizationRuleId: siem, eventHubName: 'siem', logs: [{ category: 'AuditEvent', enabled: true }] });
    await reconcileTenant(TENANT, { settings, registry, clients: arm.clients });
    const onVault = [];
    for await (const x of monitor.diagnosticSettings.list(KV.slice(1))) onVault.push(x);
    expect(onVault.find((x) => x.name === 'mdr-export')).toMatchObject({ eventHubAuthorizationRuleId: siem, eventHubName: 'siem' });
    // Ours was made beside it, under another name.
    expect(onVault.filter((x) => x.eventHubName === `mdr-${TENANT}`).map((x) => x.name)).toEqual(['mdr-export-2']);
  });

  it('a create that timed out may have landed: its name stays ours, so the next run repairs rather than duplicates', async () => {
    const arm = fakeArm(state());
    const registry = await seededRegistry([only({ keyVault: true })], [hub]);
    const monitor = await arm.clients.monitor(SUB);
    const landedThenTimedOut = {
      ...arm.clients,
      monitor: async () => ({
        ...monitor,
        diagnosticSettings: {
          ...monitor.diagnosticSettings,
          createOrUpdate: async (...a: Parameters<typeof monitor.diagnosticSettings.createOrUpdate>) => {
            await monitor.diagnosticSettings.createOrUpdate(...a);
            throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
          },
        },
      }),
    } as unknown as AzureClients;
    expect((await reconcileTenant(TENANT, { settings, registry, clients: landedThenTimedOut })).plan[0]).toMatchObject({ coverage: 'failed' });
    expect((await registry.listCoverage(TENANT))[0]?.ownedNames).toEqual(['mdr-export']);
  });
});

/**
 * A target the tenant no longer asks for (found in review, 2026-12-03: turning `keyVault` off left our setting
 * streaming, and the ledger forgot it). Our object is removed, proved ours; the customer's are never touched.
 */
describe('a target the tenant no longer asks for', () => {
  const onVault = (arm: ReturnType<typeof fakeArm>) => [...(arm.diag.store.get(KV.slice(1).toLowerCase())?.values() ?? [])].map((x) => x.name);
  const turnOff = async (registry: Awaited<ReturnType<typeof seededRegistry>>) => {
    const t = (await registry.getTenant(TENANT))!;
    await registry.putTenant({ ...t, options: { ...t.options, keyVault: false } });
  };

  it('an option turned off: ours is removed, the run says so once, then the ledger forgets it', async () => {
    const siem = '/subscriptions/aaaaaaaa-1111-0000-0000-000000000001/resourceGroups/siem/providers/Microsoft.EventHub/namespaces/customer-siem/authorizationRules/RootManageSharedAccessKey';
    const arm = fakeArm({ ...state(), settings: { [KV.slice(1)]: [{ name: 'mdr-siem', eventHubAuthorizationRuleId: siem, eventHubName: 'siem', logs: [{ category: 'AuditEvent', enabled: true }] }] } });
    const registry = await seededRegistry([only({ keyVault: true })], [hub]);
    await reconcileTenant(TENANT, { settings, registry, clients: arm.clients });
    expect(onVault(arm).sort()).toEqual(['mdr-export', 'mdr-siem']);
    await turnOff(registry);

    const dry = await reconcileTenant(TENANT, { settings, registry, clients: arm.clients }, { dryRun: true });
    expect(dry.plan).toEqual([expect.objectContaining({ kind: 'delete', name: 'mdr-export', coverage: 'removed', reasonCode: 'not-wanted' })]);
    expect(onVault(arm).sort()).toEqual(['mdr-export', 'mdr-siem']);

    const run = await reconcileTenant(TENANT, { settings, registry, clients: arm.clients });
    expect(run.result).toBe('succeeded');
    expect(run.plan).toEqual([expect.objectContaining({ kind: 'delete', name: 'mdr-export', coverage: 'removed' })]);
    expect(onVault(arm)).toEqual(['mdr-siem']); // the customer's, prefixed, pointing at their SIEM: untouched
    expect((await registry.listCoverage(TENANT)).map((e) => e.state)).toEqual(['removed']);

    arm.calls.length = 0;
    const quiet = await reconcileTenant(TENANT, { settings, registry, clients: arm.clients });
    expect(quiet.plan).toEqual([]);
    expect(await registry.listCoverage(TENANT)).toEqual([]);
    expect(arm.writes()).toEqual([]);
  });

  it('a resource discovery misses for a run while its option is on keeps ours', async () => {
    const arm = fakeArm(state());
    const registry = await seededRegistry([only({ keyVault: true })], [hub]);
    await reconcileTenant(TENANT, { settings, registry, clients: arm.clients });
    const resources = arm.state.resources;
    arm.state.resources = [];
    await reconcileTenant(TENANT, { settings, registry, clients: arm.clients });
    expect(onVault(arm)).toEqual(['mdr-export']);
    arm.state.resources = resources;
  });

  it('a removal that fails keeps the provenance, and the next run removes it', async () => {
    const arm = fakeArm(state());
    const registry = await seededRegistry([only({ keyVault: true })], [hub]);
    await reconcileTenant(TENANT, { settings, registry, clients: arm.clients });
    await turnOff(registry);
    const monitor = await arm.clients.monitor(SUB);
    const refusing = { ...arm.clients, monitor: async () => ({ ...monitor, diagnosticSettings: { ...monitor.diagnosticSettings, delete: async () => Promise.reject(Object.assign(new Error('Server busy'), { statusCode: 503 })) } }) } as unknown as AzureClients;
    const failed = await reconcileTenant(TENANT, { settings, registry, clients: refusing });
    expect(failed.plan).toEqual([expect.objectContaining({ coverage: 'failed', reasonCode: 'not-wanted' })]);
    expect((await registry.listCoverage(TENANT))[0]).toMatchObject({ state: 'failed', ownedNames: ['mdr-export'] });
    await reconcileTenant(TENANT, { settings, registry, clients: arm.clients });
    expect(onVault(arm)).toEqual([]);
  });
});

describe('the grace of a new setting', () => {
  it('with MDR_SILENCE_THRESHOLD_MINUTES above 90, the ledger keeps created as long as health waits for it', async () => {
    const { carryOver } = await import('../../../src/lib/reconcile/reconcileTenant.js');
    const now = new Date('2026-11-26T12:00:00Z');
    const created = { tenantId: TENANT, resourceId: KV, target: 'keyvault-diagnostics' as const, subscriptionId: SUB, region: 'westeurope', state: 'created' as const, updatedAt: new Date(now.getTime() - 100 * 60_000).toISOString() };
    const next = { ...created, state: 'streaming' as const, updatedAt: now.toISOString() };
    expect(carryOver(created, next, now).state).toBe('streaming'); // default 90 min
    expect(carryOver(created, next, now, 240 * 60_000).state).toBe('created');
    const arm = fakeArm(state());
    const registry = await seededRegistry([only({ keyVault: true })], [hub]);
    const slow = { ...settings, health: { ...settings.health, silenceThresholdMinutes: 240 } };
    let clock = Date.now();
    await reconcileTenant(TENANT, { settings: slow, registry, clients: arm.clients, now: () => new Date(clock) });
    clock += 100 * 60_000;
    await reconcileTenant(TENANT, { settings: slow, registry, clients: arm.clients, now: () => new Date(clock) });
    expect((await registry.listCoverage(TENANT))[0]?.state).toBe('created');
  });
});
