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

/**
 * Whether an app creates the tables, queues and containers it uses on first use (keeps a fresh Azurite or sandbox
 * working). An ingest app (MDR_APP_ROLE=ingest) never does: its roles are data roles scoped to the very resources the
 * template creates (infra/modules/ingestApp.bicep), and Create Table / Create Queue need `tables/write` /
 * `queues/write`, which Storage Table Data Reader and Storage Queue Data Message Sender do not hold ("Permissions for
 * calling data operations", learn.microsoft.com/rest/api/storageservices/authorize-with-azure-active-directory).
 * The control app holds account-wide table and queue roles, which include both.
 */
export function createsStorageResources(role: Settings['fleet']['role'] | undefined): boolean {
  return role !== 'ingest';
}
