import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../src/lib/errors.js';
import { startArmSimulator } from '../../../sim/armSimulator.js';
import { parseScenario } from '../../../sim/scenario.js';
import { createAzureClients, staticTokenCredential, type AzureClients } from '../../../src/lib/azure/clientFactory.js';
import { parseSettings } from '../../../src/lib/config/settings.js';
import { acquireIngestSlot } from '../../../src/lib/fleet/ingestPool.js';
import { acquireNamespaceSlot } from '../../../src/lib/onboarding/namespacePool.js';
import type { TenantRegistry } from '../../../src/lib/registry/tenantRegistry.js';
import type { NamespaceRecord, TenantRecord } from '../../../src/lib/registry/types.js';

export const tenantRecord = (tenantId: string, over: Partial<TenantRecord> = {}): TenantRecord => ({
  tenantId,
  displayName: `Tenant ${tenantId.slice(0, 4)}`,
  regions: ['westeurope'],
  entraWorkspaceIds: [],
  options: { activityLog: true, storage: true, keyVault: true, entraDataExport: true, defenderAlerts: true, storageServices: ['blob'] },
  status: 'onboarding',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

export const tid = (i: number) => `aaaaaaaa-0000-4000-8000-${String(i).padStart(12, '0')}`;

export function poolSettings(env: Record<string, string> = {}) {
  return parseSettings({
    MDR_PROVIDER_TENANT_ID: '11111111-1111-1111-1111-111111111111',
    MDR_PROVIDER_SUBSCRIPTION_ID: '22222222-2222-2222-2222-222222222222',
    MDR_INGEST_PRINCIPAL_ID: '33333333-3333-3333-3333-333333333333',
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    ...env,
  });
}

/**
 * The pool's side of ARM: the project's ARM simulator (real Event Hubs SDK over HTTPS, the namespace create a
 * long-running operation polled through Azure-AsyncOperation), holding only the provider subscription and its pool
 * resource group. `created` lists the namespace PUTs it received, in order.
 */
export async function startPoolArm(): Promise<{ clients: AzureClients; created: () => string[]; stop: () => Promise<void> }> {
  const settings = poolSettings();
  const scenario = parseScenario({ provider: { tenantId: settings.provider.tenantId, subscriptionId: settings.provider.subscriptionId, poolResourceGroup: settings.pool.resourceGroup } }, 'pool-only scenario');
  const sim = await startArmSimulator({ scenario, asyncOperationPolls: 2 });
  const clients = createAzureClients({ armEndpoint: sim.url, credential: staticTokenCredential(), tlsCa: sim.ca, retry: { retryDelayInMs: 5, maxRetryDelayInMs: 20 } });
  const created = () => sim.requests.filter((r) => r.method === 'PUT' && /\/providers\/Microsoft\.EventHub\/namespaces\/[^/]+$/i.test(r.path)).map((r) => r.path.split('/').pop()!);
  return { clients, created, stop: () => sim.stop() };
}

/** The same behaviour for every TenantRegistry implementation. */
export function registryContract(name: string, make: () => Promise<{ registry: TenantRegistry; done?: () => Promise<void> }>) {
  describe(`${name} registry`, () => {
    it('creates, reads, lists and replaces a tenant by etag, and refuses a stale etag or a duplicate create', async () => {
      const { registry, done } = await make();
      try {
        const created = await registry.putTenant(tenantRecord(tid(1)));
        expect(created.etag).toBeTruthy();
        await expect(registry.putTenant(tenantRecord(tid(1)))).rejects.toMatchObject({ kind: 'conflict' });
        const updated = await registry.putTenant({ ...created, displayName: 'Renamed' });
        expect(updated.etag).not.toBe(created.etag);
        await expect(registry.putTenant({ ...created, displayName: 'Stale' })).rejects.toBeInstanceOf(ConnectorError);
        await expect(registry.putTenant({ ...created, displayName: 'Stale' })).rejects.toMatchObject({ kind: 'conflict' });
        expect((await registry.getTenant(tid(1)))?.displayName).toBe('Renamed');
        expect(await registry.getTenant(tid(2))).toBeUndefined();
        await registry.putTenant(tenantRecord(tid(2), { status: 'offboarded' }));
        expect((await registry.listTenants()).map((t) => t.tenantId)).toEqual([tid(1)]);
        expect((await registry.listTenants({ includeOffboarded: true })).map((t) => t.tenantId).sort()).toEqual([tid(1), tid(2)]);
      } finally {
        await done?.();
      }
    });

    it('refuses a replace by etag of a row that does not exist as not-found, in memory as on Table storage', async () => {
      const { registry, done } = await make();
      try {
        await expect(registry.putTenant({ ...tenantRecord(tid(9)), etag: 'W/"datetime\'2026-01-01T00%3A00%3A00Z\'"' })).rejects.toMatchObject({ kind: 'not-found' });
      } finally {
        await done?.();
      }
    });

    it('round-trips a record longer than one Table string property (a Premium namespace of 1,600 tenants), and shrinks it again', async () => {
      const { registry, done } = await make();
      try {
        const tenants = Array.from({ length: 1600 }, (_, i) => tid(i));
        const ns = { region: 'westeurope', namespace: 'mdr-ingest-westeurope-01', namespaceId: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.EventHub/namespaces/mdr-ingest-westeurope-01', tier: 'Premium' as const, maxHubs: 1600, hubCount: 1600, tenants, state: 'ready' as const };
        expect(JSON.stringify(ns).length).toBeGreaterThan(32 * 1024); // over one Table string property (64 KiB of UTF-16)
        const stored = await registry.putNamespace(ns);
        expect((await registry.listNamespaces('westeurope'))[0]?.tenants).toEqual(tenants);
        await registry.putNamespace({ ...stored, tenants: [tid(1)], hubCount: 1 });
        expect((await registry.listNamespaces('westeurope'))[0]?.tenants).toEqual([tid(1)]);
      } finally {
        await done?.();
      }
    });

    it('keeps the last of two coverage entries with one key (ids differing in case) instead of refusing the write', async () => {
      const { registry, done } = await make();
      try {
        const ws = '/subscriptions/s1/resourceGroups/sec/providers/Microsoft.OperationalInsights/workspaces/ws';
        const entry = (resourceId: string, state: 'created' | 'streaming') => ({ tenantId: tid(1), resourceId, target: 'entra-data-export' as const, subscriptionId: 's1', region: 'westeurope', state, updatedAt: '2026-01-01T00:00:00Z' });
        await registry.putCoverage(tid(1), [entry(ws, 'created'), entry(ws.toLowerCase(), 'streaming')], { replaceAll: true });
        expect((await registry.listCoverage(tid(1))).map((e) => e.state)).toEqual(['streaming']);
      } finally {
        await done?.();
      }
    });

    it('stores hubs per tenant and region, and deletes them idempotently', async () => {
      const { registry, done } = await make();
      try {
        const hub = { tenantId: tid(1), region: 'westeurope', namespace: 'ns-westeurope-01', namespaceId: '/ns', hub: `mdr-${tid(1)}`, consumerGroup: 'cg', namespaceRuleId: 'r', sendRuleId: 's', state: 'ready' as const, createdAt: 'now' };
        await registry.putHub(hub);
        await registry.putHub({ ...hub, region: 'eastus', namespace: 'ns-eastus-01' });
        await registry.putHub({ ...hub, tenantId: tid(2), hub: `mdr-${tid(2)}` });
        expect((await registry.listHubs(tid(1))).map((h) => h.region).sort()).toEqual(['eastus', 'westeurope']);
        expect(await registry.listHubs()).toHaveLength(3);
        await registry.deleteHub(tid(1), 'eastus');
        await registry.deleteHub(tid(1), 'eastus');
        expect((await registry.listHubs(tid(1))).map((h) => h.region)).toEqual(['westeurope']);
      } finally {
        await done?.();
      }
    });

    it('keeps coverage entries unless replaced, and merges last-seen counts and times', async () => {
      const { registry, done } = await make();
      try {
        const entry = (resourceId: string) => ({ tenantId: tid(1), resourceId, target: 'activity-log' as const, subscriptionId: 's', region: 'global', state: 'streaming' as const, updatedAt: 'now' });
        await registry.putCoverage(tid(1), [entry('/subscriptions/a'), entry('/subscriptions/b')]);
        await registry.putCoverage(tid(1), [{ ...entry('/subscriptions/a'), state: 'failed' }]);
        expect((await registry.listCoverage(tid(1))).map((c) => `${c.resourceId}:${c.state}`).sort()).toEqual(['/subscriptions/a:failed', '/subscriptions/b:streaming']);
        await registry.putCoverage(tid(1), [entry('/subscriptions/c')], { replaceAll: true });
        expect((await registry.listCoverage(tid(1))).map((c) => c.resourceId)).toEqual(['/subscriptions/c']);
        // A run over some subscriptions replaces only their entries (a resource deleted there disappears).
        const inSub = (resourceId: string, subscriptionId: string) => ({ ...entry(resourceId), subscriptionId, target: 'keyvault-diagnostics' as const });
        await registry.putCoverage(tid(1), [inSub('/v/x1', 'X'), inSub('/v/x2', 'X'), inSub('/v/y1', 'y')]);
        await registry.putCoverage(tid(1), [inSub('/v/x1', 'X')], { replaceSubscriptions: ['x'] });
        expect((await registry.listCoverage(tid(1))).map((c) => c.resourceId).sort()).toEqual(['/subscriptions/c', '/v/x1', '/v/y1']);
        const seen = { tenantId: tid(1), source: 'activity-log', category: 'Administrative', lastEventTime: '2026-01-01T00:00:00Z', lastIngestTime: '2026-01-01T00:01:00Z', count: 2 };
        await registry.recordLastSeen([seen]);
        await Promise.all([registry.recordLastSeen([{ ...seen, lastEventTime: '2026-01-02T00:00:00Z', count: 3 }]), registry.recordLastSeen([{ ...seen, count: 5 }])]);
        expect(await registry.listLastSeen(tid(1))).toEqual([{ ...seen, lastEventTime: '2026-01-02T00:00:00Z', count: 10 }]);
      } finally {
        await done?.();
      }
    });

    it('keeps one ingest progress row per hub partition of a tenant, replacing it on each record', async () => {
      const { registry, done } = await make();
      try {
        const p = (partitionId: string, sequenceNumber: number, at: string, hub = 'h1') => ({ tenantId: tid(1), namespace: 'ns1', hub, partitionId, sequenceNumber, at });
        await registry.recordPartitionProgress([p('0', 10, '2026-01-01T00:00:00Z'), p('1', 5, '2026-01-01T00:00:00Z')]);
        await registry.recordPartitionProgress([p('0', 42, '2026-01-01T00:05:00Z'), p('0', 7, '2026-01-01T00:00:00Z', 'h2')]);
        await registry.recordPartitionProgress([{ ...p('0', 1, '2026-01-01T00:00:00Z'), tenantId: tid(2) }]);
        const rows = (await registry.listPartitionProgress(tid(1))).map((r) => `${r.hub}/${r.partitionId}:${r.sequenceNumber}@${r.at}`).sort();
        expect(rows).toEqual(['h1/0:42@2026-01-01T00:05:00Z', 'h1/1:5@2026-01-01T00:00:00Z', 'h2/0:7@2026-01-01T00:00:00Z']);
      } finally {
        await done?.();
      }
    });

    it('keeps one change-feed mark per subscription of a tenant, replacing it on each put', async () => {
      const { registry, done } = await make();
      try {
        await registry.putChangeMarks(tid(1), [{ tenantId: tid(1), subscriptionId: 'AB', through: '2026-01-01T00:00:00Z' }, { tenantId: tid(1), subscriptionId: 'cd', through: '2026-01-01T00:00:00Z' }]);
        await registry.putChangeMarks(tid(1), [{ tenantId: tid(1), subscriptionId: 'ab', through: '2026-01-02T00:00:00Z' }]);
        await registry.putChangeMarks(tid(2), [{ tenantId: tid(2), subscriptionId: 'ab', through: '2026-01-03T00:00:00Z' }]);
        const marks = (await registry.listChangeMarks(tid(1))).map((m) => `${m.subscriptionId.toLowerCase()}@${m.through}`).sort();
        expect(marks).toEqual(['ab@2026-01-02T00:00:00Z', 'cd@2026-01-01T00:00:00Z']);
      } finally {
        await done?.();
      }
    });

    it("keeps a tenant's known subscriptions, replacing all of them or only a narrowed set", async () => {
      const { registry, done } = await make();
      try {
        const k = (sub: string, name = sub) => ({ tenantId: tid(1), subscriptionId: sub, displayName: name, discoveredAt: '2026-01-01T00:00:00Z' });
        await registry.putKnownSubscriptions(tid(1), [k('AA'), k('bb'), k('cc')], { replaceAll: true });
        await registry.putKnownSubscriptions(tid(2), [k('dd')], { replaceAll: true });
        const subs = async (t: string) => (await registry.listKnownSubscriptions(t)).map((x) => x.subscriptionId).sort();
        expect(await subs(tid(1))).toEqual(['aa', 'bb', 'cc']);
        // a work item over bb and cc found only cc (renamed): bb goes, aa (outside the item) stays
        await registry.putKnownSubscriptions(tid(1), [k('cc', 'renamed')], { replaceSubscriptions: ['BB', 'cc'] });
        expect(await subs(tid(1))).toEqual(['aa', 'cc']);
        expect((await registry.listKnownSubscriptions(tid(1))).find((x) => x.subscriptionId === 'cc')?.displayName).toBe('renamed');
        await registry.putKnownSubscriptions(tid(1), [k('ee')], { replaceAll: true });
        expect(await subs(tid(1))).toEqual(['ee']);
        expect(await subs(tid(2))).toEqual(['dd']);
      } finally {
        await done?.();
      }
    });

    it('lets only one of twelve racing onboardings take the last free slot when the pool cannot grow', async () => {
      const { registry, done } = await make();
      let arm: Awaited<ReturnType<typeof startPoolArm>> | undefined;
      try {
        const settings = poolSettings({ MDR_EH_POOL_GROWTH: 'false' });
        const nine = Array.from({ length: 9 }, (_, i) => tid(100 + i));
        const ns: NamespaceRecord = { region: 'westeurope', namespace: 'mdr-ingest-westeurope-01', namespaceId: '/ns/1', tier: 'Standard', maxHubs: 10, hubCount: 9, tenants: nine, state: 'ready' };
        await registry.putNamespace(ns);
        arm = await startPoolArm();
        const { clients } = arm;
        const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => acquireNamespaceSlot({ settings, registry, clients }, tid(i + 1), 'westeurope')));
        const ok = results.filter((r) => r.status === 'fulfilled');
        const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(ok).toHaveLength(1);
        expect(rejected.every((r) => r.reason instanceof ConnectorError && r.reason.kind === 'capacity')).toBe(true);
        const [after] = await registry.listNamespaces('westeurope');
        expect(after!.tenants).toHaveLength(10);
        expect(after!.hubCount).toBe(10);
      } finally {
        await arm?.stop();
        await done?.();
      }
    });

    it('grows the pool so that 25 concurrent tenants fill namespaces 10/10/5 and none is over-filled', async () => {
      const { registry, done } = await make();
      let arm: Awaited<ReturnType<typeof startPoolArm>> | undefined;
      try {
        const settings = poolSettings();
        arm = await startPoolArm();
        const { clients } = arm;
        await Promise.all(Array.from({ length: 25 }, (_, i) => acquireNamespaceSlot({ settings, registry, clients, lroPollMs: 2 }, tid(i + 1), 'westeurope')));
        const all = (await registry.listNamespaces('westeurope')).sort((a, b) => a.namespace.localeCompare(b.namespace));
        expect(all.map((n) => n.tenants.length)).toEqual([10, 10, 5]);
        expect(all.every((n) => n.state === 'ready' && n.hubCount === n.tenants.length)).toBe(true);
        expect(new Set(all.flatMap((n) => n.tenants)).size).toBe(25);
        expect(arm.created().sort()).toEqual(all.map((n) => n.namespace));
      } finally {
        await arm?.stop();
        await done?.();
      }
    });

    it('stores ingest app records by etag and lets 30 concurrent hubs fill three apps of 10, none over-filled', async () => {
      const { registry, done } = await make();
      try {
        const apps = ['ing-a', 'ing-b', 'ing-c'].map((n) => `/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/mdr-app/providers/Microsoft.Web/sites/${n}`);
        const settings = poolSettings({ MDR_INGEST_APPS: apps.join(','), MDR_INGEST_APP_MAX_HUBS: '10' });
        await Promise.all(Array.from({ length: 30 }, (_, i) => acquireIngestSlot({ settings, registry }, tid(i + 1), 'westeurope')));
        const all = (await registry.listIngestApps()).sort((a, b) => a.name.localeCompare(b.name));
        expect(all.map((a) => [a.name, a.hubs.length, a.state])).toEqual([['ing-a', 10, 'active'], ['ing-b', 10, 'active'], ['ing-c', 10, 'active']]);
        expect(new Set(all.flatMap((a) => a.hubs)).size).toBe(30);
        await expect(registry.putIngestApp({ ...all[0]!, hubs: [], etag: 'W/"stale"' })).rejects.toMatchObject({ kind: 'conflict' });
        const { etag: _e, ...fresh } = all[0]!;
        await expect(registry.putIngestApp(fresh)).rejects.toMatchObject({ kind: 'conflict' });
        await expect(acquireIngestSlot({ settings, registry }, tid(99), 'westeurope')).rejects.toMatchObject({ kind: 'capacity' });
      } finally {
        await done?.();
      }
    });
  });
}
