import { describe, expect, it } from 'vitest';
import { makeHealthCommand } from '../../../src/cli/commands/health.js';
import { main } from '../../../src/cli/main.js';
import type { CliIo } from '../../../src/cli/types.js';
import { createMemoryPartitionInfo } from '../../../src/lib/health/memoryPartitionInfo.js';
import type { HealthDeps } from '../../../src/lib/health/runHealthCheck.js';
import { createMemoryRegistry } from '../../../src/lib/registry/memoryRegistry.js';

const T = '11111111-1111-1111-1111-111111111111';
const SUB = '22222222-2222-2222-2222-222222222222';
const NOW = new Date('2026-11-26T12:00:00Z');

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIo = { stdin: [], stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) }, env: {} };
  return { value, out: () => out.join(''), err: () => err.join('') };
}

async function deps(): Promise<HealthDeps> {
  const registry = createMemoryRegistry();
  await registry.putTenant({ tenantId: T, displayName: 'Contoso', regions: ['eastus'], entraWorkspaceIds: [], options: { activityLog: true, storage: true, keyVault: true, entraDataExport: true, defenderAlerts: true, storageServices: ['blob'] }, status: 'active', createdAt: 'x', updatedAt: 'x' });
  await registry.putHub({ tenantId: T, region: 'eastus', namespace: 'ns1', namespaceId: 'nsid', hub: 'h1', consumerGroup: 'cg', namespaceRuleId: 'r', sendRuleId: 's', state: 'ready', createdAt: '2026-01-01T00:00:00Z' });
  await registry.putCoverage(T, [
    { tenantId: T, resourceId: `/subscriptions/${SUB}`, target: 'activity-log', subscriptionId: SUB, region: 'global', state: 'streaming', updatedAt: '2026-11-26T11:50:00Z' },
    { tenantId: T, resourceId: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1`, target: 'keyvault-diagnostics', subscriptionId: SUB, region: 'eastus', state: 'streaming', updatedAt: '2026-11-26T11:50:00Z' },
  ]);
  await registry.recordLastSeen([
    { tenantId: T, source: 'activity-log', category: 'Administrative', lastEventTime: '2026-11-26T11:55:00Z', lastIngestTime: '2026-11-26T11:56:00Z', count: 1 },
    { tenantId: T, source: 'key-vault', category: 'AuditEvent', lastEventTime: '2026-11-26T07:00:00Z', lastIngestTime: '2026-11-26T07:01:00Z', count: 1 },
  ]);
  const partitionInfo = createMemoryPartitionInfo();
  partitionInfo.set('ns1.servicebus.windows.net', 'h1', { partitions: [{ partitionId: '0', lastEnqueuedSequenceNumber: 9, lastEnqueuedOnUtc: new Date('2026-11-26T11:56:00Z'), isEmpty: false }] });
  return { registry, partitionInfo, settings: { health: { silenceThresholdMinutes: 120 }, cloud: { eventHubsSuffix: 'servicebus.windows.net' } }, now: () => NOW };
}

describe('azure-mdr health', () => {
  it('shows the hub and each source with its verdict, and writes nothing without --record', async () => {
    const d = await deps();
    const o = io();
    const code = await main(['health', '--tenant', T], o.value, [makeHealthCommand(async () => d)]);
    expect(code).toBe(0);
    expect(o.out()).toMatch(/hub ns1\/h1 \(eastus\): ok/);
    expect(o.out()).toMatch(/key-vault\s+silent\s+no key-vault event since 2026-11-26T07:00:00.000Z/);
    expect(o.out()).toMatch(/activity-log\s+ok/);
    expect(o.out()).toContain('not written; use --record');
    expect((await d.registry.listCoverage(T)).every((e) => e.state === 'streaming')).toBe(true);
  });

  it('writes silent into the ledger with --record and prints JSON with --json', async () => {
    const d = await deps();
    const o = io();
    const code = await main(['health', '--tenant', T, '--record', '--json'], o.value, [makeHealthCommand(async () => d)]);
    expect(code).toBe(0);
    const report = JSON.parse(o.out()) as { tenants: { sources: { source: string; verdict: string }[] }[]; ledgerChanges: { to: string }[] };
    expect(report.tenants[0]?.sources.find((s) => s.source === 'key-vault')?.verdict).toBe('silent');
    expect(report.ledgerChanges.map((c) => c.to)).toEqual(['silent']);
    expect((await d.registry.listCoverage(T)).find((e) => e.target === 'keyvault-diagnostics')?.state).toBe('silent');
  });

  it('rejects a tenant that is not a GUID with a usage error', async () => {
    const o = io();
    expect(await main(['health', '--tenant', 'contoso'], o.value, [makeHealthCommand(deps)])).toBe(2);
    expect(o.err()).toContain('--tenant must be a tenant GUID');
  });

  it('fails with a clear message for an unregistered tenant', async () => {
    const o = io();
    expect(await main(['health', '--tenant', '99999999-9999-9999-9999-999999999999'], o.value, [makeHealthCommand(deps)])).toBe(1);
    expect(o.err()).toContain('is not registered');
  });
});
