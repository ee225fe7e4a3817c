import { describe, expect, it } from 'vitest';
import { createMemoryPartitionInfo } from '../../../src/lib/health/memoryPartitionInfo.js';
import { runHealthCheck, type HealthDeps } from '../../../src/lib/health/runHealthCheck.js';
import { memoryLogger } from '../../../src/lib/log.js';
import { createMemoryRegistry } from '../../../src/lib/registry/memoryRegistry.js';
import type { CoverageEntry, HubAssignment, TenantRecord } from '../../../src/lib/registry/types.js';

const T1 = '11111111-1111-1111-1111-111111111111';
const T2 = '33333333-3333-3333-3333-333333333333';
const SUB = '22222222-2222-2222-2222-222222222222';
const START = new Date('2026-11-26T12:00:00Z');
const at = (mins: number) => new Date(START.getTime() + mins * 60_000);
const SUFFIX = 'servicebus.windows.net';

function tenant(tenantId: string): TenantRecord {
  const ts = at(-10_000).toISOString();
  return {
    tenantId,
    displayName: 'Contoso',
    regions: ['eastus'],
    entraWorkspaceIds: [],
    options: { activityLog: true, storage: true, keyVault: true, entraDataExport: true, defenderAlerts: true, storageServices: ['blob'] },
    status: 'active',
    createdAt: ts,
    updatedAt: ts,
  };
}
function hub(tenantId: string): HubAssignment {
  return {
    tenantId,
    region: 'eastus',
    namespace: 'mdr-ingest-eastus-1',
    namespaceId: '/subscriptions/p/resourceGroups/mdr-ingest/providers/Microsoft.EventHub/namespaces/mdr-ingest-eastus-1',
    hub: `t-${tenantId}`,
    consumerGroup: 'mdr-ingest',
    namespaceRuleId: 'ns-rule',
    sendRuleId: 'send-rule',
    state: 'ready',
    createdAt: at(-10_000).toISOString(),
  };
}
const cov = (tenantId: string, target: CoverageEntry['target'], resourceId: string, region = 'eastus'): CoverageEntry => ({
  tenantId,
  resourceId,
  target,
  subscriptionId: SUB,
  region,
  state: 'streaming',
  settingName: 'mdr-export',
  updatedAt: at(-30).toISOString(),
});
const storageId = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa1/blobServices/default`;
const activityId = `/subscriptions/${SUB}`;

async function setup() {
  const registry = createMemoryRegistry();
  const partitionInfo = createMemoryPartitionInfo();
  for (const t of [T1, T2]) {
    await registry.putTenant(tenant(t));
    await registry.putHub(hub(t));
    await registry.putCoverage(t, [cov(t, 'activity-log', activityId, 'global'), cov(t, 'storage-diagnostics', storageId)]);
  }
  const logger = memoryLogger();
  let now = START;
  const deps: HealthDeps = { registry, partitionInfo, logger, settings: { health: { silenceThresholdMinutes: 60 }, cloud: { eventHubsSuffix: SUFFIX } }, now: () => now };
  const hubRuntime = (tenantId: string, lastMins: number) =>
    partitionInfo.set(`mdr-ingest-eastus-1.${SUFFIX}`, `t-${tenantId}`, {
      partitions: [
        { partitionId: '0', lastEnqueuedSequenceNumber: 10, lastEnqueuedOnUtc: at(lastMins), isEmpty: false },
        { partitionId: '1', lastEnqueuedSequenceNumber: 4, lastEnqueuedOnUtc: at(lastMins - 5), isEmpty: false },
      ],
    });
  const ingest = (tenantId: string, source: string, mins: number) =>
    registry.recordLastSeen([{ tenantId, source, category: 'c', lastEventTime: at(mins).toISOString(), lastIngestTime: at(mins + 1).toISOString(), count: 1 }]);
  return { registry, partitionInfo, logger, deps, hubRuntime, ingest, setNow: (d: Date) => (now = d) };
}

describe('runHealthCheck', () => {
  it('writes silent into the ledger entries of a quiet source and logs a warning naming tenant and source', async () => {
    const s = await setup();
    s.hubRuntime(T1, -2);
    s.hubRuntime(T2, -2);
    await s.ingest(T1, 'activity-log', -5);
    await s.ingest(T1, 'storage', -90); // quiet beyond the 60 min threshold
    await s.ingest(T2, 'activity-log', -5);
    await s.ingest(T2, 'storage', -3);

    const report = await runHealthCheck(s.deps);

    const ledger1 = await s.registry.listCoverage(T1);
    const storage1 = ledger1.find((e) => e.target === 'storage-diagnostics')!;
    expect(storage1.state).toBe('silent');
    expect(storage1.detail).toContain('no storage event since');
    expect(storage1.updatedAt).toBe(START.toISOString());
    expect(storage1.settingName).toBe('mdr-export');
    expect(ledger1.find((e) => e.target === 'activity-log')?.state).toBe('streaming');
    expect((await s.registry.listCoverage(T2)).every((e) => e.state === 'streaming')).toBe(true);

    const warnings = s.logger.lines.filter((l) => l.level === 'warn' && l.event === 'health.silent');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.fields).toMatchObject({ tenantId: T1, source: 'storage', verdict: 'silent', lastEventTime: at(-90).toISOString() });
    expect(report.ledgerChanges).toEqual([{ tenantId: T1, target: 'storage-diagnostics', resourceId: storageId, from: 'streaming', to: 'silent' }]);
    expect(report.tenants.map((t) => [t.tenantId, t.verdict])).toEqual([
      [T1, 'ok'],
      [T2, 'ok'],
    ]);
    expect(s.partitionInfo.calls).toContainEqual({ namespaceFqdn: `mdr-ingest-eastus-1.${SUFFIX}`, hub: `t-${T1}` });
  });

  it('restores streaming when data resumes, and logs the recovery', async () => {
    const s = await setup();
    s.hubRuntime(T1, -2);
    s.hubRuntime(T2, -2);
    await s.ingest(T1, 'activity-log', -5);
    await s.ingest(T1, 'storage', -90);
    await runHealthCheck(s.deps, { tenantId: T1 });
    expect((await s.registry.listCoverage(T1)).find((e) => e.target === 'storage-diagnostics')?.state).toBe('silent');

    s.setNow(at(20));
    s.hubRuntime(T1, 19);
    await s.ingest(T1, 'activity-log', 15);
    await s.ingest(T1, 'storage', 18);
    const report = await runHealthCheck(s.deps, { tenantId: T1 });

    const storage = (await s.registry.listCoverage(T1)).find((e) => e.target === 'storage-diagnostics')!;
    expect(storage.state).toBe('streaming');
    expect(storage.detail).toBeUndefined();
    expect(report.ledgerChanges).toEqual([{ tenantId: T1, target: 'storage-diagnostics', resourceId: storageId, from: 'silent', to: 'streaming' }]);
    expect(s.logger.lines.some((l) => l.event === 'health.recovered' && l.fields.tenantId === T1 && l.fields.target === 'storage-diagnostics')).toBe(true);
  });

  it('marks every expected source of a tenant whose hub went quiet, and warns about the hub', async () => {
    const s = await setup();
    s.hubRuntime(T1, -300);
    s.hubRuntime(T2, -1);
    await s.ingest(T1, 'activity-log', -300);
    await s.ingest(T1, 'storage', -301);
    await s.ingest(T2, 'activity-log', -1);
    await s.ingest(T2, 'storage', -1);
    const report = await runHealthCheck(s.deps);
    expect(report.tenants.find((t) => t.tenantId === T1)?.verdict).toBe('silent');
    expect((await s.registry.listCoverage(T1)).map((e) => e.state)).toEqual(['silent', 'silent']);
    const hubWarn = s.logger.lines.find((l) => l.event === 'health.hub_silent');
    expect(hubWarn?.fields).toMatchObject({ tenantId: T1, hub: `t-${T1}`, verdict: 'silent' });
    expect(
      s.logger.lines
        .filter((l) => l.event === 'health.silent')
        .map((l) => [l.fields.tenantId, l.fields.source])
        .sort(),
    ).toEqual([
      [T1, 'activity-log'],
      [T1, 'storage'],
    ]);
  });

  it('writes nothing in a dry run but reports the changes it would make', async () => {
    const s = await setup();
    s.hubRuntime(T1, -2);
    await s.ingest(T1, 'activity-log', -500);
    await s.ingest(T1, 'storage', -500);
    const report = await runHealthCheck(s.deps, { tenantId: T1, dryRun: true });
    expect(report.ledgerChanges).toHaveLength(2);
    expect((await s.registry.listCoverage(T1)).every((e) => e.state === 'streaming')).toBe(true);
  });

  it('keeps evaluating when a hub cannot be read, reporting it as unknown with a warning', async () => {
    const s = await setup();
    s.partitionInfo.fail(`mdr-ingest-eastus-1.${SUFFIX}`, `t-${T1}`, new Error('Unauthorized access. Listen claim required'));
    s.hubRuntime(T2, -1);
    await s.ingest(T1, 'activity-log', -5);
    await s.ingest(T1, 'storage', -5);
    const report = await runHealthCheck(s.deps);
    const t1 = report.tenants.find((t) => t.tenantId === T1)!;
    expect(t1.hubs[0]).toMatchObject({ verdict: 'unknown' });
    expect(t1.verdict).toBe('ok');
    expect(s.logger.lines.find((l) => l.event === 'health.hub_unreadable')?.fields).toMatchObject({ tenantId: T1, message: 'Unauthorized access. Listen claim required' });
    expect(report.tenants).toHaveLength(2);
  });

  it('rejects an unknown tenant with a not-found error', async () => {
    const s = await setup();
    await expect(runHealthCheck(s.deps, { tenantId: '99999999-9999-9999-9999-999999999999' })).rejects.toMatchObject({ kind: 'not-found' });
  });
});

describe('coverage.snapshot', () => {
  it('logs each tenant\'s ledger as counts by target and state, after this run\'s own changes, and nothing on a dry run', async () => {
    const s = await setup();
    s.hubRuntime(T1, -2);
    s.hubRuntime(T2, -2);
    await s.ingest(T1, 'activity-log', -5);
    await s.ingest(T1, 'storage', -90); // goes silent in this run
    await s.ingest(T2, 'activity-log', -5);
    await s.ingest(T2, 'storage', -3);

    await runHealthCheck(s.deps, { dryRun: true });
    expect(s.logger.lines.filter((l) => l.event === 'coverage.snapshot')).toEqual([]);

    await runHealthCheck(s.deps);
    const snap = Object.fromEntries(s.logger.lines.filter((l) => l.event === 'coverage.snapshot').map((l) => [l.fields.tenantId, l.fields]));
    expect(Object.keys(snap).sort()).toEqual([T1, T2]);
    expect(snap[T1]).toMatchObject({ targets: 2, covered: 1, tampered: 0 });
    expect(snap[T1]!.counts).toEqual([
      { target: 'activity-log', state: 'streaming', count: 1 },
      { target: 'storage-diagnostics', state: 'silent', count: 1 },
    ]);
    expect(snap[T2]).toMatchObject({ targets: 2, covered: 2, counts: [{ target: 'activity-log', state: 'streaming', count: 1 }, { target: 'storage-diagnostics', state: 'streaming', count: 1 }] });
  });
});

describe('runHealthCheck and concurrent ledger writers', () => {
  const T = T1;
  const NOW = START;
  const ago = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();
  it('keeps a tamper record written while it read the hubs: its ledger write changes only state and detail (found in review, 2026-12-03)', async () => {
    const registry = createMemoryRegistry();
    await registry.putTenant({ tenantId: T, displayName: 'c', regions: ['eastus'], entraWorkspaceIds: [], options: { activityLog: true, storage: true, keyVault: true, entraDataExport: true, defenderAlerts: true, storageServices: ['blob'] }, status: 'active', createdAt: ago(99_999), updatedAt: ago(99_999) });
    await registry.putHub({ tenantId: T, region: 'eastus', namespace: 'ns1', namespaceId: '/ns1', hub: `t-${T}`, consumerGroup: 'cg', namespaceRuleId: 'r', sendRuleId: 's', state: 'ready', createdAt: ago(99_999) });
    const e: CoverageEntry = { tenantId: T, resourceId: '/sa', target: 'storage-diagnostics', subscriptionId: SUB, region: 'eastus', state: 'streaming', updatedAt: ago(500) };
    await registry.putCoverage(T, [e]);
    await registry.recordLastSeen([{ tenantId: T, source: 'storage', category: 'c', lastEventTime: ago(400), lastIngestTime: ago(400), count: 1 }]);
    const partitionInfo = createMemoryPartitionInfo();
    partitionInfo.set('ns1.servicebus.windows.net', `t-${T}`, { partitions: [{ partitionId: '0', lastEnqueuedSequenceNumber: 5, lastEnqueuedOnUtc: new Date(ago(1)), isEmpty: false }] });
    // While health reads the hub runtime, the event-driven run (recordTamper) writes the tamper finding into the entry.
    const slow = { ...partitionInfo, getHubRuntime: async (ns: string, h: string) => {
      const [cur] = await registry.listCoverage(T1);
      await registry.putCoverage(T1, [{ ...cur!, tamper: { at: ago(2), operation: 'MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE', object: '/sa/ds', findingUid: 'f-1', repairedAt: ago(1) } }]);
      return partitionInfo.getHubRuntime(ns, h);
    } };
    await runHealthCheck({ registry, partitionInfo: slow, settings: { health: { silenceThresholdMinutes: 120 }, cloud: { eventHubsSuffix: 'servicebus.windows.net' } }, now: () => NOW });
    const [final] = await registry.listCoverage(T);
    expect(final!.state).toBe('silent');
    expect(final!.tamper?.findingUid).toBe('f-1');
  });
});

describe('runHealthCheck: the fleet as configured', () => {
  it('counts an app just added to MDR_INGEST_APPS, and an app removed from it as draining (found in review, 2026-12-03)', async () => {
    const id = (n: string) => `/subscriptions/s/resourceGroups/r/providers/Microsoft.Web/sites/${n}`;
    const registry = createMemoryRegistry();
    await registry.putIngestApp({ name: 'ingest-01', resourceId: id('ingest-01'), hubs: ['a/westeurope'], state: 'active' });
    await registry.putIngestApp({ name: 'ingest-02', resourceId: id('ingest-02'), hubs: ['b/westeurope'], state: 'active' });
    const settings = { health: { silenceThresholdMinutes: 120 }, cloud: { eventHubsSuffix: SUFFIX }, fleet: { maxHubsPerApp: 1, ingestApps: [id('ingest-01'), id('ingest-03')] } };
    const r = await runHealthCheck({ registry, partitionInfo: createMemoryPartitionInfo(), settings, now: () => START });
    expect(r.fleet?.full).toBe(false);
    expect(r.fleet?.apps.map((a) => [a.name, a.state])).toEqual([['ingest-01', 'active'], ['ingest-02', 'draining'], ['ingest-03', 'active']]);
    // Read-only: the records are brought in line by the writers (onboarding, reconcile), not by health.
    expect((await registry.listIngestApps()).map((a) => a.name).sort()).toEqual(['ingest-01', 'ingest-02']);
  });
});

