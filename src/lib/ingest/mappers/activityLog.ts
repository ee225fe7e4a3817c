import type { JsonObject, MapMeta, MapResult, Mapper, NormalizedRecord } from '../types.js';
import { ACTOR_CONSUMED, actorFromIdentity } from '../ocsf/azureIdentity.js';
import { arr, buildEvent, compact, consumed, eventUid, get, int, ipOf, parseResourceId, recordTime, severityFromAlert, severityFromLevel, str, unmappedOf, type Consumed, type ConsumedDef, type EventBody, type EventCore } from '../ocsf/common.js';

/**
 * Azure Activity Log (diagnostic-settings form, all 8 categories plus the legacy Write/Action/Delete values, and the
 * Log Analytics `AzureActivity` row).
 *
 * Class choice per category:
 * - Administrative / Policy (and legacy Write, Action, Delete) → API Activity (6003): an ARM control-plane call by a
 *   caller, with an operation, a source IP and a result. Policy records are the policy engine's verdict on such a
 *   call (audit/deny), so the call is the event; the verdict goes to `status`/`unmapped.policies`.
 * - Security → Detection Finding (2004): these records are Defender for Cloud alerts surfacing in the activity log.
 * - ServiceHealth, ResourceHealth, Alert, Autoscale, Recommendation → Base Event (0): platform notifications with no
 *   caller or API call; none of the vendored OCSF classes fits (API Activity would need an invented actor/endpoint),
 *   so they keep their content in `message`/`unmapped` instead of being forced into a wrong class.
 */
const API_CATEGORIES = new Set(['administrative', 'policy', 'write', 'action', 'delete']);
const NOTICE_CATEGORIES = new Set(['servicehealth', 'resourcehealth', 'alert', 'autoscale', 'recommendation']);
export const ACTIVITY_LOG_CATEGORIES = new Set([...API_CATEGORIES, 'security', ...NOTICE_CATEGORIES]);

/**
 * Unmapped specs (see ConsumedDef), per class: a Base Event has no actor, endpoint or resources, so the caller,
 * its IP and the resource id stay in `unmapped` there; a Detection Finding has no endpoint or API status.
 * Redundant and dropped: `Type` (the LA table, which selected this mapper); the LA display columns `OperationName`,
 * `ActivityStatus`, `ActivitySubstatus` (localized names of the mapped `*Value` columns); `Properties_d` (the same
 * content as the mapped `Properties`); `Resource`, `ResourceGroup`, `ResourceProvider`, `ResourceProviderValue`
 * (parts of the mapped resource id).
 */
const COMMON: ConsumedDef = {
  time: true, Time: true, TimeGenerated: true, timeGenerated: true, category: true, Category: true, CategoryValue: true, operationName: true,
  OperationNameValue: true, OperationName: true, correlationId: true, CorrelationId: true, eventDataId: true, EventDataId: true, level: true,
  Level: true, location: true, Location: true, tenantId: true, TenantId: true, SubscriptionId: true, resultDescription: true, Type: true,
  ActivityStatus: true, ActivitySubstatus: true, Properties_d: true, Resource: true, ResourceGroup: true, ResourceProvider: true,
  ResourceProviderValue: true,
};
const RESOURCE: ConsumedDef = { resourceId: true, ResourceId: true, _ResourceId: true };
const RESULT: ConsumedDef = { resultType: true, ActivityStatusValue: true, resultSignature: true, ActivitySubstatusValue: true, durationMs: true };
const CALLER_IP: ConsumedDef = { callerIpAddress: true, CallerIpAddress: true };
const CLASS_CONSUMED: Record<'api' | 'pim' | 'security' | 'notice', [ConsumedDef[], ConsumedDef]> = {
  api: [[RESOURCE, RESULT, ACTOR_CONSUMED, CALLER_IP], { statusCode: true }],
  /** PIM records name their caller in `properties.CallerInfo` (used only when the record has no identity). */
  pim: [[RESOURCE, RESULT, ACTOR_CONSUMED, CALLER_IP], { statusCode: true, CallerInfo: true }],
  security: [[RESOURCE, ACTOR_CONSUMED], { Severity: true, severity: true, alertDisplayName: true, AlertDisplayName: true }],
  notice: [[RESULT], {}],
};
const MESSAGE_KEYS = ['title', 'description', 'Description'] as const;
const specs = new Map<string, Consumed>();
/** The spec for a class, with the `properties` member that gave the message (when `resultDescription` did not). */
function consumedFor(kind: keyof typeof CLASS_CONSUMED, messageKey: string | undefined): Consumed {
  const key = `${kind}|${messageKey ?? ''}`;
  let c = specs.get(key);
  if (!c) {
    const [top, props] = CLASS_CONSUMED[kind];
    const p: ConsumedDef = messageKey ? { eventDataId: true, ...props, [messageKey]: true } : { eventDataId: true, ...props };
    specs.set(key, (c = consumed(COMMON, ...top, { properties: p, Properties: p })));
  }
  return c;
}

export function activityFromOperation(op: string | undefined, resultSignature: string | undefined): { id: number; name: string } {
  if (!op) return { id: 0, name: 'Unknown' };
  const lower = op.toLowerCase();
  if (resultSignature && /\.created$/i.test(resultSignature)) return { id: 1, name: 'Create' };
  if (lower.endsWith('/write')) return { id: 3, name: 'Update' };
  if (lower.endsWith('/delete')) return { id: 4, name: 'Delete' };
  if (lower.endsWith('/read')) return { id: 2, name: 'Read' };
  const segs = op.split('/');
  const verb = lower.endsWith('/action') && segs.length >= 2 ? segs[segs.length - 2]! : segs[segs.length - 1]!;
  return { id: 99, name: verb.trim() || 'Other' };
}

export function statusFromResult(result: string | undefined): { status_id: number; status?: string } {
  if (!result) return { status_id: 0, status: 'Unknown' };
  const r = result.toLowerCase();
  if (r === 'success' || r === 'succeeded') return { status_id: 1, status: 'Success' };
  if (r === 'failure' || r === 'failed') return { status_id: 2, status: 'Failure' };
  return { status_id: 99, status: result };
}

/** Entra PIM records carry no identity; their caller is in `properties.CallerInfo` (a JSON-string list of type/value). */
function pimCaller(props: JsonObject): JsonObject | undefined {
  const info = arr(get(props, 'CallerInfo'));
  if (!info) return undefined;
  const by = (t: string) => str(get(info.find((x) => get(x, 'CallerIdentityType') === t), 'CallerIdentityValue'));
  const user = compact({ uid: by('ObjectID'), name: by('UPN') ?? by('Username') ?? by('Name') });
  return user ? { user } : undefined;
}

function srcEndpoint(v: unknown): JsonObject {
  const { ip, port } = ipOf(v);
  if (ip) return port === undefined ? { ip } : { ip, port };
  // Redacted ('XX.XX.XX.XX'), CIDR or absent: keep the text as a name rather than an invalid ip.
  return { name: str(v) ?? 'Unknown' };
}

function map(r: NormalizedRecord, meta: MapMeta): MapResult {
  const rec = r.rec;
  const cat = (r.laForm ? str(get(rec, 'CategoryValue')) : r.category) ?? r.category;
  const catLower = cat.toLowerCase();
  const resourceId = str(get(rec, 'resourceId', 'ResourceId', '_ResourceId'));
  const rid = parseResourceId(resourceId);
  const op = str(get(rec, 'operationName', 'OperationNameValue', 'OperationName'));
  const resultType = str(get(rec, 'resultType', 'ActivityStatusValue'));
  const resultSignature = str(get(rec, 'resultSignature', 'ActivitySubstatusValue'));
  const correlationId = str(get(rec, 'correlationId', 'CorrelationId'));
  const eventDataId = str(get(rec, 'eventDataId', 'EventDataId')) ?? str(get(r.props, 'eventDataId'));
  const { time, original } = recordTime(r);
  const level = get(rec, 'level', 'Level');
  // eventDataId is unique per record; correlationId alone is not (Started/Accepted/Succeeded share it).
  const uid = eventUid(meta.tenantId, 'activity-log', [eventDataId ?? correlationId, eventDataId ? undefined : op, eventDataId ? undefined : resultType, eventDataId ? undefined : resultSignature, eventDataId ? undefined : original, eventDataId ? undefined : resourceId], r.rec);
  const region = str(get(rec, 'location', 'Location'));
  const core = (classUid: number, className: string, categoryUid: number, categoryName: string, activityId: number, activityName: string, severityId: number): EventCore => ({
    classUid, className, categoryUid, categoryName, activityId, activityName, severityId, time, uid, source: 'activity-log', feature: 'Activity Log',
    productName: 'Azure Monitor', logName: cat || 'ActivityLog', region, correlationUid: correlationId, originalUid: eventDataId,
    originalTime: original, eventCode: op,
  });
  const durationMs = int(get(rec, 'durationMs'));
  const resources = resourceId ? [compact({ uid: resourceId, name: rid.name, type: rid.type, group: rid.resourceGroup ? { name: rid.resourceGroup } : undefined, region })!] : undefined;
  let message = str(get(rec, 'resultDescription'));
  let messageKey: string | undefined;
  if (message === undefined)
    for (const k of MESSAGE_KEYS) {
      message = str(get(r.props, k));
      if (message !== undefined) {
        messageKey = k;
        break;
      }
    }

  if (catLower === 'security') {
    const alertName = rid.name ?? eventDataId ?? uid;
    const sev = str(get(r.props, 'Severity', 'severity'));
    const severityId = sev ? severityFromAlert(sev) : severityFromLevel(level);
    const body: EventBody = {
      finding_info: compact({ uid: alertName, title: str(get(r.props, 'alertDisplayName', 'AlertDisplayName')) ?? op, types: ['Defender for Cloud alert (activity log)'], analytic: op ? { type_id: 1, type: 'Rule', name: op } : undefined }),
      status_id: 1,
      status: 'New',
      message,
      resources,
      actor: actorFromIdentity(rec),
    };
    return { ok: true, events: [buildEvent(core(2004, 'Detection Finding', 2, 'Findings', 1, 'Create', severityId), meta, r.raw, body, unmappedOf(rec, consumedFor('security', messageKey)))] };
  }

  if (NOTICE_CATEGORIES.has(catLower)) {
    const status = statusFromResult(resultType);
    const body: EventBody = { status_id: status.status_id, status: status.status, status_detail: resultSignature, message, duration: durationMs };
    return { ok: true, events: [buildEvent(core(0, 'Base Event', 0, 'Uncategorized', 99, cat, severityFromLevel(level)), meta, r.raw, body, unmappedOf(rec, consumedFor('notice', messageKey)))] };
  }

  // API Activity
  const activity = activityFromOperation(op, resultSignature);
  const identityActor = actorFromIdentity(rec);
  const pim = identityActor ? undefined : pimCaller(r.props);
  const actor = identityActor ?? pim ?? { app_name: op?.includes('/') ? op.split('/')[0]! : 'Unknown' };
  const status = statusFromResult(resultType);
  const body: EventBody = {
    actor,
    api: compact({ operation: op ?? 'Unknown', service: rid.provider ? { name: rid.provider } : undefined, request: correlationId ? { uid: correlationId } : undefined }),
    src_endpoint: srcEndpoint(get(rec, 'callerIpAddress', 'CallerIpAddress')),
    resources,
    status_id: status.status_id,
    status: status.status,
    status_code: str(get(r.props, 'statusCode')),
    status_detail: resultSignature,
    message,
    duration: durationMs,
  };
  const activityCore = core(6003, 'API Activity', 6, 'Application Activity', activity.id, activity.name, severityFromLevel(level));
  return { ok: true, events: [buildEvent(activityCore, meta, r.raw, body, unmappedOf(rec, consumedFor(pim ? 'pim' : 'api', messageKey)))] };
}

export const activityLogMapper: Mapper = {
  source: 'activity-log',
  matches: (r) => (r.laForm ? r.category === 'AzureActivity' : ACTIVITY_LOG_CATEGORIES.has(r.categoryLower)),
  map,
};
