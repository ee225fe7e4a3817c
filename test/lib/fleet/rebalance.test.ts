import { describe, expect, it } from 'vitest';
import { fleetCapacity } from '../../../src/lib/fleet/fleetCapacity.js';
import { hubKey } from '../../../src/lib/fleet/ingestPool.js';
import { planRebalance } from '../../../src/lib/fleet/rebalance.js';
import type { HubAssignment, IngestAppRecord } from '../../../src/lib/registry/types.js';
import { tid } from '../registry/registryContract.js';

const app = (name: string, hubs: string[] = [], state: IngestAppRecord['state'] = 'active'): IngestAppRecord => ({ name, resourceId: `/subscriptions/s/resourceGroups/r/providers/Microsoft.Web/sites/${name}`, hubs, state });
const keys = (from: number, n: number, region = 'westeurope') => Array.from({ length: n }, (_, i) => hubKey(tid(from + i), region));
const hub = (i: number, region = 'westeurope', state: HubAssignment['state'] = 'ready'): HubAssignment => ({
  tenantId: tid(i), region, namespace: 'ns-01', namespaceId: '/ns', hub: `mdr-${tid(i)}`, consumerGroup: 'mdr-ingest', namespaceRuleId: '/r', sendRuleId: '/s', state, createdAt: '2026-01-01T00:00:00Z',
});

describe('planRebalance', () => {
  it('drains an app onto the active apps with room, keeping a tenant’s two hubs in one app', () => {
    const source = app('old', [hubKey(tid(1), 'westeurope'), hubKey(tid(1), 'northeurope'), ...keys(2, 3)], 'draining');
    const plan = planRebalance([source, app('a', keys(50, 3)), app('b', keys(60, 1))], 5, { kind: 'drain', app: 'old' });
    expect(plan.unplaced).toEqual([]);
    expect(plan.moves).toHaveLength(5);
    const dest = new Map(plan.moves.map((m) => [hubKey(m.tenantId, m.region), m.to]));
    expect(dest.get(hubKey(tid(1), 'westeurope'))).toBe(dest.get(hubKey(tid(1), 'northeurope')));
    // nobody ends over the shard size
    const after = new Map([['a', 3], ['b', 1]]);
    for (const m of plan.moves) after.set(m.to, (after.get(m.to) ?? 0) + 1);
    expect(Math.max(...after.values())).toBeLessThanOrEqual(5);
  });

  it('reports the hubs it cannot place when the other apps are full', () => {
    const plan = planRebalance([app('old', keys(1, 3)), app('a', keys(50, 1))], 2, { kind: 'drain', app: 'old' });
    expect(plan.moves).toHaveLength(1);
    expect(plan.unplaced).toHaveLength(2);
  });

  it('evens out active apps to within one hub, moving each hub at most once and never onto a draining app', () => {
    const plan = planRebalance([app('a', keys(1, 9)), app('b'), app('c', keys(20, 1)), app('d', [], 'draining')], 10, { kind: 'even' });
    const count = new Map([['a', 9], ['b', 0], ['c', 1]]);
    for (const m of plan.moves) {
      count.set(m.from, count.get(m.from)! - 1);
      count.set(m.to, count.get(m.to)! + 1);
    }
    expect(Math.max(...count.values()) - Math.min(...count.values())).toBeLessThanOrEqual(1);
    expect(plan.moves.every((m) => m.to !== 'd')).toBe(true);
    expect(new Set(plan.moves.map((m) => hubKey(m.tenantId, m.region))).size).toBe(plan.moves.length);
  });

  it('moves one hub to a named app, and refuses a full, draining or unknown target', () => {
    const apps = [app('a', keys(1, 2)), app('b'), app('c', keys(10, 2)), app('d', [], 'draining')];
    expect(planRebalance(apps, 2, { kind: 'move', tenantId: tid(1), region: 'westeurope', to: 'b' }).moves).toEqual([{ tenantId: tid(1), region: 'westeurope', from: 'a', to: 'b' }]);
    expect(() => planRebalance(apps, 2, { kind: 'move', tenantId: tid(1), region: 'westeurope', to: 'c' })).toThrow(/is full/);
    expect(() => planRebalance(apps, 2, { kind: 'move', tenantId: tid(1), region: 'westeurope', to: 'd' })).toThrow(/draining/);
    expect(() => planRebalance(apps, 2, { kind: 'move', tenantId: tid(1), region: 'westeurope', to: 'zz' })).toThrow(/not in the registry/);
    expect(() => planRebalance(apps, 2, { kind: 'move', tenantId: tid(7), region: 'westeurope', to: 'b' })).toThrow(/no ingest app holds/);
  });
});

describe('fleetCapacity', () => {
  it('finishes a move cut short after its make step: run again, it releases the hub from every app but the target (found in review, 2026-12-03)', () => {
    const k = hubKey(tid(1), 'westeurope');
    // The target sorts first: before, the holder found was the target itself, and the move was "nothing to do".
    expect(planRebalance([app('a', [k]), app('b', [k, ...keys(2, 1)])], 10, { kind: 'move', tenantId: tid(1), region: 'westeurope', to: 'a' }).moves).toEqual([{ tenantId: tid(1), region: 'westeurope', from: 'b', to: 'a' }]);
    // The target sorts last and is at its limit counting the hub it already holds: before, refused as full.
    expect(planRebalance([app('a', [k]), app('b', [k])], 1, { kind: 'move', tenantId: tid(1), region: 'westeurope', to: 'b' }).moves).toEqual([{ tenantId: tid(1), region: 'westeurope', from: 'a', to: 'b' }]);
    expect(planRebalance([app('a', [k]), app('b')], 10, { kind: 'move', tenantId: tid(1), region: 'westeurope', to: 'a' }).moves).toEqual([]);
  });

  it('counts slots of active apps, says FULL with the way out, and lists hubs no app reads', () => {
    const f = fleetCapacity([app('a', keys(1, 2)), app('b', keys(3, 2)), app('old', keys(9, 1), 'draining')], [hub(1), hub(2), hub(3), hub(4), hub(9), hub(5), hub(6, 'westeurope', 'provisioning')], 2);
    expect(f).toMatchObject({ capacity: 4, used: 4, free: 0, full: true, unassigned: [hubKey(tid(5), 'westeurope')] });
    expect(f.problems[0]).toMatch(/Every ingest app is full: 2 active app\(s\) × 2 hubs.*ingestAppCount=3/);
    expect(f.problems.join('\n')).toMatch(/1 ready hub\(s\) have no ingest app/);
    expect(f.problems.join('\n')).toMatch(/old is no longer in MDR_INGEST_APPS but still holds 1 hub\(s\): run azure-mdr rebalance --drain old/);
  });

  it('reports a hub held by two apps (a move cut short) and nothing at all when no fleet exists', () => {
    const f = fleetCapacity([app('a', [hubKey(tid(1), 'westeurope')]), app('b', [hubKey(tid(1), 'westeurope')])], [hub(1)], 10);
    expect(f.shared).toEqual([hubKey(tid(1), 'westeurope')]);
    expect(f.full).toBe(false);
    expect(fleetCapacity([], [hub(1)], 10)).toMatchObject({ full: false, unassigned: [], problems: [] });
  });
});
