import { createMemoryRegistry } from '../../../src/lib/registry/memoryRegistry.js';
import { registryContract } from './registryContract.js';

registryContract('memory', async () => ({ registry: createMemoryRegistry() }));
