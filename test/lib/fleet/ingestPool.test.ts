import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../src/lib/errors.js';
import { acquireIngestSlot, chooseIngestApp, hubKey, poolRecordChanges, releaseIngestSlot, syncPoolRecords } from '../../../src/lib/fleet/ingestPool.js';
import { createMemoryRegistry } from '../../../src/lib/registry/memoryRegistry.js';
import type { IngestAppRecord } from '../../../src/lib/registry/types.js';
import { poolSettings, tid } from '../registry/registryContract.js';

const site = (name: string) => `/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/mdr-app/providers/Microsoft.Web/sites/${name}`;
const app = (name: string, hubs: string[] = [], state: IngestAppRecord['state'] = 'active'): IngestAppRecord => ({ name, resourceId: site(name), hubs, state });
const full = (name: string, n: number, tenant = 900) => app(name, Array.from({ length: n }, (_, i) => hubKey(tid(tenant + i), 'westeurope')));

describe('chooseIngestApp', () => {
  it('keeps the hub where it is when an app already holds it', () => {
    const d = chooseIngestApp([app('b', [hubKey(tid(1), 'westeurope')]), app('a')], tid(1), 'westeurope', 2);
    expect(d).toMatchObject({ kind: 'already', app: { name: 'b' } });
  });

  it("puts a tenant's second hub into the app holding its first, so one onboarding rewrites one app", () => {
    const d = chooseIngestApp([app('a'), app('b', [hubKey(tid(1), 'westeurope')])], tid(1), 'northeurope', 4);
    expect(d).toMatchObject({ kind: 'use', app: { name: 'b', hubs: [hubKey(tid(1), 'westeurope'), hubKey(tid(1), 'northeurope')] } });
  });

  it("prefers, in name order, an app with room for all the tenant's hubs over one with a single slot left", () => {
    const d = chooseIngestApp([full('a', 3), app('b')], tid(1), 'westeurope', 4, 2);
    expect(d).toMatchObject({ kind: 'use', app: { name: 'b' } });
    expect(chooseIngestApp([full('a', 3), full('b', 3, 950)], tid(1), 'westeurope', 4, 2)).toMatchObject({ kind: 'use', app: { name: 'a' } });
  });

  it('never gives a new hub to a draining app, and says how to add capacity when every active app is full', () => {
    const d = chooseIngestApp([full('a', 2), app('b', [], 'draining')], tid(1), 'westeurope', 2);
    expect(d.kind).toBe('full');
    expect(d.kind === 'full' && d.message).toMatch(/Every ingest app is full: 1 active app\(s\) × 2 hubs.*ingestAppCount=2/);
  });

  it('answers none when no ingest app is configured at all', () => {
    expect(chooseIngestApp([], tid(1), 'westeurope', 10)).toEqual({ kind: 'none' });
  });
});

describe('poolRecordChanges', () => {
  it('creates records for new apps, drains apps no longer configured and reactivates returning ones, keeping their hubs', () => {
    const records = [app('old', ['x/westeurope']), app('back', ['y/westeurope'], 'draining'), app('same')];
    const changes = poolRecordChanges(records, [site('same'), site('back'), site('New')]);
    expect(changes).toEqual([
      { ...app('back', ['y/westeurope']), state: 'active' },
      { name: 'new', resourceId: site('New'), hubs: [], state: 'active' },
      { ...app('old', ['x/westeurope']), state: 'draining' },
    ]);
    expect(poolRecordChanges([app('same')], [site('same')])).toEqual([]);
  });
});

describe('ingest slots in a registry', () => {
  const settings = (apps: string[], max = 2) => poolSettings({ MDR_INGEST_APPS: apps.map(site).join(','), MDR_INGEST_APP_MAX_HUBS: String(max) });

  it('lets only one of twelve racing onboardings take the last free slot of the fleet', async () => {
    const registry = createMemoryRegistry();
    const deps = { settings: settings(['a', 'b']), registry };
    await acquireIngestSlot(deps, tid(1), 'westeurope');
    await acquireIngestSlot(deps, tid(2), 'westeurope');
    await acquireIngestSlot(deps, tid(3), 'westeurope');
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => acquireIngestSlot(deps, tid(100 + i), 'westeurope')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) expect(r.reason).toMatchObject({ kind: 'capacity' });
    const apps = await registry.listIngestApps();
    expect(apps.map((a) => a.hubs.length)).toEqual([2, 2]);
  });

  it('gives a slot back, and an app removed from MDR_INGEST_APPS keeps its hubs as draining', async () => {
    const registry = createMemoryRegistry();
    await acquireIngestSlot({ settings: settings(['a']), registry }, tid(1), 'westeurope');
    await syncPoolRecords({ settings: settings(['b']), registry });
    expect((await registry.listIngestApps()).map((a) => [a.name, a.state, a.hubs])).toEqual([
      ['a', 'draining', [hubKey(tid(1), 'westeurope')]],
      ['b', 'active', []],
    ]);
    expect(await releaseIngestSlot({ registry }, tid(1), 'westeurope')).toEqual(['a']);
    expect(await releaseIngestSlot({ registry }, tid(1), 'westeurope')).toEqual([]);
  });

  it('assigns nothing and raises nothing when no ingest app is configured', async () => {
    const registry = createMemoryRegistry();
    expect(await acquireIngestSlot({ settings: poolSettings(), registry }, tid(1), 'westeurope')).toBeUndefined();
    expect(await registry.listIngestApps()).toEqual([]);
  });

  it('raises a capacity ConnectorError (HTTP 503 capacity) when the fleet is full', async () => {
    const registry = createMemoryRegistry();
    const deps = { settings: settings(['a'], 1), registry };
    await acquireIngestSlot(deps, tid(1), 'westeurope');
    const e = await acquireIngestSlot(deps, tid(2), 'westeurope').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConnectorError);
    expect(e).toMatchObject({ kind: 'capacity', message: expect.stringMatching(/ingestAppCount=2/) });
  });
});
