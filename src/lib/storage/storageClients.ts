import type { TokenCredential } from '@azure/identity';
import type { Settings } from '../config/settings.js';
import { lazyDefaultCredential } from '../azure/lazyCredential.js';

/**
 * Where the app's own storage account is: the `AzureWebJobsStorage` connection string (Azurite locally) or,
 * in Azure, the identity-based `AzureWebJobsStorage__accountName` with the app's managed identity.
 * Callers build the SDK client they need from this, so only the paths that use blobs or queues load them.
 */
export type StorageTarget = { kind: 'connectionString'; connectionString: string } | { kind: 'identity'; url: (service: 'blob' | 'queue' | 'table') => string; credential: TokenCredential };

export function storageTarget(settings: Pick<Settings, 'storage' | 'cloud' | 'managedIdentityClientId'>): StorageTarget {
  const { connectionString, accountName } = settings.storage;
  if (connectionString) return { kind: 'connectionString', connectionString };
  return {
    kind: 'identity',
    url: (service) => `https://${accountName}.${service}.${settings.cloud.storageSuffix}`,
    credential: lazyDefaultCredential({ authorityHost: settings.cloud.authorityHost, managedIdentityClientId: settings.managedIdentityClientId }),
  };
}
