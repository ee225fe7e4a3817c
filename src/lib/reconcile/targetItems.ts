import type { TenantRecord } from '../registry/types.js';
import type { Discovery } from './discovery.js';
import { normalizeRegion, sameId, type PlannedAction } from './plan.js';
import { storageServiceResourceId, storageServicesFor } from './storageServices.js';
import type { TargetItem } from './target.js';

/**
 * Discovery → the export targets of a tenant (pure). Things we cannot cover whatever we do (an unknown
 * storage kind, a subscription without the automation RG, a configured workspace that is not delegated)
 * come back as `unsupported`/`failed` actions so the ledger says why.
 */
export function targetItemsFor(tenant: TenantRecord, d: Discovery, automationResourceGroup: string): { items: TargetItem[]; blocked: PlannedAction[] } {
  const o = tenant.options;
  const items: TargetItem[] = [];
  const blocked: PlannedAction[] = [];
  for (const s of d.subscriptions) {
    if (o.activityLog) items.push({ target: 'activity-log', resourceId: `/subscriptions/${s.subscriptionId}`, subscriptionId: s.subscriptionId, region: 'global', hubRegion: undefined });
    if (o.defenderAlerts) {
      const g = d.automationGroups.find((x) => x.subscriptionId === s.subscriptionId);
      if (g) items.push({ target: 'defender-export', resourceId: g.id, subscriptionId: s.subscriptionId, region: normalizeRegion(g.location), hubRegion: undefined });
      else
        blocked.push({
          kind: 'blocked',
          target: 'defender-export',
          resourceId: `/subscriptions/${s.subscriptionId}/resourceGroups/${automationResourceGroup}`,
          subscriptionId: s.subscriptionId,
          region: 'global',
          name: '',
          reason: `resource group '${automationResourceGroup}' does not exist in the subscription`,
          coverage: 'unsupported',
          detail: 'create the automation resource group (the delegation template does) to enable Defender continuous export',
        });
    }
  }
  for (const r of d.resources) {
    const region = normalizeRegion(r.location);
    if (r.type === 'microsoft.storage/storageaccounts' && o.storage) {
      const services = storageServicesFor(r.kind, r.skuName).filter((svc) => o.storageServices.includes(svc));
      if (services.length === 0 && storageServicesFor(r.kind, r.skuName).length === 0)
        blocked.push({ kind: 'blocked', target: 'storage-diagnostics', resourceId: r.id, subscriptionId: r.subscriptionId, region, name: '', reason: `storage kind '${r.kind ?? '?'}' / SKU '${r.skuName ?? '?'}' has no known services`, coverage: 'unsupported' });
      for (const svc of services) items.push({ target: 'storage-diagnostics', resourceId: storageServiceResourceId(r.id, svc), subscriptionId: r.subscriptionId, region, hubRegion: region });
    } else if (r.type === 'microsoft.keyvault/vaults' && o.keyVault) {
      items.push({ target: 'keyvault-diagnostics', resourceId: r.id, subscriptionId: r.subscriptionId, region, hubRegion: region });
    }
  }
  if (o.entraDataExport) {
    const workspaces = d.resources.filter((r) => r.type === 'microsoft.operationalinsights/workspaces');
    // The tenant record names the workspaces holding Entra logs; without it, every delegated workspace.
    const chosen = tenant.entraWorkspaceIds.length > 0 ? tenant.entraWorkspaceIds : workspaces.map((w) => w.id);
    // Once per workspace, however a stored record spells it (ids compare case-insensitively).
    const seen = new Set<string>();
    for (const id of chosen) {
      if (seen.has(id.toLowerCase())) continue;
      seen.add(id.toLowerCase());
      const w = workspaces.find((x) => sameId(x.id, id));
      if (w) {
        const region = normalizeRegion(w.location);
        items.push({ target: 'entra-data-export', resourceId: w.id, subscriptionId: w.subscriptionId, region, hubRegion: region });
      } else {
        const a = unreachableWorkspace(id, d);
        if (a) blocked.push(a);
      }
    }
  }
  return { items, blocked };
}

/**
 * Whether this run records the tenant's entries that belong to no delegated subscription of it (a configured
 * workspace outside the delegation): a whole-tenant run, or the work item holding the tenant's first subscription.
 */
export function ownsTenantLevelEntries(d: Pick<Discovery, 'subscriptions' | 'allHome'>): boolean {
  const first = d.allHome[0];
  return first !== undefined && d.subscriptions.some((s) => s.subscriptionId === first);
}

/**
 * A configured Entra workspace that discovery did not find, as the coverage entry saying why (never dropped):
 * not in its delegated subscription (`workspace-not-found`); in a subscription of the tenant outside this work item
 * (undefined: that item reports it); in a subscription visible only because the tenant manages it for another home
 * tenant (`workspace-foreign-home`: never ours to write); in a delegated subscription that is disabled
 * (`workspace-subscription-disabled`); or in a subscription not delegated to the provider at all (`workspace-not-delegated`).
 */
function unreachableWorkspace(id: string, d: Discovery): PlannedAction | undefined {
  const sub = /\/subscriptions\/([^/]+)/i.exec(id)?.[1]?.toLowerCase() ?? '';
  const base = { kind: 'blocked' as const, target: 'entra-data-export' as const, resourceId: id, subscriptionId: sub, region: '', name: '' };
  if (d.subscriptions.some((s) => s.subscriptionId === sub))
    return { ...base, reason: 'workspace not found in the delegated subscriptions', coverage: 'failed', reasonCode: 'workspace-not-found', detail: `no Log Analytics workspace with this id in subscription ${sub}` };
  if (d.allHome.includes(sub) || !ownsTenantLevelEntries(d)) return undefined;
  if (d.disabledHome?.includes(sub))
    return {
      ...base,
      reason: `the workspace's subscription ${sub} is delegated but disabled (or deleted): nothing is configured in it`,
      coverage: 'unsupported',
      reasonCode: 'workspace-subscription-disabled',
      detail: 'the subscription streams again, and is configured on the next run, once it is enabled',
    };
  const foreign = d.foreign.find((f) => f.subscriptionId === sub);
  if (foreign)
    return {
      ...base,
      reason: `the workspace's subscription is visible through the delegation, but its home tenant is ${foreign.homeTenantId}, not this tenant: never written to`,
      coverage: 'unsupported',
      reasonCode: 'workspace-foreign-home',
      detail: 'configure a workspace in a subscription of this tenant that is delegated to the provider',
    };
  return {
    ...base,
    reason: `subscription ${sub || '(none in the id)'} is not delegated to the provider by this tenant`,
    coverage: 'forbidden',
    reasonCode: 'workspace-not-delegated',
    detail: "delegate the workspace's subscription (the onboarding policy does, for subscriptions beneath the management group), or configure a workspace in a delegated subscription",
  };
}

/**
 * Whether the tenant's configuration (its options, storage services and Entra workspaces) still asks for this
 * target, whatever discovery found. A ledger entry of ours the configuration no longer asks for is retired: our
 * object on it is removed. Deliberately not "not discovered": a resource Resource Graph missed for a moment keeps ours.
 */
export function wantedByConfig(tenant: Pick<TenantRecord, 'options' | 'entraWorkspaceIds'>, e: { target: TargetItem['target']; resourceId: string }): boolean {
  const o = tenant.options;
  switch (e.target) {
    case 'activity-log':
      return o.activityLog;
    case 'defender-export':
      return o.defenderAlerts;
    case 'keyvault-diagnostics':
      return o.keyVault;
    case 'storage-diagnostics': {
      const svc = /\/(blob|queue|table|file)Services\/default$/i.exec(e.resourceId)?.[1]?.toLowerCase();
      return o.storage && (svc === undefined || o.storageServices.some((x) => x === svc));
    }
    case 'entra-data-export':
      return o.entraDataExport && (tenant.entraWorkspaceIds.length === 0 || tenant.entraWorkspaceIds.some((id) => sameId(id, e.resourceId)));
  }
}

