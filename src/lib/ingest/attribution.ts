import type { NormalizedRecord } from './types.js';
import { arr, get, isObj, parseResourceId, str } from './ocsf/common.js';

/**
 * Tenant attribution: the one place that decides a record's tenant and subscription. The tenant of an event is the
 * hub binding's, never the payload's: a hub belongs to exactly one customer. A record that names another tenant —
 * or a subscription the binding's tenant does not own — is refused (dead letter `tenant-mismatch`), because either
 * the routing is wrong or someone is injecting data. Mappers take `cloud.account.uid` from the result
 * (`MapMeta.subscriptionId`), so no mapper can emit a subscription this function did not check.
 *
 * Checked tenant fields: `tenantId`/`TenantId`/`AADTenantId`/`tenantID` (Log Analytics rows: all but `TenantId`, the
 * workspace's id) and every resource id below that starts `/tenants/<id>/`. A tenant or subscription field holding an
 * object or array is refused, not skipped.
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
 * The lower-camel spellings are no Log Analytics column: a row that carries one names a tenant, and it is checked.
 */
const LA_TENANT_KEYS = ['AADTenantId', 'tenantId', 'tenantID'] as const;
const TOP_RESOURCE_KEYS = ['resourceId', 'ResourceId', '_ResourceId', 'AzureResourceId'] as const;
/** Defender alerts: the REST form nests these under `properties` (camelCase, or PascalCase in some exports). */
const PROPERTY_RESOURCE_KEYS = ['AzureResourceId', 'azureResourceId', 'ResourceId', 'resourceId'] as const;
const TENANT_PREFIX = /^\/tenants\/([^/]+)/i;

/** The tenants and subscriptions a record names, or why its naming fields cannot be checked. */
interface Named {
  tenants: string[];
  subscriptions: string[];
  problem?: string;
}

/**
 * Every tenant the record names: its tenant fields, and every resource id it holds (below) that starts `/tenants/<id>/`.
 * A tenant field holding an object or an array is a problem, not something to skip: a mapper may still carry it.
 */
export function recordTenantIds(r: NormalizedRecord): string[] {
  return named(r).tenants;
}

/**
 * Every subscription the record names, the record's own subscription first. The order is the mappers' order of
 * preference for the resource an event is about: the resource id columns of resource logs and Log Analytics rows,
 * then a Defender alert's `properties.{AzureResourceId,ResourceId}` and every `properties.resourceIdentifiers[]
 * .azureResourceId`, then the record's own `id` (a Defender alert's ARM id), then a bare `SubscriptionId` column; then
 * whatever else a mapper reads a resource from: the same keys at the top level of an alert that is its own properties
 * object (continuous export), both spellings of the subscription column, and the `azure-resource` entities of an alert.
 */
export function recordSubscriptionIds(r: NormalizedRecord): string[] {
  return named(r).subscriptions;
}

function named(r: NormalizedRecord): Named {
  const out: Named = { tenants: [], subscriptions: [] };
  for (const k of r.laForm ? LA_TENANT_KEYS : TENANT_KEYS) {
    const v = r.rec[k];
    if (v === undefined || v === null || v === '') continue;
    const t = str(v);
    if (t === undefined) out.problem ??= `field ${k} holds ${Array.isArray(v) ? 'an array' : 'an object'}, not a tenant id`;
    else addOnce(out.tenants, t.trim().toLowerCase());
  }
  for (const k of TOP_RESOURCE_KEYS) resource(out, r.rec[k]);
  // `properties` as parsed for the mappers, then the record's own `properties` object when that is another one.
  properties(out, r.props);
  const own = r.rec.properties;
  if (isObj(own) && own !== r.props) properties(out, own);
  resource(out, r.rec.id);
  for (const k of ['SubscriptionId', 'subscriptionId'] as const) {
    const v = r.rec[k];
    if (v === undefined || v === null || v === '') continue;
    const s = str(v);
    if (s === undefined) out.problem ??= `field ${k} holds ${Array.isArray(v) ? 'an array' : 'an object'}, not a subscription id`;
    else if (s.trim() !== '') addOnce(out.subscriptions, s.trim().toLowerCase());
  }
  entities(out, r.props);
  if (r.props !== r.rec) {
    properties(out, r.rec);
    entities(out, r.rec);
  }
  return out;
}

/** The resources a Defender alert's `azure-resource` entities name (they become observables). */
function entities(out: Named, p: Record<string, unknown>): void {
  const list = arr(get(p, 'Entities', 'entities'));
  if (list === undefined) return;
  for (const e of list) if (str(get(e, 'Type', 'type'))?.toLowerCase() === 'azure-resource') resource(out, get(e, 'ResourceId', 'resourceId'));
}

/** A resource id's subscription, and its tenant when it is a `/tenants/<id>/…` id. */
function resource(out: Named, v: unknown): void {
  if (typeof v !== 'string' || v[0] !== '/') return;
  const s = parseResourceId(v).subscriptionId;
  if (s) addOnce(out.subscriptions, s);
  if (v[1] === 't' || v[1] === 'T') {
    const m = TENANT_PREFIX.exec(v);
    if (m) addOnce(out.tenants, m[1]!.toLowerCase());
  }
}

function properties(out: Named, p: Record<string, unknown>): void {
  for (const k of PROPERTY_RESOURCE_KEYS) resource(out, p[k]);
  const idents = arr(get(p, 'resourceIdentifiers'));
  if (idents !== undefined) for (const ident of idents) resource(out, get(ident, 'azureResourceId', 'AzureResourceId'));
}

function addOnce(list: string[], t: string): void {
  if (!list.includes(t)) list.push(t);
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
  const { tenants, subscriptions: subs, problem } = named(r);
  if (a.tenantId === undefined) return { ok: true, tenantId: tenants[0], subscriptionId: subs[0], verified: false };
  const bound = a.tenantId.toLowerCase();
  if (problem !== undefined) return { ok: false, detail: `record's ${problem}; hub belongs to ${bound}` };
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
