import type { AzureClients } from '../azure/clientFactory.js';
import type { Settings } from '../config/settings.js';
import { ConnectorError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { TenantRegistry } from '../registry/tenantRegistry.js';
import { offboardingBegan, type CoverageEntry, type TenantRecord } from '../registry/types.js';
import type { TeardownResult } from '../reconcile/teardown.js';
import { syncIngestAppSettings, type AppSettingsSyncResult } from './appSettingsSync.js';
import { hubKey, releaseIngestSlot } from '../fleet/ingestPool.js';
import { releaseNamespaceSlot } from './namespacePool.js';
import { onboardingTemplate } from './onboardingTemplate.js';
import { deleteTenantHub } from './provisionTenantHub.js';
import { discoverSubscriptions } from '../reconcile/discovery.js';
import { removeProviderDelegation, type DelegationRemoval } from './delegationRemoval.js';
import { cancelOnboardingOperations } from './longOnboarding.js';
import { ensureTenantHub } from './onboardTenant.js';

/** Removes our exports in every subscription of the tenant (reconcile/teardown.ts provides the real one). */
export type TeardownFn = (args: { tenant: TenantRecord; clients: AzureClients; settings: Settings; ledger: readonly CoverageEntry[]; dryRun: boolean; logger?: Logger }) => Promise<TeardownResult>;

export interface OffboardDeps {
  settings: Settings;
  registry: TenantRegistry;
  clients: AzureClients;
  logger?: Logger;
  teardown?: TeardownFn;
  now?: () => Date;
  /** Verification reads after removing the delegation (delegationRemoval.ts); tests shorten the wait between them. */
  delegationPollMs?: number;
}

export interface OffboardResult {
  tenantId: string;
  dryRun: boolean;
  status: TenantRecord['status'];
  /** What was (dry run: would be) removed: customer-side exports, then our hubs in the provider subscription. */
  removed: { kind: string; resourceId: string; name: string }[];
  failed: { resourceId: string; reason: string }[];
  /**
   * A read after removal found nothing of ours left in the customer's subscriptions and no hub of the tenant in the
   * registry (false for a dry run). Only then does the tenant become 'offboarded'; otherwise `remaining` says what
   * is left and a repeated DELETE tries again.
   */
  verified: boolean;
  remaining: { kind: string; resourceId: string; name: string }[];
  /**
   * The Lighthouse delegation: what the provider removed itself (its registration assignments, last, after everything
   * else was verified), and the customer's commands — the policy assignments and registration definitions, which the
   * provider cannot remove, and the assignments wherever the provider could not (with the reason in `byProvider`).
   */
  delegationRemoval: { byProvider: DelegationRemoval; note: string; commands: string[] };
  appSettings: AppSettingsSyncResult | undefined;
}

async function defaultTeardown(args: Parameters<TeardownFn>[0]): Promise<TeardownResult> {
  const { teardownTenantExports } = await import('../reconcile/teardown.js');
  return teardownTenantExports(args);
}

/**
 * `DELETE /api/tenants/{id}`: status 'offboarding' first (the fence that stops every reconcile write), then our
 * diagnostic settings, data-export rules and security automations in every subscription of the tenant (only what is
 * provably ours), verified by a second read and removed again while anything reappears, then the tenant's hubs and
 * slots, then status offboarded. Failures are reported, not hidden; the tenant stays 'offboarding' until a retry
 * removes everything.
 */
export async function offboardTenant(deps: OffboardDeps, tenantId: string, opts: { dryRun?: boolean } = {}): Promise<OffboardResult> {
  const dryRun = opts.dryRun ?? false;
  const log = (deps.logger ?? silentLogger).child({ tenantId, offboard: true, dryRun });
  const now = deps.now ?? (() => new Date());
  let tenant = await deps.registry.getTenant(tenantId);
  if (!tenant) throw new ConnectorError('not-found', `Tenant ${tenantId} is not registered`);

  if (!dryRun && !offboardingBegan(tenant.status)) {
    const at = now().toISOString();
    tenant = await deps.registry.putTenant({ ...tenant, status: 'offboarding', offboardingStartedAt: at, updatedAt: at });
  }
  // A queued onboarding accepted before this DELETE must not bring the tenant back afterwards.
  if (!dryRun) {
    const canceled = await cancelOnboardingOperations(deps.registry, tenantId);
    if (canceled.length > 0) log.info('offboard.operations_canceled', { operations: canceled });
  }
  /** The fence, read again before each step that removes a hub: false once a PUT onboarded the tenant again. */
  const stillOffboarding = async () => offboardingBegan((await deps.registry.getTenant(tenantId))?.status);

  // From here on no reconcile run writes for the tenant (reconcileTenant's fence): what teardown removes stays removed.
  const teardown = deps.teardown ?? defaultTeardown;
  const ledger = await deps.registry.listCoverage(tenantId);
  const t = await teardown({ tenant, clients: deps.clients, settings: deps.settings, ledger, dryRun, logger: log });
  const removed: OffboardResult['removed'] = t.removed.map((r) => ({ kind: r.target, resourceId: r.resourceId, name: r.name }));
  const remaining: OffboardResult['remaining'] = t.remaining.map((r) => ({ kind: r.target, resourceId: r.resourceId, name: r.name }));
  const failed = [...t.failed];

  let reonboarded = false;
  for (const hub of await deps.registry.listHubs(tenantId)) {
    const hubId = `${hub.namespaceId}/eventhubs/${hub.hub}`;
    if (!dryRun) {
      if (!(await stillOffboarding())) {
        reonboarded = true;
        break;
      }
      try {
        await deleteTenantHub(deps, hub);
        await deps.registry.deleteHub(tenantId, hub.region);
        await releaseNamespaceSlot(deps, tenantId, hub.region, hub.namespace);
        // After the row is gone, so no settings sync can hand the hub to an app again.
        await releaseIngestSlot(deps, tenantId, hub.region);
      } catch (e) {
        failed.push({ resourceId: hubId, reason: e instanceof Error ? e.message : String(e) });
        continue;
      }
    }
    removed.push({ kind: 'event-hub', resourceId: hubId, name: hub.hub });
  }

  let appSettings: AppSettingsSyncResult | undefined;
  let verified = false;
  let delegation: DelegationRemoval;
  if (!dryRun && (reonboarded || !(await stillOffboarding()))) {
    // A PUT onboarded the tenant again while this DELETE ran: the newer intent wins. Hubs this DELETE removed after
    // the PUT had found them are put back, and nothing else is removed (the delegation stays).
    const current = (await deps.registry.getTenant(tenantId)) ?? tenant;
    for (const region of current.regions) {
      try {
        await ensureTenantHub({ ...deps, logger: log }, tenantId, region, current.regions.length);
      } catch (e) {
        // Reported, not thrown: the PUT that won (or its repeat) provisions it too.
        failed.push({ resourceId: `event hub of region ${region}`, reason: `could not put the hub back: ${e instanceof Error ? e.message : String(e)}` });
      }
    }
    appSettings = await syncIngestAppSettings({ ...deps, logger: log });
    delegation = notAttempted('the tenant was onboarded again (PUT) while it was being offboarded: its hubs and its delegation stay');
    tenant = current;
    log.warn('offboard.superseded', { status: tenant.status });
  } else if (!dryRun) {
    // Slots whose hub row is gone: a failure between deleting the row and releasing them must not leak them for good.
    for (const f of await releaseOrphanSlots(deps, tenantId)) failed.push(f);
    // A hub provisioned lazily by a run that passed the fence just before the status changed shows up here.
    for (const hub of await deps.registry.listHubs(tenantId)) remaining.push({ kind: 'event-hub', resourceId: `${hub.namespaceId}/eventhubs/${hub.hub}`, name: hub.hub });
    verified = t.verified && remaining.length === 0;
    // Every app of the fleet, not only those that just gave up a slot: one whose slot an earlier, failed attempt
    // released may still carry the binding. Apps already in line with the registry are read, not written.
    appSettings = await syncIngestAppSettings({ ...deps, logger: log });
    // The delegation goes last: without it nothing of ours in the customer's subscriptions could be read or removed.
    delegation =
      failed.length === 0 && verified
        ? await removeDelegation(tenant, false)
        : notAttempted(`our objects are not all removed (${failed.length} failed, ${remaining.length} remaining): the delegation stays so that a repeated DELETE can finish`);
    if (failed.length === 0 && verified) {
      const current = (await deps.registry.getTenant(tenantId)) ?? tenant;
      // A tenant onboarded again meanwhile (PUT) stays as that left it.
      if (offboardingBegan(current.status)) {
        // Nothing streams any more: the coverage ledger and the subscriptions ingest trusted say so.
        await deps.registry.putCoverage(tenantId, [], { replaceAll: true });
        await deps.registry.putKnownSubscriptions(tenantId, [], { replaceAll: true });
        tenant = await deps.registry.putTenant({ ...current, status: 'offboarded', updatedAt: now().toISOString() });
      } else tenant = current;
    }
  } else delegation = await removeDelegation(tenant, true);
  log.info('offboard.outcome', { removed: removed.length, failed: failed.length, verified, remaining: remaining.length, status: tenant.status, delegationRemoved: delegation.removed.length, delegationVerified: delegation.verified });

  const material = onboardingTemplate(deps.settings, tenant.managementGroupId ?? tenantId);
  return {
    tenantId,
    dryRun,
    status: tenant.status,
    removed,
    failed,
    verified,
    remaining,
    delegationRemoval: { byProvider: delegation, note: delegationNote(delegation), commands: material.removal },
    appSettings,
  };

  /** The provider's delegation in every home subscription of the tenant, while the tenant is still being offboarded. */
  async function removeDelegation(current: TenantRecord, dry: boolean): Promise<DelegationRemoval> {
    let subscriptionIds: string[];
    try {
      subscriptionIds = (await discoverSubscriptions(deps.clients, current)).subscriptions.map((s) => s.subscriptionId);
    } catch (e) {
      return notAttempted(e instanceof Error ? `could not list the tenant's subscriptions: ${e.message}` : String(e), [{ subscriptionId: '*', reason: String(e) }]);
    }
    return removeProviderDelegation({
      clients: deps.clients,
      providerTenantId: deps.settings.provider.tenantId,
      subscriptionIds,
      dryRun: dry,
      // The offboarding fence, read again before each delete: a tenant onboarded again meanwhile keeps its delegation.
      stillOffboarding: async () => {
        return offboardingBegan((await deps.registry.getTenant(tenantId))?.status);
      },
      pollMs: deps.delegationPollMs,
      logger: log,
    });
  }

  function notAttempted(skipped: string, failures: DelegationRemoval['failed'] = []): DelegationRemoval {
    return { dryRun, removed: [], kept: [], failed: failures, verified: false, skipped };
  }
}

/**
 * Namespace-pool and ingest-app slots the tenant holds in a region where it has no hub row any more, released. Rows
 * are deleted before slots are released (so no settings sync hands a hub being deleted to an app again); a failure
 * in between would otherwise leave the slot taken for good, since a repeated DELETE walks the hub rows.
 */
async function releaseOrphanSlots(deps: Pick<OffboardDeps, 'registry'>, tenantId: string): Promise<OffboardResult['failed']> {
  const failed: OffboardResult['failed'] = [];
  const hubRegions = new Set((await deps.registry.listHubs(tenantId)).map((h) => h.region));
  for (const ns of await deps.registry.listNamespaces()) {
    if (!ns.tenants.includes(tenantId) || hubRegions.has(ns.region)) continue;
    await releaseNamespaceSlot(deps, tenantId, ns.region, ns.namespace).catch((e: unknown) => void failed.push({ resourceId: `namespace slot ${ns.namespace}`, reason: e instanceof Error ? e.message : String(e) }));
  }
  const prefix = hubKey(tenantId, '');
  for (const app of await deps.registry.listIngestApps()) {
    for (const key of app.hubs) {
      const region = key.startsWith(prefix) ? key.slice(prefix.length) : undefined;
      if (region === undefined || hubRegions.has(region)) continue;
      await releaseIngestSlot(deps, tenantId, region, app.name).catch((e: unknown) => void failed.push({ resourceId: `ingest slot ${key} in ${app.name}`, reason: e instanceof Error ? e.message : String(e) }));
    }
  }
  return failed;
}

/** What the customer still does, given what the provider removed (the commands are the same; the note says which apply). */
function delegationNote(d: DelegationRemoval): string {
  const customerPart =
    'The customer removes the two policy assignments (otherwise DeployIfNotExists delegates every new subscription beneath the management group again) and the Lighthouse registration definitions, which the provider cannot delete: the commands below.';
  if (d.dryRun) return `Would remove the provider's registration assignment in ${new Set(d.removed.map((r) => r.subscriptionId)).size} subscription(s) after everything else is removed and verified. ${customerPart}`;
  const subs = new Set(d.removed.map((r) => r.subscriptionId)).size;
  if (d.verified) return `The provider removed its registration assignments in ${subs} subscription(s) (Managed Services Registration assignment Delete Role) and verified it no longer has access. ${customerPart}`;
  const why = d.skipped ?? d.failed.map((f) => `${f.subscriptionId}: ${f.reason}`).join('; ');
  return `The provider could not remove its delegation everywhere (${why}). The customer removes it with the commands below, which also delete the registration assignments; a repeated DELETE tries again. ${customerPart}`;
}
