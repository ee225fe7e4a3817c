import type { JsonObject, MapMeta, MapResult, Mapper, NormalizedRecord } from '../types.js';
import { buildEvent, compact, consumed, eventUid, get, interned, ipOf, num, obj, parseTime, recordTime, str, unmappedOf, type ConsumedDef, type EventBody } from '../ocsf/common.js';

/**
 * Microsoft Entra ID Protection risk detections → Detection Finding (2004): the tables AADUserRiskEvents and
 * AADServicePrincipalRiskEvents as the workspace's data export sends them (Log Analytics rows, PascalCase columns),
 * and the diagnostic-setting categories UserRiskEvents / ServicePrincipalRiskEvents (camelCase under `properties`).
 * Columns as the Azure Monitor table reference documents them (MicrosoftDocs/azure-reference-other
 * azure-monitor-ref/tables/includes/aaduserriskevents-include.md, aadserviceprincipalriskevents-include.md).
 *
 * A risk detection is a finding about an identity, not an authentication: Detection Finding carries the risk level
 * (`risk_level_id`), the detection type (`finding_info.types`, the analytic), and the user or service principal with
 * the source IP and location as the evidence. RiskState gives the finding's state and activity: atRisk → New/Create,
 * confirmedCompromised → In Progress/Update, dismissed → Suppressed/Close, remediated and confirmedSafe →
 * Resolved/Close.
 */
const STATE: Record<string, [statusId: number, status: string, activityId: number, activity: string]> = {
  atrisk: [1, 'New', 1, 'Create'],
  confirmedcompromised: [2, 'In Progress', 2, 'Update'],
  dismissed: [3, 'Suppressed', 3, 'Close'],
  remediated: [4, 'Resolved', 3, 'Close'],
  confirmedsafe: [4, 'Resolved', 3, 'Close'],
};
/** RiskLevel: low, medium, high, hidden (no P2 licence: Identity Protection withholds it), none. */
const LEVEL: Record<string, [riskLevelId: number, severityId: number]> = { none: [0, 1], low: [1, 2], medium: [2, 3], high: [3, 4] };

const CATEGORY_TO_KIND: Record<string, 'user' | 'service-principal'> = {
  AADUserRiskEvents: 'user',
  UserRiskEvents: 'user',
  AADServicePrincipalRiskEvents: 'service-principal',
  ServicePrincipalRiskEvents: 'service-principal',
};

/**
 * Unmapped spec (see ConsumedDef). Redundant and dropped: `Type` / `category` / `operationName` (the log), `TimeGenerated`
 * / `time` (when the log processed it; the finding's time is the detection's), `_ResourceId` / `resourceId` (the tenant),
 * `TenantId` / `tenantId`, `identity` (the user's name, mapped from the user columns), `callerIpAddress` (the IpAddress).
 */
const RISK: ConsumedDef = {
  Id: true, id: true, RiskEventType: true, riskEventType: true, RiskLevel: true, riskLevel: true, RiskState: true, riskState: true,
  RiskDetail: true, riskDetail: true, Source: true, source: true, DetectionTimingType: true, detectionTimingType: true, Activity: true, activity: true,
  ActivityDateTime: true, activityDateTime: true, DetectedDateTime: true, detectedDateTime: true, LastUpdatedDateTime: true, lastUpdatedDateTime: true,
  IpAddress: true, ipAddress: true, CorrelationId: true, correlationId: true, TokenIssuerType: true, tokenIssuerType: true,
  Location: { city: true, state: true, countryOrRegion: true, geoCoordinates: { latitude: true, longitude: true } },
  location: { city: true, state: true, countryOrRegion: true, geoCoordinates: { latitude: true, longitude: true } },
  UserId: true, userId: true, UserPrincipalName: true, userPrincipalName: true, UserDisplayName: true, userDisplayName: true,
  ServicePrincipalId: true, servicePrincipalId: true, ServicePrincipalDisplayName: true, servicePrincipalDisplayName: true, AppId: true, appId: true,
};
const TOP: ConsumedDef = {
  Type: true, TimeGenerated: true, OperationName: true, TenantId: true, _ResourceId: true, time: true, resourceId: true, operationName: true, category: true,
  tenantId: true, identity: true, callerIpAddress: true, correlationId: true,
};
const LA = consumed(TOP, RISK);
const DIAG = consumed(TOP, { properties: RISK, location: true });

const caption = (v: string | undefined) => (v ? v.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase()) : undefined);

function map(r: NormalizedRecord, meta: MapMeta): MapResult {
  const rec = r.rec;
  const p = r.laForm ? rec : r.props;
  const kind = CATEGORY_TO_KIND[r.category] ?? 'user';
  const id = str(get(p, 'Id', 'id'));
  const riskType = str(get(p, 'RiskEventType', 'riskEventType'));
  const levelRaw = str(get(p, 'RiskLevel', 'riskLevel'));
  const stateRaw = str(get(p, 'RiskState', 'riskState'));
  const level = levelRaw ? LEVEL[levelRaw.toLowerCase()] : undefined;
  const st = stateRaw ? STATE[stateRaw.toLowerCase()] : undefined;

  // When the detection happened; the log's own time (processing) only as the fallback.
  const detectedRaw = get(p, 'DetectedDateTime', 'detectedDateTime');
  const detected = parseTime(detectedRaw);
  const { time, original } = detected !== undefined ? { time: detected, original: str(detectedRaw) } : recordTime(r);
  const activityTime = parseTime(get(p, 'ActivityDateTime', 'activityDateTime'));

  const user: JsonObject | undefined =
    kind === 'service-principal'
      ? compact({
          uid: str(get(p, 'ServicePrincipalId', 'servicePrincipalId')) ?? str(get(p, 'AppId', 'appId')),
          name: str(get(p, 'ServicePrincipalDisplayName', 'servicePrincipalDisplayName')),
          uid_alt: str(get(p, 'AppId', 'appId')),
          type_id: 4,
          type: 'Service',
        })
      : (() => {
          const upn = str(get(p, 'UserPrincipalName', 'userPrincipalName'));
          const uid = str(get(p, 'UserId', 'userId'));
          return compact({
            uid,
            name: upn ?? str(get(p, 'UserDisplayName', 'userDisplayName')),
            full_name: str(get(p, 'UserDisplayName', 'userDisplayName')),
            email_addr: upn && upn.includes('@') && !upn.includes('#') ? upn : undefined,
            type_id: 1,
            type: 'User',
            account: uid || upn ? compact({ uid, name: upn, type_id: 6, type: 'Azure AD Account' }) : undefined,
          });
        })();

  const loc = obj(get(p, 'Location', 'location'));
  const geo = obj(get(loc, 'geoCoordinates'));
  const location = compact({ city: str(get(loc, 'city')), region: str(get(loc, 'state')), country: str(get(loc, 'countryOrRegion')), lat: num(get(geo, 'latitude')), long: num(get(geo, 'longitude')) });
  const locationOk = location && (location.city !== undefined || location.region !== undefined || location.country !== undefined) ? location : undefined;
  const { ip } = ipOf(get(p, 'IpAddress', 'ipAddress') ?? get(rec, 'callerIpAddress'));
  const src = ip ? compact({ ip, location: locationOk }) : undefined;

  const observables: JsonObject[] = [];
  if (ip) observables.push({ type_id: 2, type: 'IP Address', name: 'evidences.src_endpoint.ip', value: ip });
  if (user?.name !== undefined) observables.push({ type_id: 4, type: 'User Name', name: 'evidences.user.name', value: user.name });
  if (user?.email_addr !== undefined) observables.push({ type_id: 5, type: 'Email Address', name: 'evidences.user.email_addr', value: user.email_addr });

  const source = str(get(p, 'Source', 'source'));
  const timing = str(get(p, 'DetectionTimingType', 'detectionTimingType'));
  const activity = str(get(p, 'Activity', 'activity'));
  const title = caption(riskType) ?? 'Risk detection';
  const uid = eventUid(meta.tenantId, 'entra-risk', [id, stateRaw, str(get(p, 'LastUpdatedDateTime', 'lastUpdatedDateTime'))], rec);
  const finding_info = compact({
    uid: id ?? uid,
    title: kind === 'service-principal' ? interned('Service principal risk: ', title) : interned('User risk: ', title),
    types: riskType ? [riskType] : undefined,
    desc: [activity && `risky ${activity} activity`, timing && `${timing} detection`, source && `by ${source}`].filter(Boolean).join(', ') || undefined,
    analytic: riskType ? { uid: riskType, name: riskType, type_id: 0, type: 'Unknown', category: source } : undefined,
    created_time: detected,
    first_seen_time: activityTime,
    last_seen_time: activityTime,
    modified_time: parseTime(get(p, 'LastUpdatedDateTime', 'lastUpdatedDateTime')),
    product: { name: 'Microsoft Entra ID Protection', vendor_name: 'Microsoft' },
  })!;
  const correlation = str(get(p, 'CorrelationId', 'correlationId'));
  const body: EventBody = {
    finding_info,
    risk_level_id: level ? level[0] : levelRaw ? 99 : undefined,
    risk_level: level ? (['Info', 'Low', 'Medium', 'High'][level[0]] as string) : levelRaw,
    risk_details: str(get(p, 'RiskDetail', 'riskDetail')),
    evidences: user || src ? [compact({ user, src_endpoint: src })!] : undefined,
    observables: observables.length > 0 ? observables : undefined,
    status_id: st ? st[0] : stateRaw ? 99 : 0,
    status: st ? st[1] : stateRaw ?? 'Unknown',
    message: user?.name !== undefined ? `${title} for ${String(user.name)}${ip ? ` from ${ip}` : ''}` : title,
  };
  return {
    ok: true,
    events: [
      buildEvent(
        {
          classUid: 2004, className: 'Detection Finding', categoryUid: 2, categoryName: 'Findings', activityId: st ? st[2] : stateRaw ? 99 : 1,
          activityName: st ? st[3] : stateRaw ? 'Other' : 'Create', severityId: level ? level[1] : 0, time, originalTime: original, uid, source: 'entra-risk',
          feature: interned('Entra ID ', r.category), productName: 'Microsoft Entra ID', logName: r.category, region: undefined, correlationUid: correlation,
          originalUid: id, eventCode: riskType,
        },
        meta,
        r.raw,
        body,
        unmappedOf(rec, r.laForm ? LA : DIAG),
      ),
    ],
  };
}

export const entraRiskMapper: Mapper = {
  source: 'entra-risk',
  matches: (r) => Object.hasOwn(CATEGORY_TO_KIND, r.category),
  map,
};
