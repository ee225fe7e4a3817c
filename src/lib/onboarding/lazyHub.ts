import type { EnsureHub } from '../reconcile/reconcileTenant.js';
import { syncIngestAppSettings } from './appSettingsSync.js';
import { ensureTenantHub, type OnboardingDeps } from './onboardTenant.js';

/**
 * The reconciler's lazy regional hub: the same path as onboarding (pool slot, hub objects, registry row),
 * then the bindings of the ingest app that took the hub are re-derived so its trigger exists after that app restarts.
 */
export function lazyHubProvisioner(deps: OnboardingDeps): EnsureHub {
  return async (tenant, region) => {
    const { hub, changed, ingestApp, ingestChanged } = await ensureTenantHub(deps, tenant.tenantId, region);
    if (changed) await syncIngestAppSettings(deps, { apps: ingestChanged && ingestApp ? [ingestApp] : [] });
    return hub;
  };
}
