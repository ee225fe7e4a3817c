import type { TableClient } from '@azure/data-tables';
import type { TokenCredential } from '@azure/identity';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { QueueClient } from '@azure/storage-queue';
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

/** True when a storage connection string points at plain http (Azurite); only then is insecure transport allowed. */
export function isHttpConnectionString(cs: string): boolean {
  return /UseDevelopmentStorage=true/i.test(cs) || /DefaultEndpointsProtocol=http(;|$)/i.test(cs) || /Endpoint=http:\/\//i.test(cs);
}

// The SDK clients of a target. Each loads its SDK on first call, not at cold start.

/** The account's blob service. */
export async function blobServiceClientFor(target: StorageTarget): Promise<BlobServiceClient> {
  const { BlobServiceClient } = await import('@azure/storage-blob');
  return target.kind === 'connectionString' ? BlobServiceClient.fromConnectionString(target.connectionString) : new BlobServiceClient(target.url('blob'), target.credential);
}

/** One queue of the account. */
export async function queueClientFor(target: StorageTarget, queueName: string): Promise<QueueClient> {
  const { QueueClient } = await import('@azure/storage-queue');
  return target.kind === 'connectionString' ? new QueueClient(target.connectionString, queueName) : new QueueClient(`${target.url('queue')}/${queueName}`, target.credential);
}

/** A factory of the account's table clients (the SDK is loaded once, then clients are built synchronously). */
export async function tableClientFactory(target: StorageTarget): Promise<(tableName: string) => TableClient> {
  const { TableClient } = await import('@azure/data-tables');
  if (target.kind === 'connectionString') {
    const { connectionString } = target;
    const allowInsecureConnection = isHttpConnectionString(connectionString);
    return (t) => TableClient.fromConnectionString(connectionString, t, { allowInsecureConnection });
  }
  const url = target.url('table');
  return (t) => new TableClient(url, t, target.credential);
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
