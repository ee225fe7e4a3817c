import { describe, expect, it } from 'vitest';
import { evaluateHealth, type HubObservation } from '../../../src/lib/health/evaluateHealth.js';
import type { CoverageEntry, CoverageState, HubAssignment, LastSeen, PartitionProgress, TargetId } from '../../../src/lib/registry/types.js';

const T = '11111111-1111-1111-1111-111111111111';
const SUB = '22222222-2222-2222-2222-222222222222';
const NOW = new Date('2026-11-26T12:00:00Z');
const minsAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();

function hub(region: string, createdMinsAgo = 10_000): HubAssignment {
  return {
    tenantId: T,
    region,
    namespace: `mdr-ingest-${region}-1`,
    namespaceId: `/subscriptions/p/resourceGroups/mdr-ingest/providers/Microsoft.EventHub/namespaces/mdr-ingest-${region}-1`,
    hub: `t-${T}`,
    consumerGroup: 'mdr-ingest',
    namespaceRuleId: 'rule',
    sendRuleId: 'send',
    state: 'ready',
    createdAt: minsAgo(createdMinsAgo),
  };
}
const obs = (h: HubAssignment, lastEnqueuedMinsAgo: number | undefined): HubObservation => ({
  hub: h,
  runtime: {
    partitions: [
      { partitionId: '0', lastEnqueuedSequenceNumber: lastEnqueuedMinsAgo === undefined ? -1 : 41, lastEnqueuedOnUtc: lastEnqueuedMinsAgo === undefined ? undefined : new Date(minsAgo(lastEnqueuedMinsAgo)), isEmpty: lastEnqueuedMinsAgo === undefined },
      { partitionId: '1', lastEnqueuedSequenceNumber: -1, isEmpty: true },
    ],
  },
});
function entry(target: TargetId, state: CoverageState, updatedMinsAgo = 5, region = 'eastus', resourceId = `/subscriptions/${SUB}/x/${target}`): CoverageEntry {
  return { tenantId: T, resourceId, target, subscriptionId: SUB, region, state, updatedAt: minsAgo(updatedMinsAgo) };
}
const seen = (source: string, eventMinsAgo: number, category = 'Administrative'): LastSeen => ({
  tenantId: T,
  source,
  category,
  lastEventTime: minsAgo(eventMinsAgo),
  lastIngestTime: minsAgo(Math.max(0, eventMinsAgo - 2)),
  count: 3,
});

const base = { tenantId: T, primaryRegion: 'eastus', now: NOW, thresholdMinutes: 120 };

describe('evaluateHealth', () => {
  it.each([
    // [case, entry state, entry updated mins ago, last event mins ago (undefined = never), threshold, expected verdict]
    ['recent data is ok', 'streaming', 5, 30, 120, 'ok'],
    ['data older than the threshold is silent', 'streaming', 5, 121, 120, 'silent'],
    ['data exactly at the threshold is still ok', 'streaming', 5, 120, 120, 'ok'],
    ['a streaming setting that never delivered is never-seen', 'streaming', 5, undefined, 120, 'never-seen'],
    ['a setting created 60 min ago with a 30 min threshold is in its 90 min grace', 'created', 60, undefined, 30, 'ok'],
    ['a setting created 95 min ago with a 30 min threshold is past its grace', 'created', 95, undefined, 30, 'never-seen'],
    ['a setting created 100 min ago with a 120 min threshold is still in grace (threshold > 90 min)', 'created', 100, undefined, 120, 'ok'],
    ['a repaired setting with stale data is in grace', 'repaired', 20, 500, 30, 'ok'],
    ['a silent entry whose data resumed is ok', 'silent', 30, 3, 120, 'ok'],
    ['a silent entry still without data stays silent', 'silent', 30, 400, 120, 'silent'],
  ] as const)('%s', (_name, state, updated, eventAgo, threshold, verdict) => {
    const h = evaluateHealth({
      ...base,
      thresholdMinutes: threshold,
      hubs: [obs(hub('eastus'), 1)],
      coverage: [entry('activity-log', state, updated, 'global')],
      lastSeen: eventAgo === undefined ? [] : [seen('activity-log', eventAgo)],
    });
    const s = h.sources.find((x) => x.source === 'activity-log');
    expect(s?.verdict).toBe(verdict);
    expect(h.entries[0]?.to).toBe(verdict === 'ok' ? (state === 'silent' ? 'streaming' : state) : 'silent');
  });

  it('names the time of the last event and the threshold in the reason of a silent source', () => {
    const h = evaluateHealth({ ...base, hubs: [obs(hub('eastus'), 1)], coverage: [entry('storage-diagnostics', 'streaming')], lastSeen: [seen('storage', 300, 'StorageRead')] });
    const s = h.sources[0]!;
    expect(s).toMatchObject({ source: 'storage', verdict: 'silent', lastEventTime: minsAgo(300), fresh: false });
    expect(s.reason).toContain(minsAgo(300));
    expect(s.reason).toContain('threshold 120 min');
  });

  it('takes the latest event over all categories of a source', () => {
    const h = evaluateHealth({
      ...base,
      hubs: [obs(hub('eastus'), 1)],
      coverage: [entry('storage-diagnostics', 'streaming')],
      lastSeen: [seen('storage', 500, 'StorageRead'), seen('storage', 10, 'StorageWrite')],
    });
    expect(h.sources[0]).toMatchObject({ verdict: 'ok', lastEventTime: minsAgo(10) });
  });

  it('gives streaming settings on a new hub the grace period counted from the hub creation', () => {
    const h = evaluateHealth({ ...base, thresholdMinutes: 30, hubs: [obs(hub('eastus', 45), undefined)], coverage: [entry('keyvault-diagnostics', 'streaming', 2)], lastSeen: [] });
    expect(h.sources[0]).toMatchObject({ source: 'key-vault', verdict: 'ok', dueBy: minsAgo(45 - 90) });
    expect(h.hubs[0]?.verdict).toBe('ok');
  });

  it('marks a hub whose newest enqueued event is older than the threshold silent, and an old empty hub never-seen', () => {
    const h = evaluateHealth({ ...base, hubs: [obs(hub('eastus'), 200), obs(hub('westeurope'), undefined)], coverage: [entry('activity-log', 'streaming', 5, 'global')], lastSeen: [] });
    expect(h.hubs.map((x) => [x.region, x.verdict])).toEqual([
      ['eastus', 'silent'],
      ['westeurope', 'never-seen'],
    ]);
    expect(h.hubs[0]?.lastEnqueuedOnUtc).toBe(minsAgo(200));
    expect(h.verdict).toBe('silent');
  });

  it('reports a hub whose runtime cannot be read as unknown and does not count it as silence', () => {
    const h = evaluateHealth({
      ...base,
      hubs: [{ hub: hub('eastus'), error: 'Unauthorized access' }],
      coverage: [entry('activity-log', 'streaming', 5, 'global')],
      lastSeen: [seen('activity-log', 10)],
    });
    expect(h.hubs[0]).toMatchObject({ verdict: 'unknown' });
    expect(h.hubs[0]?.reason).toContain('Unauthorized access');
    expect(h.verdict).toBe('ok');
  });

  it('judges the event-driven Defender alert source only by its hub', () => {
    const quiet = evaluateHealth({ ...base, hubs: [obs(hub('eastus'), 5)], coverage: [entry('defender-export', 'streaming')], lastSeen: [] });
    expect(quiet.sources[0]).toMatchObject({ source: 'defender-alert', verdict: 'ok' });
    const deadHub = evaluateHealth({ ...base, hubs: [obs(hub('eastus'), 500)], coverage: [entry('defender-export', 'streaming')], lastSeen: [seen('defender-alert', 900)] });
    expect(deadHub.sources[0]).toMatchObject({ source: 'defender-alert', verdict: 'silent' });
    expect(deadHub.sources[0]?.reason).toContain('nothing enqueued since');
  });

  it('keeps an Entra export streaming while one of its two sources still arrives, but reports the quiet one', () => {
    const h = evaluateHealth({ ...base, hubs: [obs(hub('eastus'), 1)], coverage: [entry('entra-data-export', 'streaming')], lastSeen: [seen('sign-in', 5, 'SigninLogs'), seen('entra-audit', 600, 'AuditLogs')] });
    expect(h.sources.map((s) => [s.source, s.verdict])).toEqual([
      ['entra-audit', 'silent'],
      ['sign-in', 'ok'],
    ]);
    expect(h.entries[0]).toMatchObject({ from: 'streaming', to: 'streaming' });
    expect(h.verdict).toBe('ok');
    expect(h.reason).toContain('1 of 2 sources quiet: entra-audit (silent)');
  });

  it('says no-expected-sources when no ledger entry streams', () => {
    const h = evaluateHealth({ ...base, hubs: [obs(hub('eastus'), 1)], coverage: [entry('storage-diagnostics', 'forbidden'), entry('keyvault-diagnostics', 'no-hub-in-region')], lastSeen: [seen('storage', 1)] });
    expect(h.verdict).toBe('no-expected-sources');
    expect(h.sources).toEqual([]);
    expect(h.entries).toEqual([]);
  });

  it('calls a tenant silent when every expected source is quiet, and lists them', () => {
    const h = evaluateHealth({
      ...base,
      hubs: [obs(hub('eastus'), 1)],
      coverage: [entry('activity-log', 'streaming', 5, 'global'), entry('storage-diagnostics', 'streaming')],
      lastSeen: [seen('activity-log', 400), seen('storage', 300)],
    });
    expect(h.verdict).toBe('silent');
    expect(h.reason).toContain('activity-log, storage');
  });

  it('relates regional entries to the hub of their region and non-regional ones to the primary hub', () => {
    const h = evaluateHealth({
      ...base,
      primaryRegion: 'westeurope',
      hubs: [obs(hub('eastus'), 500), obs(hub('westeurope'), 2)],
      coverage: [entry('storage-diagnostics', 'streaming', 5, 'East US'), entry('activity-log', 'streaming', 5, 'global')],
      lastSeen: [],
    });
    const storage = h.sources.find((s) => s.source === 'storage')!;
    const activity = h.sources.find((s) => s.source === 'activity-log')!;
    expect(storage.reason).toContain('mdr-ingest-eastus-1');
    expect(storage.reason).not.toContain('westeurope');
    expect(activity.reason).toContain('mdr-ingest-westeurope-1');
  });

  it('does not let an event time in the future keep a source alive', () => {
    const future: LastSeen = { ...seen('storage', 0), lastEventTime: '2099-01-01T00:00:00Z' };
    const h = evaluateHealth({ ...base, hubs: [obs(hub('eastus'), 1)], coverage: [entry('storage-diagnostics', 'streaming')], lastSeen: [future] });
    // seen(…, 0) was ingested at NOW: the event cannot be later than that.
    expect(h.sources[0]?.lastEventTime).toBe(NOW.toISOString());
    const later = evaluateHealth({ ...base, now: new Date(NOW.getTime() + 200 * 60_000), hubs: [obs(hub('eastus'), 1)], coverage: [entry('storage-diagnostics', 'streaming')], lastSeen: [future] });
    expect(later.sources[0]?.verdict).toBe('silent');
  });
});

describe('evaluateHealth: a stalled ingest partition', () => {
  const h = hub('eastus');
  // Partition 0 holds events up to 20 min ago; partition 1 up to 1 min ago.
  const running: HubObservation = {
    hub: h,
    runtime: {
      partitions: [
        { partitionId: '0', lastEnqueuedSequenceNumber: 900, lastEnqueuedOnUtc: new Date(minsAgo(20)), isEmpty: false },
        { partitionId: '1', lastEnqueuedSequenceNumber: 77, lastEnqueuedOnUtc: new Date(minsAgo(1)), isEmpty: false },
      ],
    },
  };
  const progress = (partitionId: string, atMinsAgo: number, sequenceNumber = 10): PartitionProgress => ({ tenantId: T, namespace: h.namespace, hub: h.hub, partitionId, sequenceNumber, at: minsAgo(atMinsAgo) });
  // The source itself went quiet 200 min ago: without the stall it would be silent and its ledger entry marked so.
  const input = { ...base, hubs: [running], coverage: [entry('activity-log', 'streaming', 500)], lastSeen: [seen('activity-log', 200)] };

  it('names a partition with events waiting and no batch through for 30 min, and keeps the ledger entry as it is', () => {
    const r = evaluateHealth({ ...input, progress: [progress('0', 45), progress('1', 2)] });
    expect(r.hubs[0]).toMatchObject({ verdict: 'stalled', stalledPartitions: [{ partitionId: '0', progressAt: minsAgo(45), progressSequenceNumber: 10, lastEnqueuedOnUtc: minsAgo(20), lastEnqueuedSequenceNumber: 900 }] });
    expect(r.hubs[0]!.reason).toMatch(/partition\(s\) 0 through since .* while events keep arriving/);
    expect(r.verdict).toBe('stalled');
    expect(r.entries).toEqual([expect.objectContaining({ from: 'streaming', to: 'streaming', reason: 'ingest stalled on its hub' })]);
  });

  it('does not flag a partition whose last events came within the progress write interval, or one without a progress row', () => {
    // Progress 45 min ago, last event 42 min ago: within the 5-minute write interval plus slack, so likely got through.
    const quiet: HubObservation = { hub: h, runtime: { partitions: [{ partitionId: '0', lastEnqueuedSequenceNumber: 12, lastEnqueuedOnUtc: new Date(minsAgo(42)), isEmpty: false }] } };
    expect(evaluateHealth({ ...input, hubs: [quiet], progress: [progress('0', 45)] }).hubs[0]!.verdict).not.toBe('stalled');
    // Nothing through for 25 min only: not yet stalled (retries back off up to 15 min).
    expect(evaluateHealth({ ...input, progress: [progress('0', 25), progress('1', 2)] }).hubs[0]!.verdict).not.toBe('stalled');
    // No row for the partition (ingest never recorded it): unknown, never stalled; the source is judged as before.
    const r = evaluateHealth({ ...input, progress: [] });
    expect(r.hubs[0]!.verdict).toBe('ok');
    expect(r.entries[0]!.to).toBe('silent');
  });
});

/** Found in review (2026-12-03): false alarms right after a quiet spell, and a grace shorter than health's own. */
describe('evaluateHealth: what is not yet due', () => {
  const T2 = T;
  const hub: HubAssignment = { tenantId: T2, region: 'eastus', namespace: 'mdr-ingest-eastus-1', namespaceId: '/ns', hub: `t-${T2}`, consumerGroup: 'mdr-ingest', namespaceRuleId: 'r', sendRuleId: 's', state: 'ready', createdAt: minsAgo(100_000) };
  const at = (lastEnqMinsAgo: number, seq = 900): HubObservation => ({ hub, runtime: { partitions: [{ partitionId: '0', lastEnqueuedSequenceNumber: seq, lastEnqueuedOnUtc: new Date(Date.parse(minsAgo(lastEnqMinsAgo))), isEmpty: false }] } });
  const entry = (resourceId: string, state: CoverageEntry['state'], updatedMinsAgo: number): CoverageEntry => ({ tenantId: T2, resourceId, target: 'storage-diagnostics', subscriptionId: SUB, region: 'eastus', state, updatedAt: minsAgo(updatedMinsAgo) });
  const storageSeen = (m: number): LastSeen => ({ tenantId: T2, source: 'storage', category: 'c', lastEventTime: minsAgo(m), lastIngestTime: minsAgo(m), count: 1 });

  it('keeps a setting created 10 minutes ago in its grace although an older entry of the same source is overdue', () => {
    const r = evaluateHealth({ ...base, hubs: [at(1)], coverage: [entry('/sa-old', 'streaming', 10_000), entry('/sa-new', 'created', 10)], lastSeen: [storageSeen(300)] });
    expect(r.entries.find((x) => x.resourceId === '/sa-old')?.to).toBe('silent');
    expect(r.entries.find((x) => x.resourceId === '/sa-new')).toMatchObject({ to: 'created', reason: expect.stringContaining('new setting') });
  });

  it('a partition idle for hours whose first new event arrived seconds ago is not stalled; a backlog or an old waiting event is', () => {
    const progress: PartitionProgress[] = [{ tenantId: T2, namespace: hub.namespace, hub: hub.hub, partitionId: '0', sequenceNumber: 899, at: minsAgo(180) }];
    const input = { ...base, coverage: [entry('/sa', 'streaming', 10_000)], lastSeen: [storageSeen(180)], progress };
    const fresh: HubObservation = { hub, runtime: { partitions: [{ partitionId: '0', lastEnqueuedSequenceNumber: 900, lastEnqueuedOnUtc: new Date(NOW.getTime() - 5_000), isEmpty: false }] } };
    expect(evaluateHealth({ ...input, hubs: [fresh] }).hubs[0]?.verdict).not.toBe('stalled');
    expect(evaluateHealth({ ...input, hubs: [at(20)] }).hubs[0]?.verdict).toBe('stalled');
    const backlog: HubObservation = { hub, runtime: { partitions: [{ partitionId: '0', lastEnqueuedSequenceNumber: 1500, lastEnqueuedOnUtc: new Date(NOW.getTime() - 5_000), isEmpty: false }] } };
    expect(evaluateHealth({ ...input, hubs: [backlog] }).hubs[0]?.verdict).toBe('stalled');
  });
});
