import azf from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { createHealthHttpHandler } from '../../../src/lib/health/httpHandlers.js';
import { createMemoryPartitionInfo } from '../../../src/lib/health/memoryPartitionInfo.js';
import { createMemoryRegistry } from '../../../src/lib/registry/memoryRegistry.js';

const { HttpRequest, InvocationContext } = azf;
const T = '11111111-1111-1111-1111-111111111111';
const SUB = '22222222-2222-2222-2222-222222222222';
const NOW = new Date('2026-11-26T12:00:00Z');

describe('createHealthHttpHandler', () => {
  async function deps() {
    const registry = createMemoryRegistry();
    await registry.putTenant({ tenantId: T, displayName: 'Contoso', regions: ['eastus'], entraWorkspaceIds: [], options: { activityLog: true, storage: true, keyVault: true, entraDataExport: true, defenderAlerts: true, storageServices: ['blob'] }, status: 'active', createdAt: 'x', updatedAt: 'x' });
    await registry.putCoverage(T, [{ tenantId: T, resourceId: `/subscriptions/${SUB}`, target: 'activity-log', subscriptionId: SUB, region: 'global', state: 'streaming', updatedAt: '2026-11-26T11:50:00Z' }]);
    await registry.recordLastSeen([{ tenantId: T, source: 'activity-log', category: 'Administrative', lastEventTime: '2026-11-26T06:00:00Z', lastIngestTime: '2026-11-26T06:01:00Z', count: 1 }]);
    return { registry, partitionInfo: createMemoryPartitionInfo(), settings: { health: { silenceThresholdMinutes: 120 }, cloud: { eventHubsSuffix: 'servicebus.windows.net' } }, now: () => NOW };
  }
  const get = (id: string) => new HttpRequest({ method: 'GET', url: `http://localhost/api/tenants/${id}/health`, params: { id } });
  const ctx = () => new InvocationContext({ functionName: 'health', invocationId: 'i' });

  it('returns the tenant health and the ledger changes the timer would make, writing nothing', async () => {
    const d = await deps();
    const res = await createHealthHttpHandler(d)(get(T), ctx());
    expect(res.status).toBe(200);
    const body = res.jsonBody as { verdict: string; sources: { source: string; verdict: string }[]; pendingLedgerChanges: { to: string }[] };
    expect(body.verdict).toBe('silent');
    expect(body.sources).toEqual([expect.objectContaining({ source: 'activity-log', verdict: 'silent' })]);
    expect(body.pendingLedgerChanges.map((c) => c.to)).toEqual(['silent']);
    expect((await d.registry.listCoverage(T))[0]?.state).toBe('streaming');
  });

  it('answers 400 for a malformed tenant id and 404 for an unknown tenant', async () => {
    const h = createHealthHttpHandler(await deps());
    expect((await h(get('../etc'), ctx())).status).toBe(400);
    expect((await h(get('99999999-9999-9999-9999-999999999999'), ctx())).status).toBe(404);
  });
});
