import { clientFactoryOptionsFromSettings, createAzureClients, type AzureClients } from '../azure/clientFactory.js';
import { loadSettings, type Settings } from '../config/settings.js';
import { createRegistry } from '../registry/createRegistry.js';
import type { TenantRegistry } from '../registry/tenantRegistry.js';
import { storageTarget, type StorageTarget } from '../storage/storageClients.js';

/**
 * The composition root of the Function App: settings (validated once, at load), the registry, ARM clients
 * and storage clients. Registration files take what they need from here; lib code takes them as deps.
 */
export interface AppServices {
  settings: Settings;
  registry: TenantRegistry;
  clients: AzureClients;
  storage: StorageTarget;
}

let services: AppServices | undefined;

export function appServices(env: Record<string, string | undefined> = process.env): AppServices {
  if (!services) {
    const settings = loadSettings(env);
    services = {
      settings,
      registry: createRegistry(settings),
      clients: createAzureClients(clientFactoryOptionsFromSettings(settings)),
      storage: storageTarget(settings),
    };
  }
  return services;
}
