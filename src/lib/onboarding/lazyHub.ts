import type { EnsureHub } from '../reconcile/reconcileTenant.js';
import { syncIngestAppSettings } from './appSettingsSync.js';
import { ensureTenantHub, type OnboardingDeps } from './onboardTenant.js';

/**
 * The reconciler's lazy regional hub: the same path as onboarding (pool slot, hub objects, registry row),
 * then the app's ingest bindings are re-derived so a trigger for the new hub exists after the restart.
 */
export function lazyHubProvisioner(deps: OnboardingDeps): EnsureHub {
  return async (tenant, region) => {
    const { hub, changed } = await ensureTenantHub(deps, tenant.tenantId, region);
    if (changed) await syncIngestAppSettings(deps);
    return hub;
  };
}
