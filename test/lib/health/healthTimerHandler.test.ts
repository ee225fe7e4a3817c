import azf from '@azure/functions';
import type { Timer } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { createHealthTimerHandler } from '../../../src/lib/health/healthTimerHandler.js';
import { createMemoryPartitionInfo } from '../../../src/lib/health/memoryPartitionInfo.js';
import { createMemoryRegistry } from '../../../src/lib/registry/memoryRegistry.js';

const { InvocationContext } = azf;
const T = '11111111-1111-1111-1111-111111111111';
const SUB = '22222222-2222-2222-2222-222222222222';
const NOW = new Date('2026-11-26T12:00:00Z');

describe('createHealthTimerHandler', () => {
  it('runs the health check and logs silent sources through the invocation context', async () => {
    const registry = createMemoryRegistry();
    await registry.putTenant({ tenantId: T, displayName: 'Contoso', regions: ['eastus'], entraWorkspaceIds: [], options: { activityLog: true, storage: true, keyVault: true, entraDataExport: true, defenderAlerts: true, storageServices: ['blob'] }, status: 'active', createdAt: 'x', updatedAt: 'x' });
    await registry.putHub({ tenantId: T, region: 'eastus', namespace: 'ns1', namespaceId: 'nsid', hub: 'h1', consumerGroup: 'cg', namespaceRuleId: 'r', sendRuleId: 's', state: 'ready', createdAt: '2026-01-01T00:00:00Z' });
    await registry.putCoverage(T, [{ tenantId: T, resourceId: `/subscriptions/${SUB}`, target: 'activity-log', subscriptionId: SUB, region: 'global', state: 'streaming', updatedAt: '2026-11-26T11:50:00Z' }]);
    await registry.recordLastSeen([{ tenantId: T, source: 'activity-log', category: 'Administrative', lastEventTime: '2026-11-26T06:00:00Z', lastIngestTime: '2026-11-26T06:01:00Z', count: 1 }]);
    const partitionInfo = createMemoryPartitionInfo();
    partitionInfo.set('ns1.servicebus.windows.net', 'h1', { partitions: [{ partitionId: '0', lastEnqueuedSequenceNumber: 3, lastEnqueuedOnUtc: new Date('2026-11-26T06:01:00Z'), isEmpty: false }] });

    const lines: [string, string][] = [];
    const ctx = new InvocationContext({ functionName: 'streamHealth', invocationId: 'inv-1', logHandler: (level, ...args) => lines.push([level, String(args[0])]) });
    const handler = createHealthTimerHandler(async () => ({ registry, partitionInfo, settings: { health: { silenceThresholdMinutes: 120 }, cloud: { eventHubsSuffix: 'servicebus.windows.net' } }, now: () => NOW }));
    const timer: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };
    await handler(timer, ctx);

    const warn = lines.find(([level, msg]) => level === 'warning' && msg.startsWith('health.silent '));
    expect(warn?.[1]).toContain(`"tenantId":"${T}"`);
    expect(warn?.[1]).toContain('"source":"activity-log"');
    expect(warn?.[1]).toContain('"invocationId":"inv-1"');
    expect((await registry.listCoverage(T))[0]?.state).toBe('silent');
  });
});
