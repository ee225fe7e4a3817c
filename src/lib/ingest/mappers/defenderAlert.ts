import type { JsonObject, MapMeta, MapResult, Mapper, NormalizedRecord } from '../types.js';
import { arr, buildEvent, compact, consumed, eventUid, get, isObj, parseResourceId, parseTime, putUnmapped, severityFromAlert, str, unmappedOf, type Consumed, type ConsumedDef, type EventBody } from '../ocsf/common.js';

/**
 * Defender for Cloud security alerts → Detection Finding (2004), in the three shapes they arrive in:
 * continuous export (PascalCase: SystemAlertId, AlertType, Entities…), the Alerts REST schema
 * (`{id, type: Microsoft.Security/Locations/alerts, properties:{camelCase}}`, also what continuous export sends
 * per the docs), and the Log Analytics `SecurityAlert` row (data export; nested values as JSON strings).
 * Alert status gives the finding's state: New/Active → New, InProgress → In Progress, Dismissed → Suppressed,
 * Resolved → Resolved (activity Close).
 */
const STATUS: Record<string, [number, string, number, string]> = {
  new: [1, 'New', 1, 'Create'],
  active: [1, 'New', 1, 'Create'],
  inprogress: [2, 'In Progress', 2, 'Update'],
  dismissed: [3, 'Suppressed', 3, 'Close'],
  resolved: [4, 'Resolved', 3, 'Close'],
};

/**
 * Unmapped spec (see ConsumedDef). `Entities` is settled in map(): an entity that became an observable loses its type
 * and the member the observable holds; others stay whole. `ExtendedProperties` stays whole (parsed when the LA form
 * holds it as a JSON string). Redundant and dropped: `Type` (the LA table) and, in the REST form, the top-level
 * `id` / `name` / `type` (the alert's ARM id, its SystemAlertId, the alert resource type).
 */
const ALERT: ConsumedDef = {
  SystemAlertId: true, systemAlertId: true, AlertType: true, alertType: true, AlertDisplayName: true, alertDisplayName: true, AlertName: true,
  DisplayName: true, Description: true, description: true, Severity: true, severity: true, AlertSeverity: true, Status: true, status: true,
  Intent: true, intent: true, Tactics: true, Techniques: true, techniques: true, AzureResourceId: true, ResourceId: true, CompromisedEntity: true,
  compromisedEntity: true, RemediationSteps: true, remediationSteps: true, Entities: true, entities: true, TimeGenerated: true,
  timeGeneratedUtc: true, StartTimeUtc: true, startTimeUtc: true, StartTime: true, EndTimeUtc: true, endTimeUtc: true, EndTime: true,
  ProductName: true, productName: true, VendorName: true, vendorName: true, AlertUri: true, alertUri: true, AlertLink: true, Type: true,
  TenantId: true, resourceIdentifiers: { azureResourceId: true }, ExtendedProperties: {}, extendedProperties: {},
};
const CONSUMED = consumed(ALERT);
const REST_CONSUMED = consumed({ properties: ALERT, id: true, name: true, type: true });

/** Per entity type: the observable it becomes, and the members that observable maps. */
const ENTITY_OBSERVABLES: Record<string, { observe: (e: JsonObject) => JsonObject | undefined; consumed: Consumed }> = {
  ip: { observe: (e) => observable(2, 'IP Address', 'ip', get(e, 'Address', 'address')), consumed: consumed({ Type: true, type: true, Address: true, address: true }) },
  host: { observe: (e) => observable(1, 'Hostname', 'host', get(e, 'HostName', 'hostName')), consumed: consumed({ Type: true, type: true, HostName: true, hostName: true }) },
  account: { observe: (e) => observable(4, 'User Name', 'account', get(e, 'Name', 'name')), consumed: consumed({ Type: true, type: true, Name: true, name: true }) },
  'azure-resource': { observe: (e) => observable(10, 'Resource UID', 'azure-resource', get(e, 'ResourceId', 'resourceId')), consumed: consumed({ Type: true, type: true, ResourceId: true, resourceId: true }) },
  url: { observe: (e) => observable(6, 'URL String', 'url', get(e, 'Url', 'url')), consumed: consumed({ Type: true, type: true, Url: true, url: true }) },
  file: { observe: (e) => observable(7, 'File Name', 'file', get(e, 'Name', 'name')), consumed: consumed({ Type: true, type: true, Name: true, name: true }) },
  process: { observe: (e) => observable(13, 'Command Line', 'process', get(e, 'CommandLine', 'commandLine')), consumed: consumed({ Type: true, type: true, CommandLine: true, commandLine: true }) },
};

function observable(typeId: number, type: string, name: string, v: unknown): JsonObject | undefined {
  const value = str(v);
  return value ? { type_id: typeId, type, name, value } : undefined;
}

/** Observables from the alert's entities, and the entities' unmapped rest. */
function observables(entities: unknown[] | undefined): { observables: JsonObject[] | undefined; rest: unknown[] | undefined } {
  if (!entities) return { observables: undefined, rest: undefined };
  const out: JsonObject[] = [];
  const rest: unknown[] = [];
  const seen = new Set<string>();
  for (const e of entities) {
    if (!isObj(e)) {
      if (e !== null && e !== '') rest.push(e);
      continue;
    }
    const type = str(get(e, 'Type', 'type'))?.toLowerCase();
    const kind = type ? ENTITY_OBSERVABLES[type] : undefined;
    const o = kind?.observe(e);
    if (!o) {
      rest.push(e);
      continue;
    }
    const left = unmappedOf(e, kind!.consumed);
    if (left) rest.push(left);
    // A duplicate (same type and value) is the same observable: its members are mapped too.
    const key = `${String(o.type_id)}|${String(o.value)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(o);
  }
  return { observables: out.length > 0 ? out : undefined, rest: rest.length > 0 ? rest : undefined };
}

function map(r: NormalizedRecord, meta: MapMeta): MapResult {
  const rec = r.rec;
  const p = isObj(rec.properties) && (get(rec.properties, 'systemAlertId', 'alertType') !== undefined) ? rec.properties : rec;
  const alertId = str(get(p, 'SystemAlertId', 'systemAlertId')) ?? str(get(rec, 'name'));
  if (!alertId) return { ok: false, reason: 'unknown-shape', detail: 'security alert without SystemAlertId' };
  const resourceId = str(get(p, 'AzureResourceId', 'ResourceId')) ?? str(get(arr(get(p, 'resourceIdentifiers'))?.find((x) => str(get(x, 'azureResourceId'))), 'azureResourceId')) ?? str(get(rec, 'id'));
  const rid = parseResourceId(resourceId ?? str(get(rec, 'id')));
  const timeRaw = get(p, 'TimeGenerated', 'timeGeneratedUtc') ?? get(rec, 'TimeGenerated');
  const productName = str(get(p, 'ProductName', 'productName'));
  const time = parseTime(timeRaw);
  const statusRaw = str(get(p, 'Status', 'status'));
  const st = STATUS[(statusRaw ?? '').toLowerCase()] ?? [statusRaw ? 99 : 0, statusRaw ?? 'Unknown', statusRaw ? 2 : 1, statusRaw ? 'Update' : 'Create'];
  const alertType = str(get(p, 'AlertType', 'alertType'));
  const title = str(get(p, 'AlertDisplayName', 'alertDisplayName', 'AlertName', 'DisplayName'));
  const severityId = severityFromAlert(get(p, 'Severity', 'severity', 'AlertSeverity'));
  const remediationRaw = get(p, 'RemediationSteps', 'remediationSteps');
  const remediationList = arr(remediationRaw) ?? (typeof remediationRaw === 'string' ? [remediationRaw] : undefined);
  const remediation = remediationList && remediationList.length > 0 ? { desc: remediationList.map((x) => str(x) ?? '').filter(Boolean).join('\n') } : undefined;
  const techniques = (arr(get(p, 'Techniques', 'techniques')) ?? (typeof get(p, 'Techniques') === 'string' ? String(get(p, 'Techniques')).split(',') : [])).map((t) => str(t)?.trim()).filter((t): t is string => !!t);
  const tactics = (str(get(p, 'Intent', 'intent', 'Tactics')) ?? '').split(',').map((t) => t.trim()).filter((t) => t && t !== 'Unknown');
  const attacks = [
    ...techniques.map((t) => ({ technique: { uid: t } })),
    ...(techniques.length === 0 ? tactics.map((t) => ({ tactic: { name: t } })) : []),
  ];
  const entities = arr(get(p, 'Entities', 'entities'));
  const uid = eventUid(meta.tenantId, 'defender-alert', [alertId, statusRaw, str(timeRaw)], r.rec);
  const fromEntities = observables(entities);
  let unmapped = unmappedOf(rec, p === rec ? CONSUMED : REST_CONSUMED);
  if (fromEntities.rest) unmapped = putUnmapped(unmapped, p !== rec, Object.hasOwn(p, 'Entities') ? 'Entities' : 'entities', fromEntities.rest);
  const finding_info = compact({
    uid: alertId,
    title: title ?? alertType ?? 'Security alert',
    desc: str(get(p, 'Description', 'description')),
    types: alertType ? [alertType] : undefined,
    analytic: alertType ? { type_id: 1, type: 'Rule', uid: alertType, name: title ?? alertType } : undefined,
    attacks: attacks.length > 0 ? attacks : undefined,
    src_url: str(get(p, 'AlertUri', 'alertUri', 'AlertLink')),
    created_time: parseTime(get(p, 'StartTimeUtc', 'startTimeUtc', 'StartTime')),
    first_seen_time: parseTime(get(p, 'StartTimeUtc', 'startTimeUtc', 'StartTime')),
    last_seen_time: parseTime(get(p, 'EndTimeUtc', 'endTimeUtc', 'EndTime')),
    // OCSF product needs a name or uid: a vendor alone makes none (it stays in raw_data).
    product: productName ? compact({ name: productName, vendor_name: str(get(p, 'VendorName', 'vendorName')) }) : undefined,
  })!;
  const resources = resourceId || str(get(p, 'CompromisedEntity', 'compromisedEntity'))
    ? [compact({ uid: resourceId, name: str(get(p, 'CompromisedEntity', 'compromisedEntity')) ?? rid.name, type: rid.type, group: rid.resourceGroup ? { name: rid.resourceGroup } : undefined })!]
    : undefined;
  const body: EventBody = {
    finding_info,
    status_id: st[0],
    status: st[1],
    message: title,
    resources,
    remediation,
    observables: fromEntities.observables,
    start_time: parseTime(get(p, 'StartTimeUtc', 'startTimeUtc', 'StartTime')),
    end_time: parseTime(get(p, 'EndTimeUtc', 'endTimeUtc', 'EndTime')),
  };
  return {
    ok: true,
    events: [
      buildEvent(
        {
          classUid: 2004, className: 'Detection Finding', categoryUid: 2, categoryName: 'Findings', activityId: st[2], activityName: st[3], severityId, time,
          originalTime: str(timeRaw), uid, source: 'defender-alert', feature: r.laForm ? 'SecurityAlert (Log Analytics export)' : 'Defender for Cloud continuous export',
          productName: str(get(p, 'ProductName', 'productName')) ?? 'Microsoft Defender for Cloud', logName: r.laForm ? 'SecurityAlert' : 'Alerts',
          region: undefined, eventCode: alertType,
        },
        meta,
        r.raw,
        body,
        unmapped,
      ),
    ],
  };
}

export const defenderAlertMapper: Mapper = {
  source: 'defender-alert',
  matches: (r) =>
    r.laForm
      ? r.category === 'SecurityAlert'
      : r.category === 'Microsoft.Security/Locations/alerts' || (r.category === '' && (get(r.rec, 'SystemAlertId') !== undefined || get(r.props, 'systemAlertId') !== undefined)),
  map,
};
