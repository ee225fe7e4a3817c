import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll } from 'vitest';
import { startAzurite, type AzuriteHandle } from '../../sim/azurite.js';

// Tests use the same harness as the sandbox and bench.
export { startAzurite, type AzuriteHandle };

/**
 * Azurite for the whole test file (started before its tests, stopped after). The handle reads through to the
 * running instance, so it can be passed around at collection time and used inside tests.
 */
export function useAzurite(opts: { startTimeoutMs?: number } = {}): AzuriteHandle {
  let az: AzuriteHandle | undefined;
  beforeAll(async () => {
    az = await startAzurite();
  }, opts.startTimeoutMs);
  afterAll(async () => {
    await az?.stop();
  });
  const running = (): AzuriteHandle => {
    if (!az) throw new Error('Azurite is not started yet (use it inside a test)');
    return az;
  };
  return {
    get connectionString() {
      return running().connectionString;
    },
    get blobUrl() {
      return running().blobUrl;
    },
    get queueUrl() {
      return running().queueUrl;
    },
    get tableUrl() {
      return running().tableUrl;
    },
    stop: () => running().stop(),
  };
}

/** {@link useAzurite} with a blob client on it. */
export function useAzuriteBlobs(): { readonly az: AzuriteHandle; readonly svc: BlobServiceClient } {
  const az = useAzurite();
  let svc: BlobServiceClient | undefined;
  return {
    az,
    get svc() {
      return (svc ??= BlobServiceClient.fromConnectionString(az.connectionString));
    },
  };
}
