import type { NormalizedRecord } from './types.js';
import { arr, get, isObj, parseResourceId, str } from './ocsf/common.js';

/**
 * Tenant attribution: the one place that decides a record's tenant and subscription. The tenant of an event is the
 * hub binding's, never the payload's: a hub belongs to exactly one customer. A record that names another tenant —
 * or a subscription the binding's tenant does not own — is refused (dead letter `tenant-mismatch`), because either
 * the routing is wrong or someone is injecting data. Mappers take `cloud.account.uid` from the result
 * (`MapMeta.subscriptionId`), so no mapper can emit a subscription this function did not check.
 *
 * Checked tenant fields: `tenantId`/`TenantId`/`AADTenantId`/`tenantID` (Log Analytics rows: `AADTenantId` only) and
 * `/tenants/<id>/` resource ids.
 * Not checked: token claims (`tid`), `homeTenantId`, storage `requester.tenantId` — they name the *caller's* tenant,
 * which legitimately differs for B2B guests and for Azure Lighthouse operators (this connector included).
 *
 * Checked subscription fields: every field any mapper reads a resource or subscription from (SUBSCRIPTION_SOURCES).
 */
const TENANT_KEYS = ['tenantId', 'TenantId', 'AADTenantId', 'tenantID', 'TenantID'] as const;
/**
 * Log Analytics rows (data export): their `TenantId` column is the workspace's id, not the Entra tenant — "TenantId:
 * The Log Analytics workspace ID" in the Azure Monitor table reference (AADUserRiskEvents, AADServicePrincipalRiskEvents,
 * ADFSSignInLogs; MicrosoftDocs/azure-reference-other azure-monitor-ref/tables). The Entra tenant there is AADTenantId.
 */
const LA_TENANT_KEYS = ['AADTenantId'] as const;
const TOP_RESOURCE_KEYS = ['resourceId', 'ResourceId', '_ResourceId', 'AzureResourceId'] as const;
/** Defender alerts: the REST form nests these under `properties` (camelCase, or PascalCase in some exports). */
const PROPERTY_RESOURCE_KEYS = ['AzureResourceId', 'azureResourceId', 'ResourceId', 'resourceId'] as const;

/** Where a `/tenants/<id>/` resource id may name a tenant: the resource id columns and a record's own `id`. */
const TENANT_RESOURCE_KEYS = [...TOP_RESOURCE_KEYS, 'id'] as const;
const TENANT_PREFIX = /^\/tenants\/([^/]+)/i;

export function recordTenantIds(r: NormalizedRecord): string[] {
  const out: string[] = [];
  for (const k of r.laForm ? LA_TENANT_KEYS : TENANT_KEYS) {
    const v = str(get(r.rec, k));
    if (v) addOnce(out, v.trim().toLowerCase());
  }
  for (const k of TENANT_RESOURCE_KEYS) {
    const v = r.rec[k];
    if (typeof v !== 'string' || v[0] !== '/' || (v[1] !== 't' && v[1] !== 'T')) continue;
    const m = TENANT_PREFIX.exec(v);
    if (m) addOnce(out, m[1]!.toLowerCase());
  }
  return out;
}

function addOnce(list: string[], t: string): void {
  if (!list.includes(t)) list.push(t);
}

/**
 * Every subscription the record names, the record's own subscription first. The order is the mappers' order of
 * preference for the resource an event is about: the resource id columns of resource logs and Log Analytics rows,
 * then a Defender alert's `properties.{AzureResourceId,ResourceId}` and every `properties.resourceIdentifiers[]
 * .azureResourceId`, then the record's own `id` (a Defender alert's ARM id), then a bare `SubscriptionId` column.
 */
export function recordSubscriptionIds(r: NormalizedRecord): string[] {
  const out: string[] = [];
  for (const k of TOP_RESOURCE_KEYS) addSubscription(out, r.rec[k]);
  // `properties` as parsed for the mappers, then the record's own `properties` object when that is another one.
  addPropertySubscriptions(out, r.props);
  const own = r.rec.properties;
  if (isObj(own) && own !== r.props) addPropertySubscriptions(out, own);
  addSubscription(out, r.rec.id);
  const direct = str(get(r.rec, 'SubscriptionId', 'subscriptionId'));
  if (direct && direct.trim() !== '') addOnce(out, direct.trim().toLowerCase());
  return out;
}

function addSubscription(out: string[], v: unknown): void {
  const s = parseResourceId(v).subscriptionId;
  if (s) addOnce(out, s);
}

function addPropertySubscriptions(out: string[], p: Record<string, unknown>): void {
  for (const k of PROPERTY_RESOURCE_KEYS) addSubscription(out, p[k]);
  const idents = arr(get(p, 'resourceIdentifiers'));
  if (idents !== undefined) for (const ident of idents) addSubscription(out, get(ident, 'azureResourceId', 'AzureResourceId'));
}

export interface AttributionInput {
  /** The binding's tenant (lowercase GUID); undefined = offline mode. */
  tenantId: string | undefined;
  /**
   * The tenant's own subscriptions (lowercase), as discovery recorded them. Undefined = not known (offline tools
   * only): then only tenant ids are checked. An empty set is strict: no subscription is the tenant's yet.
   */
  subscriptionIds: ReadonlySet<string> | undefined;
}

export type Attribution =
  | { ok: true; tenantId: string | undefined; subscriptionId: string | undefined; verified: boolean }
  | { ok: false; detail: string };

export function attribute(r: NormalizedRecord, a: AttributionInput): Attribution {
  const tenants = recordTenantIds(r);
  const subs = recordSubscriptionIds(r);
  if (a.tenantId === undefined) return { ok: true, tenantId: tenants[0], subscriptionId: subs[0], verified: false };
  const bound = a.tenantId.toLowerCase();
  const other = tenants.find((t) => t !== bound);
  if (other !== undefined) return { ok: false, detail: `record names tenant ${JSON.stringify(other.slice(0, 80))}, hub belongs to ${bound}` };
  if (a.subscriptionIds !== undefined) {
    const known = a.subscriptionIds;
    const foreign = subs.find((s) => !known.has(s));
    if (foreign !== undefined)
      return {
        ok: false,
        detail:
          known.size === 0
            ? `record names subscription ${JSON.stringify(foreign.slice(0, 80))}, and no subscription of tenant ${bound} is known yet (discovery records them)`
            : `record names subscription ${JSON.stringify(foreign.slice(0, 80))}, not one of tenant ${bound}'s ${known.size} known subscriptions`,
      };
  }
  return { ok: true, tenantId: bound, subscriptionId: subs[0], verified: true };
}
