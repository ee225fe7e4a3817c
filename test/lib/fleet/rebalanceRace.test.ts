import { expect, it } from 'vitest';
import { fleetCapacity } from '../../../src/lib/fleet/fleetCapacity.js';
import { hubKey, releaseIngestSlot } from '../../../src/lib/fleet/ingestPool.js';
import { rebalanceIngest } from '../../../src/lib/fleet/rebalance.js';
import { syncIngestAppSettings } from '../../../src/lib/onboarding/appSettingsSync.js';
import { createMemoryRegistry } from '../../../src/lib/registry/memoryRegistry.js';
import type { TenantRegistry } from '../../../src/lib/registry/tenantRegistry.js';

const T = '3e8a9c21-6d4b-4f70-b2e5-a1c9d8f07b35';
const id = (n: string) => `/subscriptions/s/resourceGroups/r/providers/Microsoft.Web/sites/${n}`;
const NS = 'mdr-westeurope-01';

it('a tenant offboarded while a rebalance moves its hub leaves no slot taken (found in review, 2026-12-03)', async () => {
  const registry = createMemoryRegistry();
  await registry.putNamespace({ region: 'westeurope', namespace: NS, namespaceId: `/ns/${NS}`, tier: 'Standard', maxHubs: 10, hubCount: 1, tenants: [T], state: 'ready' } as never);
  await registry.putHub({ tenantId: T, region: 'westeurope', namespace: NS, namespaceId: `/ns/${NS}`, hub: `mdr-${T}`, consumerGroup: 'mdr-ingest', namespaceRuleId: '/r', sendRuleId: '/s', state: 'ready', createdAt: '2026-01-01T00:00:00Z' });
  await registry.putIngestApp({ name: 'ingest-01', resourceId: id('ingest-01'), hubs: [], state: 'active' });
  await registry.putIngestApp({ name: 'ingest-02', resourceId: id('ingest-02'), hubs: [hubKey(T, 'westeurope')], state: 'active' });
  const store = new Map<string, Record<string, string>>();
  const clients = { appService: async () => ({ webApps: {
    listApplicationSettings: async (_: string, n: string) => ({ properties: { ...(store.get(n) ?? {}) } }),
    updateApplicationSettings: async (_: string, n: string, b: { properties: Record<string, string> }) => void store.set(n, b.properties),
  } }) } as never;
  const settings = { fleet: { ingestApps: [id('ingest-01'), id('ingest-02')], maxHubsPerApp: 10, settingsSync: 'auto' }, cloud: { eventHubsSuffix: 'servicebus.windows.net' } } as never;
  let raced = false;
  // The DELETE's hub teardown runs between the rebalance's plan and its "make" step (offboardTenant: deleteHub, then releaseIngestSlot).
  const racing: TenantRegistry = { ...registry, listHubs: async (t?: string) => {
    const r = await registry.listHubs(t);
    if (!raced && t === undefined) { raced = true; await registry.deleteHub(T, 'westeurope'); await releaseIngestSlot({ registry }, T, 'westeurope'); }
    return r;
  } };
  await rebalanceIngest({ settings, registry: racing, clients }, { kind: 'move', tenantId: T, region: 'westeurope', to: 'ingest-01' });
  await syncIngestAppSettings({ settings, registry, clients }); // the periodic sync
  const apps = await registry.listIngestApps();
  const f = fleetCapacity(apps, await registry.listHubs(), 10);
  expect(apps.flatMap((a) => a.hubs)).toEqual([]);
  expect(f.used).toBe(0);
});

it('a dry run writes no ingest-app record, even with a fleet list that differs from the registry (found in review, 2026-12-03)', async () => {
  const registry = createMemoryRegistry();
  await registry.putIngestApp({ name: 'ingest-01', resourceId: id('ingest-01'), hubs: [], state: 'active' });
  await registry.putIngestApp({ name: 'ingest-02', resourceId: id('ingest-02'), hubs: [hubKey(T, 'westeurope')], state: 'active' });
  const before = JSON.stringify(await registry.listIngestApps());
  const settings = { fleet: { ingestApps: [id('ingest-01')], maxHubsPerApp: 10, settingsSync: 'auto' }, cloud: { eventHubsSuffix: 'servicebus.windows.net' } } as never;
  const r = await rebalanceIngest({ settings, registry, clients: {} as never }, { kind: 'drain', app: 'ingest-02' }, { dryRun: true });
  expect(r.moves).toEqual([{ tenantId: T, region: 'westeurope', from: 'ingest-02', to: 'ingest-01' }]);
  expect(JSON.stringify(await registry.listIngestApps())).toBe(before);
});

