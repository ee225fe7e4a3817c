import type { NormalizedRecord } from './types.js';
import { get, isObj, parseResourceId, str } from './ocsf/common.js';

/**
 * Tenant attribution. The tenant of an event is the hub binding's, never the payload's: a hub belongs to exactly
 * one customer. A record that names another tenant — or a subscription the binding's tenant does not own — is
 * refused (dead letter `tenant-mismatch`), because either the routing is wrong or someone is injecting data.
 *
 * Checked tenant fields: `tenantId`/`TenantId`/`AADTenantId`/`tenantID` and `/tenants/<id>/` resource ids.
 * Not checked: token claims (`tid`), `homeTenantId`, storage `requester.tenantId` — they name the *caller's* tenant,
 * which legitimately differs for B2B guests and for Azure Lighthouse operators (this connector included).
 */
const TENANT_KEYS = ['tenantId', 'TenantId', 'AADTenantId', 'tenantID', 'TenantID'] as const;
const RESOURCE_KEYS = ['resourceId', 'ResourceId', '_ResourceId', 'AzureResourceId', 'id'] as const;

const TENANT_PREFIX = /^\/tenants\/([^/]+)/i;

export function recordTenantIds(r: NormalizedRecord): string[] {
  const out: string[] = [];
  for (const k of TENANT_KEYS) {
    const v = str(get(r.rec, k));
    if (v) addOnce(out, v.trim().toLowerCase());
  }
  for (const k of RESOURCE_KEYS) {
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

export function recordSubscriptionIds(r: NormalizedRecord): string[] {
  const out = new Set<string>();
  for (const k of RESOURCE_KEYS) {
    const s = parseResourceId(get(r.rec, k)).subscriptionId;
    if (s) out.add(s);
  }
  const direct = str(get(r.rec, 'SubscriptionId', 'subscriptionId'));
  if (direct) out.add(direct.toLowerCase());
  const p = isObj(r.rec.properties) ? r.rec.properties : undefined;
  if (p) {
    const s = parseResourceId(get(p, 'azureResourceId')).subscriptionId;
    if (s) out.add(s);
  }
  return [...out];
}

export interface AttributionInput {
  /** The binding's tenant (lowercase GUID); undefined = offline mode. */
  tenantId: string | undefined;
  /** The tenant's known subscriptions (lowercase); empty = unknown, then only tenant ids are checked. */
  subscriptionIds: ReadonlySet<string>;
}

export type Attribution = { ok: true; tenantId: string | undefined; verified: boolean } | { ok: false; detail: string };

export function attribute(r: NormalizedRecord, a: AttributionInput): Attribution {
  const tenants = recordTenantIds(r);
  if (a.tenantId === undefined) return { ok: true, tenantId: tenants[0], verified: false };
  // Subscriptions are only parsed when there is a list to check them against.
  const bound = a.tenantId.toLowerCase();
  const other = tenants.find((t) => t !== bound);
  if (other !== undefined) return { ok: false, detail: `record names tenant ${JSON.stringify(other.slice(0, 80))}, hub belongs to ${bound}` };
  if (a.subscriptionIds.size > 0) {
    const foreign = recordSubscriptionIds(r).find((s) => !a.subscriptionIds.has(s));
    if (foreign !== undefined) return { ok: false, detail: `record names subscription ${JSON.stringify(foreign.slice(0, 80))}, not one of tenant ${bound}'s ${a.subscriptionIds.size} known subscriptions` };
  }
  return { ok: true, tenantId: bound, verified: true };
}
