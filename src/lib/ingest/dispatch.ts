import type { JsonObject, MapResult, Mapper, NormalizedRecord, OcsfEvent, SourceId } from './types.js';
import { get, isObj, parsedJson, str } from './ocsf/common.js';
import { attribute, type AttributionInput } from './attribution.js';
import { activityLogMapper } from './mappers/activityLog.js';
import { storageMapper } from './mappers/storage.js';
import { keyVaultMapper } from './mappers/keyVault.js';
import { signInMapper } from './mappers/signIn.js';
import { entraAuditMapper } from './mappers/entraAudit.js';
import { entraRiskMapper } from './mappers/entraRisk.js';
import { defenderAlertMapper } from './mappers/defenderAlert.js';
import { azureOtherMapper } from './mappers/azureOther.js';

/** Specific mappers first; the Base Event catch-all last. */
export const mappers: readonly Mapper[] = [signInMapper, entraAuditMapper, entraRiskMapper, activityLogMapper, storageMapper, keyVaultMapper, defenderAlertMapper, azureOtherMapper];

const LA_MARKERS = ['TimeGenerated', 'TenantId', '_ResourceId', 'SourceSystem', '_ItemId'] as const;

/** Resolves the envelope fields every mapper needs (category, LA form, parsed `properties`) once per record. */
export function normalizeRecord(value: unknown, raw: string): NormalizedRecord | undefined {
  if (!isObj(value)) return undefined;
  const rec = value;
  const type = str(rec.Type);
  const laForm = type !== undefined && LA_MARKERS.some((k) => Object.hasOwn(rec, k));
  let category: string;
  let props: JsonObject = {};
  // LA AuditLogs rows keep their table even when a query projected another `Type` column over it (OTRF export).
  if (laForm) category = rec.ActivityDisplayName !== undefined && rec.LoggedByService !== undefined ? 'AuditLogs' : type!;
  else {
    category = str(get(rec, 'category', 'Category', 'CategoryValue')) ?? '';
    // Microsoft Graph directoryAudit objects: the audit record itself, no envelope.
    if (!Object.hasOwn(rec, 'operationName') && rec.activityDisplayName !== undefined && rec.loggedByService !== undefined) {
      category = 'AuditLogs';
      props = rec;
    } else if (category === '' && typeof rec.type === 'string' && rec.type.startsWith('Microsoft.Security/')) category = rec.type;
  }
  if (props !== rec) {
    const p = rec.properties ?? rec.Properties;
    if (isObj(p)) props = p;
    else if (typeof p === 'string' && p.length > 1) {
      const parsed = parsedJson(p);
      if (isObj(parsed)) props = parsed;
    }
  }
  return { rec, raw, category, categoryLower: category.toLowerCase(), laForm, props };
}

export type RecordOutcome =
  | { ok: true; source: SourceId; category: string; events: OcsfEvent[] }
  | { ok: false; reason: 'unknown-shape' | 'tenant-mismatch' | 'mapping-error'; detail: string; source?: SourceId | undefined };

export interface MapContext extends AttributionInput {
  ingestTime: number;
  timeFallback?: number | undefined;
  region?: string | undefined;
  omitUnmapped?: boolean | undefined;
}

/**
 * Attributes and maps one decoded record. Never throws: an exception anywhere (a mapper's, or a matcher's or
 * attribution's on a hostile value such as `{"toString":1}`) becomes `mapping-error` for this record alone, so one
 * record can never fail its batch and stall the partition.
 */
export function mapRecord(value: unknown, raw: string, ctx: MapContext, repaired?: string, list: readonly Mapper[] = mappers): RecordOutcome {
  try {
    return mapRecordOnce(value, raw, ctx, repaired, list);
  } catch (e) {
    return { ok: false, reason: 'mapping-error', detail: `record could not be mapped: ${String((e as Error)?.message ?? 'unknown error').slice(0, 300)}` };
  }
}

function mapRecordOnce(value: unknown, raw: string, ctx: MapContext, repaired: string | undefined, list: readonly Mapper[]): RecordOutcome {
  const r = normalizeRecord(value, raw);
  if (!r) return { ok: false, reason: 'unknown-shape', detail: `record is ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}, not an object` };
  let mapper: Mapper | undefined;
  for (const m of list)
    if (m.matches(r)) {
      mapper = m;
      break;
    }
  if (!mapper) return { ok: false, reason: 'unknown-shape', detail: `no Azure category/type/time fields (keys: ${Object.keys(r.rec).slice(0, 8).join(',')})` };
  const a = attribute(r, ctx);
  if (!a.ok) return { ok: false, reason: 'tenant-mismatch', detail: a.detail, source: mapper.source };
  let res: MapResult;
  try {
    res = mapper.map(r, { tenantId: a.tenantId, verified: a.verified, subscriptionId: a.subscriptionId, ingestTime: ctx.ingestTime, timeFallback: ctx.timeFallback, region: ctx.region, omitUnmapped: ctx.omitUnmapped });
  } catch (e) {
    return { ok: false, reason: 'mapping-error', detail: `${mapper.source} mapper failed: ${(e as Error).message?.slice(0, 300) ?? String(e)}`, source: mapper.source };
  }
  if (!res.ok) return { ok: false, reason: res.reason === 'tenant-mismatch' ? 'tenant-mismatch' : res.reason === 'unknown-shape' ? 'unknown-shape' : 'mapping-error', detail: res.detail, source: mapper.source };
  if (repaired) for (const ev of res.events) ((ev.metadata.labels as string[] | undefined) ?? (ev.metadata.labels = [])).push(`repaired:${repaired}`);
  return { ok: true, source: mapper.source, category: r.category, events: res.events };
}
