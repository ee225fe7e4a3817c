import type { Settings } from '../config/settings.js';
import { ConfigError } from '../errors.js';
import { lazyOnce } from '../lazy.js';
import { createsStorageResources, storageTarget, tableClientFactory } from '../storage/storageClients.js';
import type { TenantRegistry } from './tenantRegistry.js';

/**
 * The registry of this app: the AzureWebJobsStorage connection string when set (local, Azurite), otherwise the
 * account name with the app's managed identity (`AzureWebJobsStorage__accountName`, needs Storage Table Data
 * Contributor).
 */
export function createRegistry(settings: Pick<Settings, 'storage' | 'cloud' | 'managedIdentityClientId'> & { fleet?: Pick<Settings['fleet'], 'role'> }): TenantRegistry {
  const { connectionString, accountName, tablePrefix } = settings.storage;
  // @azure/data-tables is loaded on the first registry call, not at cold start (ingest rarely needs it).
  const load = async (): Promise<TenantRegistry> => {
    const [clientFor, { createTableRegistry }] = await Promise.all([tableClientFactory(storageTarget(settings)), import('./tableRegistry.js')]);
    // An ingest app holds data roles on the tables it uses only, which the template creates (storageClients.ts).
    const createTables = createsStorageResources(settings.fleet?.role);
    return createTableRegistry({ tablePrefix, createTables, clientFor });
  };
  if (connectionString || accountName) return lazyRegistry(load);
  throw new ConfigError('Invalid app settings: AzureWebJobsStorage is missing: set a storage connection string, or AzureWebJobsStorage__accountName for a managed-identity connection');
}

/** A registry whose implementation is built on first use; every method waits for it, then delegates. */
export function lazyRegistry(load: () => Promise<TenantRegistry>): TenantRegistry {
  const get = lazyOnce(load);
  const forward =
    <K extends keyof TenantRegistry>(key: K) =>
    async (...args: Parameters<TenantRegistry[K]>): Promise<Awaited<ReturnType<TenantRegistry[K]>>> => {
      const registry = await get();
      return Reflect.apply(registry[key], registry, args) as Awaited<ReturnType<TenantRegistry[K]>>;
    };
  return {
    getTenant: forward('getTenant'),
    listTenants: forward('listTenants'),
    putTenant: forward('putTenant'),
    listHubs: forward('listHubs'),
    putHub: forward('putHub'),
    deleteHub: forward('deleteHub'),
    listNamespaces: forward('listNamespaces'),
    putNamespace: forward('putNamespace'),
    listIngestApps: forward('listIngestApps'),
    putIngestApp: forward('putIngestApp'),
    listCoverage: forward('listCoverage'),
    putCoverage: forward('putCoverage'),
    listChangeMarks: forward('listChangeMarks'),
    putChangeMarks: forward('putChangeMarks'),
    listOperations: forward('listOperations'),
    putOperation: forward('putOperation'),
    listKnownSubscriptions: forward('listKnownSubscriptions'),
    putKnownSubscriptions: forward('putKnownSubscriptions'),
    listLastSeen: forward('listLastSeen'),
    recordLastSeen: forward('recordLastSeen'),
    listPartitionProgress: forward('listPartitionProgress'),
    recordPartitionProgress: forward('recordPartitionProgress'),
  };
}
