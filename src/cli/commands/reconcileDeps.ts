import { clientFactoryOptionsFromSettings, createAzureClients } from '../../lib/azure/clientFactory.js';
import { parseSettings } from '../../lib/config/settings.js';
import { stderrLogger } from '../../lib/log.js';
import { ensureTenantHub } from '../../lib/onboarding/onboardTenant.js';
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
    // Lazy regional hub: same code path as onboarding (pool slot, hub objects, registry row).
    ensureHub: async (tenant, region) => (await ensureTenantHub({ settings, registry, clients, logger }, tenant.tenantId, region)).hub,
  };
};
