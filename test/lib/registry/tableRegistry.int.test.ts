import { TableClient } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../../src/lib/registry/createRegistry.js';
import { createTableRegistry } from '../../../src/lib/registry/tableRegistry.js';
import { useAzurite } from '../../support/azurite.js';
import { poolSettings, registryContract } from './registryContract.js';

const az = useAzurite();
let n = 0;

// Each test gets its own tables (a fresh prefix) in one Azurite.
registryContract('Azure Tables (Azurite)', async () => ({
  registry: createRegistry(poolSettings({ AzureWebJobsStorage: az.connectionString, MDR_TABLE_PREFIX: `t${++n}x${Date.now() % 100000}` })),
}));

describe('Azure Tables coverage ledger writes', () => {
  it('writes only the entries that changed, and nothing when the ledger is already true', async () => {
    let upserts = 0;
    const registry = createTableRegistry({
      tablePrefix: `w${Date.now() % 100000}`,
      clientFor: (t) => {
        const client = TableClient.fromConnectionString(az.connectionString, t, { allowInsecureConnection: true });
        // Rows written, whether one by one or inside an entity-group transaction.
        const upsert = client.upsertEntity.bind(client);
        client.upsertEntity = ((...args: Parameters<typeof upsert>) => {
          upserts++;
          return upsert(...args);
        }) as typeof client.upsertEntity;
        const submit = client.submitTransaction.bind(client);
        client.submitTransaction = ((actions: Parameters<typeof submit>[0], ...rest: unknown[]) => {
          upserts += actions.filter((a) => a[0] === 'upsert').length;
          return submit(actions, ...(rest as []));
        }) as typeof client.submitTransaction;
        return client;
      },
    });
    const tenantId = '0a0a0a0a-0000-4000-8000-000000000001';
    const entry = (resourceId: string, state: 'streaming' | 'failed' = 'streaming') => ({ tenantId, resourceId, target: 'keyvault-diagnostics' as const, subscriptionId: 's', region: 'westeurope', state, updatedAt: '2026-11-26T00:00:00.000Z', settingName: 'mdr-export' });
    await registry.putCoverage(tenantId, [entry('/v/a'), entry('/v/b')], { replaceAll: true });
    expect(upserts).toBe(2);
    await registry.putCoverage(tenantId, [entry('/v/a'), entry('/v/b')], { replaceAll: true });
    expect(upserts).toBe(2);
    await registry.putCoverage(tenantId, [entry('/v/a'), entry('/v/b', 'failed')], { replaceAll: true });
    expect(upserts).toBe(3);
    expect((await registry.listCoverage(tenantId)).map((c) => `${c.resourceId}:${c.state}`).sort()).toEqual(['/v/a:streaming', '/v/b:failed']);
  });

  it('writes a large ledger in transactions of at most 100 rows, and reads every row back', async () => {
    const batches: number[] = [];
    const registry = createTableRegistry({
      tablePrefix: `b${Date.now() % 100000}`,
      clientFor: (t) => {
        const client = TableClient.fromConnectionString(az.connectionString, t, { allowInsecureConnection: true });
        const submit = client.submitTransaction.bind(client);
        client.submitTransaction = ((actions: Parameters<typeof submit>[0], ...rest: unknown[]) => {
          batches.push(actions.length);
          return submit(actions, ...(rest as []));
        }) as typeof client.submitTransaction;
        return client;
      },
    });
    const tenantId = '0a0a0a0a-0000-4000-8000-000000000002';
    const entries = Array.from({ length: 250 }, (_, i) => ({ tenantId, resourceId: `/v/${i}`, target: 'keyvault-diagnostics' as const, subscriptionId: 's', region: 'westeurope', state: 'streaming' as const, updatedAt: '2026-11-26T00:00:00.000Z' }));
    await registry.putCoverage(tenantId, entries, { replaceAll: true });
    expect(batches).toEqual([100, 100, 50]);
    expect((await registry.listCoverage(tenantId)).length).toBe(250);
  });
});
