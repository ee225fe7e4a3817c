import type { BlobServiceClient } from '@azure/storage-blob';

/**
 * A stand-in for the Blob service that the real blob outputs (src/lib/ingest/outputs/blobOutputs.ts) upload into:
 * it keeps only the bytes uploaded per container, so the bench and the heap child measure the production output
 * code (serialization and compression included) without the network. Only the calls the outputs make exist.
 */
export function countingBlobService(sink: Map<string, number>): BlobServiceClient {
  const service = {
    getContainerClient: (container: string) => ({
      createIfNotExists: () => Promise.resolve({}),
      getBlockBlobClient: () => ({
        uploadData: (data: Uint8Array) => {
          sink.set(container, (sink.get(container) ?? 0) + data.byteLength);
          return Promise.resolve({});
        },
      }),
    }),
  };
  return service as unknown as BlobServiceClient;
}
