import { TableClient } from '@azure/data-tables';
import type { Settings } from '../config/settings.js';
import { lazyDefaultCredential } from '../azure/lazyCredential.js';
import { ConfigError } from '../errors.js';
import type { TenantRegistry } from './tenantRegistry.js';
import { createTableRegistry } from './tableRegistry.js';

/** True when a storage connection string points at plain http (Azurite); only then is insecure transport allowed. */
export function isHttpConnectionString(cs: string): boolean {
  return /UseDevelopmentStorage=true/i.test(cs) || /DefaultEndpointsProtocol=http(;|$)/i.test(cs) || /Endpoint=http:\/\//i.test(cs);
}

/**
 * The registry of this app: the AzureWebJobsStorage connection string when set (local, Azurite), otherwise the
 * account name with the app's managed identity (`AzureWebJobsStorage__accountName`, needs Storage Table Data
 * Contributor).
 */
export function createRegistry(settings: Pick<Settings, 'storage' | 'cloud' | 'managedIdentityClientId'>): TenantRegistry {
  const { connectionString, accountName, tablePrefix } = settings.storage;
  if (connectionString) {
    const allowInsecureConnection = isHttpConnectionString(connectionString);
    return createTableRegistry({ tablePrefix, clientFor: (t) => TableClient.fromConnectionString(connectionString, t, { allowInsecureConnection }) });
  }
  if (accountName) {
    const url = `https://${accountName}.table.${settings.cloud.storageSuffix}`;
    const lazy = lazyDefaultCredential({ authorityHost: settings.cloud.authorityHost, managedIdentityClientId: settings.managedIdentityClientId });
    return createTableRegistry({ tablePrefix, clientFor: (t) => new TableClient(url, t, lazy) });
  }
  throw new ConfigError('Invalid app settings: AzureWebJobsStorage is missing: set a storage connection string, or AzureWebJobsStorage__accountName for a managed-identity connection');
}
