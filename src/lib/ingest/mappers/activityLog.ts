import type { JsonObject, MapMeta, MapResult, Mapper, NormalizedRecord } from '../types.js';
import { actorFromIdentity } from '../ocsf/azureIdentity.js';
import { arr, buildEvent, compact, eventUid, get, hasOwnKey, int, ipOf, parseResourceId, recordTime, remainder, severityFromAlert, severityFromLevel, str } from '../ocsf/common.js';

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

const MAPPED_TOP = new Set([
  'time', 'Time', 'TimeGenerated', 'resourceId', 'ResourceId', '_ResourceId', 'operationName', 'OperationNameValue', 'OperationName', 'category', 'Category',
  'CategoryValue', 'resultType', 'ActivityStatusValue', 'resultSignature', 'ActivitySubstatusValue', 'durationMs', 'callerIpAddress', 'CallerIpAddress',
  'correlationId', 'CorrelationId', 'identity', 'Caller', 'Claims', 'Claims_d', 'Authorization', 'Authorization_d', 'level', 'Level', 'location', 'properties',
  'Properties', 'Properties_d', 'eventDataId', 'EventDataId', 'tenantId', 'TenantId', 'SubscriptionId', 'resultDescription', 'Type',
]);

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
  const sub = rid.subscriptionId ?? str(get(rec, 'SubscriptionId'))?.toLowerCase();
  // eventDataId is unique per record; correlationId alone is not (Started/Accepted/Succeeded share it).
  const uid = eventUid(meta.tenantId, 'activity-log', [eventDataId ?? correlationId, eventDataId ? undefined : op, eventDataId ? undefined : resultType, eventDataId ? undefined : resultSignature, eventDataId ? undefined : original, eventDataId ? undefined : resourceId], r.rec);
  const common = {
    uid,
    time,
    originalTime: original,
    source: 'activity-log' as const,
    feature: 'Activity Log',
    productName: 'Azure Monitor',
    logName: cat || 'ActivityLog',
    subscriptionId: sub,
    region: str(get(rec, 'location', 'Location')),
    correlationUid: correlationId,
    eventCode: op,
  };
  const unmapped: JsonObject = remainder(rec, MAPPED_TOP) ?? {};
  if (hasOwnKey(r.props)) unmapped.properties = r.props;
  const durationMs = int(get(rec, 'durationMs'));
  const resources = resourceId ? [compact({ uid: resourceId, name: rid.name, type: rid.type, group: rid.resourceGroup ? { name: rid.resourceGroup } : undefined, region: common.region })!] : undefined;
  const message = str(get(rec, 'resultDescription')) ?? str(get(r.props, 'title', 'description', 'Description'));

  if (catLower === 'security') {
    const alertName = rid.name ?? eventDataId ?? uid;
    const sev = str(get(r.props, 'Severity', 'severity'));
    const severityId = sev ? severityFromAlert(sev) : severityFromLevel(level);
    return {
      ok: true,
      events: [
        buildEvent(
          { ...common, classUid: 2004, className: 'Detection Finding', categoryUid: 2, categoryName: 'Findings', activityId: 1, activityName: 'Create', severityId },
          meta,
          r.raw,
          compact({
            finding_info: compact({ uid: alertName, title: str(get(r.props, 'alertDisplayName', 'AlertDisplayName')) ?? op, types: ['Defender for Cloud alert (activity log)'], analytic: op ? { type_id: 1, type: 'Rule', name: op } : undefined }),
            status_id: 1,
            status: 'New',
            message,
            resources,
            actor: actorFromIdentity(rec),
          })!,
          unmapped,
        ),
      ],
    };
  }

  if (NOTICE_CATEGORIES.has(catLower)) {
    const status = statusFromResult(resultType);
    return {
      ok: true,
      events: [
        buildEvent(
          { ...common, classUid: 0, className: 'Base Event', categoryUid: 0, categoryName: 'Uncategorized', activityId: 99, activityName: cat, severityId: severityFromLevel(level) },
          meta,
          r.raw,
          compact({ ...status, status_detail: resultSignature, message, duration: durationMs }) ?? {},
          unmapped,
        ),
      ],
    };
  }

  // API Activity
  const activity = activityFromOperation(op, resultSignature);
  const actor = actorFromIdentity(rec) ?? pimCaller(r.props) ?? { app_name: op?.includes('/') ? op.split('/')[0]! : 'Unknown' };
  const status = statusFromResult(resultType);
  const statusCode = str(get(r.props, 'statusCode'));
  const body = compact({
    actor,
    api: compact({ operation: op ?? 'Unknown', service: rid.provider ? { name: rid.provider } : undefined, request: correlationId ? { uid: correlationId } : undefined }),
    src_endpoint: srcEndpoint(get(rec, 'callerIpAddress', 'CallerIpAddress')),
    resources,
    ...status,
    status_code: statusCode,
    status_detail: resultSignature,
    message,
    duration: durationMs,
  })!;
  return {
    ok: true,
    events: [
      buildEvent(
        { ...common, classUid: 6003, className: 'API Activity', categoryUid: 6, categoryName: 'Application Activity', activityId: activity.id, activityName: activity.name, severityId: severityFromLevel(level) },
        meta,
        r.raw,
        body,
        unmapped,
      ),
    ],
  };
}

export const activityLogMapper: Mapper = {
  source: 'activity-log',
  matches: (r) => (r.laForm ? r.category === 'AzureActivity' : ACTIVITY_LOG_CATEGORIES.has(r.category.toLowerCase())),
  map,
};
