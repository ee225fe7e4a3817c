import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll } from 'vitest';
import { startAzurite, type AzuriteHandle } from '../../sim/azurite.js';

// Tests use the same harness as the sandbox and bench.
export { startAzurite, type AzuriteHandle };

/** Azurite for the whole test file (started before its tests, stopped after), with a blob client on it. */
export function useAzuriteBlobs(): { readonly az: AzuriteHandle; readonly svc: BlobServiceClient } {
  let az: AzuriteHandle | undefined;
  let svc: BlobServiceClient | undefined;
  beforeAll(async () => {
    az = await startAzurite();
    svc = BlobServiceClient.fromConnectionString(az.connectionString);
  });
  afterAll(async () => {
    await az?.stop();
  });
  return {
    get az() {
      if (!az) throw new Error('Azurite is not started yet (use it inside a test)');
      return az;
    },
    get svc() {
      if (!svc) throw new Error('Azurite is not started yet (use it inside a test)');
      return svc;
    },
  };
}
