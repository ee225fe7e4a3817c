import type { JsonObject, MapMeta, MapResult, Mapper, NormalizedRecord } from '../types.js';
import { arr, buildEvent, compact, eventUid, get, isObj, obj, parseResourceId, parseTime, remainder, severityFromAlert, str } from '../ocsf/common.js';

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

const MAPPED = new Set([
  'SystemAlertId', 'systemAlertId', 'AlertType', 'alertType', 'AlertDisplayName', 'alertDisplayName', 'AlertName', 'DisplayName', 'Description', 'description',
  'Severity', 'severity', 'AlertSeverity', 'Status', 'status', 'Intent', 'intent', 'Tactics', 'Techniques', 'techniques', 'subTechniques', 'AzureResourceId',
  'ResourceId', 'CompromisedEntity', 'compromisedEntity', 'RemediationSteps', 'remediationSteps', 'Entities', 'entities', 'TimeGenerated', 'timeGeneratedUtc',
  'StartTimeUtc', 'startTimeUtc', 'StartTime', 'EndTimeUtc', 'endTimeUtc', 'EndTime', 'ProductName', 'productName', 'VendorName', 'vendorName', 'AlertUri',
  'alertUri', 'ConfidenceScore', 'Type', 'resourceIdentifiers', 'TenantId',
]);

const ENTITY_OBSERVABLES: Record<string, (e: JsonObject) => JsonObject | undefined> = {
  ip: (e) => (str(get(e, 'Address', 'address')) ? { type_id: 2, type: 'IP Address', name: 'ip', value: str(get(e, 'Address', 'address')) } : undefined),
  host: (e) => (str(get(e, 'HostName', 'hostName')) ? { type_id: 1, type: 'Hostname', name: 'host', value: str(get(e, 'HostName', 'hostName')) } : undefined),
  account: (e) => (str(get(e, 'Name', 'name')) ? { type_id: 4, type: 'User Name', name: 'account', value: str(get(e, 'Name', 'name')) } : undefined),
  'azure-resource': (e) => (str(get(e, 'ResourceId', 'resourceId')) ? { type_id: 10, type: 'Resource UID', name: 'azure-resource', value: str(get(e, 'ResourceId', 'resourceId')) } : undefined),
  url: (e) => (str(get(e, 'Url', 'url')) ? { type_id: 6, type: 'URL String', name: 'url', value: str(get(e, 'Url', 'url')) } : undefined),
  file: (e) => (str(get(e, 'Name', 'name')) ? { type_id: 7, type: 'File Name', name: 'file', value: str(get(e, 'Name', 'name')) } : undefined),
  process: (e) => (str(get(e, 'CommandLine', 'commandLine')) ? { type_id: 13, type: 'Command Line', name: 'process', value: str(get(e, 'CommandLine', 'commandLine')) } : undefined),
};

function observables(entities: unknown[] | undefined): JsonObject[] | undefined {
  if (!entities) return undefined;
  const out: JsonObject[] = [];
  const seen = new Set<string>();
  for (const e of entities) {
    if (!isObj(e)) continue;
    const type = str(get(e, 'Type', 'type'))?.toLowerCase();
    const o = type ? ENTITY_OBSERVABLES[type]?.(e) : undefined;
    if (!o) continue;
    const key = `${String(o.type_id)}|${String(o.value)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(o);
  }
  return out.length > 0 ? out : undefined;
}

function map(r: NormalizedRecord, meta: MapMeta): MapResult {
  const rec = r.rec;
  const p = isObj(rec.properties) && (get(rec.properties, 'systemAlertId', 'alertType') !== undefined) ? rec.properties : rec;
  const alertId = str(get(p, 'SystemAlertId', 'systemAlertId')) ?? str(get(rec, 'name'));
  if (!alertId) return { ok: false, reason: 'unknown-shape', detail: 'security alert without SystemAlertId' };
  const resourceId = str(get(p, 'AzureResourceId', 'ResourceId')) ?? str(get(arr(get(p, 'resourceIdentifiers'))?.find((x) => str(get(x, 'azureResourceId'))), 'azureResourceId')) ?? str(get(rec, 'id'));
  const rid = parseResourceId(resourceId ?? str(get(rec, 'id')));
  const timeRaw = get(p, 'TimeGenerated', 'timeGeneratedUtc') ?? get(rec, 'TimeGenerated');
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
  const ext = obj(get(p, 'ExtendedProperties', 'extendedProperties'));
  const uid = eventUid(meta.tenantId, 'defender-alert', [alertId, statusRaw, str(timeRaw)], r.rec);
  const unmapped: JsonObject = remainder(p, MAPPED) ?? {};
  if (p !== rec) Object.assign(unmapped, remainder(rec, new Set(['properties', 'id', 'name', 'type'])) ?? {});
  if (ext) unmapped.ExtendedProperties = ext;
  delete unmapped.extendedProperties;
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
    product: compact({ name: str(get(p, 'ProductName', 'productName')), vendor_name: str(get(p, 'VendorName', 'vendorName')) }),
  })!;
  const resources = resourceId || str(get(p, 'CompromisedEntity', 'compromisedEntity'))
    ? [compact({ uid: resourceId, name: str(get(p, 'CompromisedEntity', 'compromisedEntity')) ?? rid.name, type: rid.type, group: rid.resourceGroup ? { name: rid.resourceGroup } : undefined })!]
    : undefined;
  const body = compact({
    finding_info,
    status_id: st[0],
    status: st[1],
    message: title,
    resources,
    remediation,
    observables: observables(entities),
    start_time: parseTime(get(p, 'StartTimeUtc', 'startTimeUtc', 'StartTime')),
    end_time: parseTime(get(p, 'EndTimeUtc', 'endTimeUtc', 'EndTime')),
  })!;
  if (entities) unmapped.Entities = entities;
  return {
    ok: true,
    events: [
      buildEvent(
        {
          classUid: 2004, className: 'Detection Finding', categoryUid: 2, categoryName: 'Findings', activityId: st[2], activityName: st[3], severityId, time,
          originalTime: str(timeRaw), uid, source: 'defender-alert', feature: r.laForm ? 'SecurityAlert (Log Analytics export)' : 'Defender for Cloud continuous export',
          productName: str(get(p, 'ProductName', 'productName')) ?? 'Microsoft Defender for Cloud', logName: r.laForm ? 'SecurityAlert' : 'Alerts',
          subscriptionId: rid.subscriptionId, region: undefined, eventCode: alertType,
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
