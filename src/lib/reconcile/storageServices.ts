/** Storage services whose diagnostic settings live on `<account>/<service>Services/default`. */
export type StorageService = 'blob' | 'queue' | 'table' | 'file';
export const ALL_STORAGE_SERVICES: readonly StorageService[] = ['blob', 'queue', 'table', 'file'];

/**
 * Which service sub-resources exist for an account kind and SKU (azure-facts §1, storage-account-overview):
 * GPv1/GPv2 Standard have all four; Premium GPv2 (page blobs), BlobStorage and BlockBlobStorage only blob;
 * FileStorage only file. A PUT on a missing sub-resource fails, so unknown kinds get none.
 */
export function storageServicesFor(kind: string | undefined, skuName: string | undefined): StorageService[] {
  const k = (kind ?? '').toLowerCase();
  const premium = (skuName ?? '').toLowerCase().startsWith('premium');
  switch (k) {
    case 'storagev2':
    case 'storage':
      return premium ? ['blob'] : [...ALL_STORAGE_SERVICES];
    case 'blobstorage':
    case 'blockblobstorage':
      return ['blob'];
    case 'filestorage':
      return ['file'];
    default:
      return [];
  }
}

export const storageServiceResourceId = (accountId: string, service: StorageService): string => `${accountId}/${service}Services/default`;
