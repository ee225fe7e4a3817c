import { clientFactoryOptionsFromSettings, createAzureClients } from '../../lib/azure/clientFactory.js';
import { parseSettings } from '../../lib/config/settings.js';
import { stderrLogger } from '../../lib/log.js';
import { lazyHubProvisioner } from '../../lib/onboarding/lazyHub.js';
import type { ReconcileDeps } from '../../lib/reconcile/reconcileTenant.js';
import { createRegistry } from '../../lib/registry/createRegistry.js';

/** Builds what `reconcile`/`coverage` need from env, like the Function App does. Tests inject their own. */
export type CliDepsFactory = (env: Record<string, string | undefined>) => Promise<ReconcileDeps>;

export const defaultCliDeps: CliDepsFactory = async (env) => {
  const settings = parseSettings(env);
  const registry = createRegistry(settings);
  const clients = createAzureClients(clientFactoryOptionsFromSettings(settings));
  const logger = stderrLogger('warn');
  return {
    settings,
    registry,
    clients,
    logger,
    ensureHub: lazyHubProvisioner({ settings, registry, clients, logger }),
  };
};
