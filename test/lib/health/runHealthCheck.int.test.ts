import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../../src/lib/config/settings.js';
import { createMemoryPartitionInfo } from '../../../src/lib/health/memoryPartitionInfo.js';
import { runHealthCheck } from '../../../src/lib/health/runHealthCheck.js';
import { memoryLogger } from '../../../src/lib/log.js';
import { createRegistry } from '../../../src/lib/registry/createRegistry.js';
import { useAzurite } from '../../support/azurite.js';

const P = 'bbbbbbbb-0000-0000-0000-000000000001';
const T = 'aaaaaaaa-0000-0000-0000-000000000001';
const SUB = '00000000-0000-0000-0000-000000000001';
const START = new Date('2026-11-26T12:00:00Z');
const at = (mins: number) => new Date(START.getTime() + mins * 60_000);
const VAULT = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1`;

const az = useAzurite();

describe('stream health with the Azure Tables registry (Azurite)', () => {
  it('marks a quiet source silent in the table ledger, then restores it when ingest sees data again', async () => {
    const settings = parseSettings({
      MDR_PROVIDER_TENANT_ID: P,
      MDR_PROVIDER_SUBSCRIPTION_ID: P,
      MDR_INGEST_PRINCIPAL_ID: P,
      AzureWebJobsStorage: az.connectionString,
      MDR_TABLE_PREFIX: `health${Date.now() % 100000}`,
      MDR_SILENCE_THRESHOLD_MINUTES: '60',
    });
    const registry = createRegistry(settings);
    await registry.putTenant({ tenantId: T, displayName: 'Contoso', regions: ['westeurope'], entraWorkspaceIds: [], options: { activityLog: true, storage: true, keyVault: true, entraDataExport: true, defenderAlerts: true, storageServices: ['blob'] }, status: 'active', createdAt: at(-5000).toISOString(), updatedAt: at(-5000).toISOString() });
    await registry.putHub({ tenantId: T, region: 'westeurope', namespace: 'mdr-ingest-westeurope-1', namespaceId: 'nsid', hub: `t-${T}`, consumerGroup: 'mdr-ingest', namespaceRuleId: 'r', sendRuleId: 's', state: 'ready', createdAt: at(-5000).toISOString() });
    await registry.putCoverage(T, [
      { tenantId: T, resourceId: `/subscriptions/${SUB}`, target: 'activity-log', subscriptionId: SUB, region: 'global', state: 'streaming', settingName: 'mdr-activity', updatedAt: at(-10).toISOString() },
      { tenantId: T, resourceId: VAULT, target: 'keyvault-diagnostics', subscriptionId: SUB, region: 'westeurope', state: 'streaming', settingName: 'mdr-kv', updatedAt: at(-10).toISOString() },
    ]);
    await registry.recordLastSeen([
      { tenantId: T, source: 'activity-log', category: 'Administrative', lastEventTime: at(-3).toISOString(), lastIngestTime: at(-2).toISOString(), count: 5 },
      { tenantId: T, source: 'key-vault', category: 'AuditEvent', lastEventTime: at(-200).toISOString(), lastIngestTime: at(-199).toISOString(), count: 2 },
    ]);
    const partitionInfo = createMemoryPartitionInfo();
    const fqdn = `mdr-ingest-westeurope-1.${settings.cloud.eventHubsSuffix}`;
    partitionInfo.set(fqdn, `t-${T}`, { partitions: [{ partitionId: '0', lastEnqueuedSequenceNumber: 100, lastEnqueuedOnUtc: at(-2), isEmpty: false }] });
    const logger = memoryLogger();
    let now = START;
    const deps = { registry, partitionInfo, settings, logger, now: () => now };

    const first = await runHealthCheck(deps);
    expect(first.thresholdMinutes).toBe(60);
    const kv = (await registry.listCoverage(T)).find((e) => e.target === 'keyvault-diagnostics')!;
    expect(kv).toMatchObject({ state: 'silent', settingName: 'mdr-kv', updatedAt: START.toISOString() });
    expect(kv.detail).toContain('no key-vault event since');
    expect((await registry.listCoverage(T)).find((e) => e.target === 'activity-log')?.state).toBe('streaming');
    expect(logger.lines.filter((l) => l.event === 'health.silent').map((l) => [l.level, l.fields.tenantId, l.fields.source])).toEqual([['warn', T, 'key-vault']]);

    now = at(30);
    await registry.recordLastSeen([{ tenantId: T, source: 'key-vault', category: 'AuditEvent', lastEventTime: at(25).toISOString(), lastIngestTime: at(26).toISOString(), count: 1 }]);
    partitionInfo.set(fqdn, `t-${T}`, { partitions: [{ partitionId: '0', lastEnqueuedSequenceNumber: 140, lastEnqueuedOnUtc: at(26), isEmpty: false }] });
    const second = await runHealthCheck(deps);
    expect(second.ledgerChanges).toEqual([{ tenantId: T, target: 'keyvault-diagnostics', resourceId: VAULT, from: 'silent', to: 'streaming' }]);
    expect((await registry.listCoverage(T)).map((e) => e.state).sort()).toEqual(['streaming', 'streaming']);
    expect((await registry.listCoverage(T)).find((e) => e.target === 'keyvault-diagnostics')?.detail).toBeUndefined();
  });
});
