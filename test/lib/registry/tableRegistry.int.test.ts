import { afterAll, beforeAll } from 'vitest';
import { createRegistry } from '../../../src/lib/registry/createRegistry.js';
import { startAzurite, type AzuriteHandle } from '../../support/azurite.js';
import { poolSettings, registryContract } from './registryContract.js';

let az: AzuriteHandle;
let n = 0;
beforeAll(async () => {
  az = await startAzurite();
}, 30_000);
afterAll(async () => {
  await az?.stop();
});

// Each test gets its own tables (a fresh prefix) in one Azurite.
registryContract('Azure Tables (Azurite)', async () => ({
  registry: createRegistry(poolSettings({ AzureWebJobsStorage: az.connectionString, MDR_TABLE_PREFIX: `t${++n}x${Date.now() % 100000}` })),
}));
