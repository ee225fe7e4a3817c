import type { JsonObject, MapMeta, MapResult, Mapper, NormalizedRecord } from '../types.js';
import { buildEvent, compact, consumed, eventUid, get, int, interned, ipOf, parseResourceId, recordTime, redactUrl, severityFromLevel, str, unmappedOf } from '../ocsf/common.js';

/**
 * Azure Storage resource logs (StorageRead / StorageWrite / StorageDelete; LA `StorageBlobLogs` & co.).
 *
 * Class: API Activity (6003), not Web Resources Activity (6001). Each record is one authenticated REST call
 * (`operationName` is the REST API name: GetBlob, PutBlob, ListBlobs…) with a caller identity, auth type, source
 * IP and HTTP status — exactly API Activity's required actor/api/src_endpoint. Web Resources Activity describes
 * actions on SaaS web resources and has no place for the auth method or the API name. AWS Security Lake maps the
 * equivalent S3 data events to API Activity too, so cross-cloud queries line up. The object goes in `resources[]`.
 */
export const STORAGE_CATEGORIES = new Set(['storageread', 'storagewrite', 'storagedelete']);
const LA_TABLES = new Set(['StorageBlobLogs', 'StorageQueueLogs', 'StorageTableLogs', 'StorageFileLogs']);

/**
 * Unmapped spec (see ConsumedDef). Redundant and dropped: `Type` (the LA table, which selected this mapper).
 * `identity.authorization[].principals[]`: the first principal is the one mapped; the spec applies to every element,
 * so further principals' id/type are not repeated in `unmapped` (raw_data has them; Azure logs one principal).
 */
const TOP_CONSUMED = {
  time: true, Time: true, TimeGenerated: true, timeGenerated: true, resourceId: true, _ResourceId: true, category: true, Category: true,
  operationName: true, OperationName: true, operationVersion: true, OperationVersion: true, statusCode: true, StatusCode: true, statusText: true,
  StatusText: true, durationMs: true, DurationMs: true, callerIpAddress: true, CallerIpAddress: true, correlationId: true, CorrelationId: true,
  location: true, Location: true, uri: true, Uri: true, resourceType: true, Type: true, tenantId: true, TenantId: true, level: true, Level: true,
  AuthenticationType: true, RequesterObjectId: true, RequesterUpn: true, RequesterAppId: true,
} as const;
const PROPS_CONSUMED = {
  accountName: true, AccountName: true, objectKey: true, ObjectKey: true, metricResponseType: true, MetricResponseType: true, serviceType: true,
  ServiceType: true, userAgentHeader: true, UserAgentHeader: true, clientRequestId: true, ClientRequestId: true, serverLatencyMs: true,
  ServerLatencyMs: true,
} as const;
const CONSUMED = consumed(TOP_CONSUMED, {
  identity: { type: true, requester: { objectId: true, ObjectId: true, upn: true, UPN: true, appId: true, AppId: true }, authorization: { principals: { id: true, type: true } } },
  properties: PROPS_CONSUMED,
  Properties: PROPS_CONSUMED,
});
/** Log Analytics rows are flat: the properties are columns. */
const LA_CONSUMED = consumed(TOP_CONSUMED, PROPS_CONSUMED);

const DELETE_OP = /^delete/;
const READ_OP = /^(get|list|query|head)/;
const CREATE_OP = /^(put|create|copy|append|upload|startcopy|incrementalcopy)/;
const ATTRIBUTE_OP = /(metadata|properties|tier|acl|tags)/;
function activity(op: string | undefined, cat: string): { id: number; name: string } {
  const o = (op ?? '').toLowerCase();
  if (cat === 'storagedelete' || DELETE_OP.test(o)) return { id: 4, name: 'Delete' };
  if (READ_OP.test(o)) return { id: 2, name: 'Read' };
  if (CREATE_OP.test(o) && !ATTRIBUTE_OP.test(o)) return { id: 1, name: 'Create' };
  if (cat === 'storagewrite') return { id: 3, name: 'Update' };
  if (cat === 'storageread') return { id: 2, name: 'Read' };
  return { id: 0, name: 'Unknown' };
}

function map(r: NormalizedRecord, meta: MapMeta): MapResult {
  const rec = r.rec;
  const props = r.laForm ? rec : r.props;
  const cat = r.laForm ? `storage${(str(get(rec, 'Category')) ?? '').toLowerCase()}` : r.categoryLower;
  const resourceId = str(get(rec, 'resourceId', '_ResourceId'));
  const rid = parseResourceId(resourceId);
  const op = str(get(rec, 'operationName', 'OperationName'));
  const { time, original } = recordTime(r);
  const correlationId = str(get(rec, 'correlationId', 'CorrelationId'));
  const statusCode = int(get(rec, 'statusCode', 'StatusCode'));
  const statusText = str(get(rec, 'statusText', 'StatusText'));
  const identity = r.laForm ? undefined : get(rec, 'identity');
  const authType = str(get(identity, 'type')) ?? str(get(rec, 'AuthenticationType'));
  const requester = get(identity, 'requester');
  const principal = (() => {
    const authz = get(identity, 'authorization');
    const first = Array.isArray(authz) ? authz[0] : undefined;
    const principals = get(first, 'principals');
    return Array.isArray(principals) ? principals[0] : undefined;
  })();
  const user = compact({
    uid: str(get(requester, 'objectId', 'ObjectId')) ?? str(get(principal, 'id')) ?? str(get(rec, 'RequesterObjectId')),
    name: str(get(requester, 'upn', 'UPN')) ?? str(get(rec, 'RequesterUpn')),
    type: str(get(principal, 'type')),
  });
  const accountName = str(get(props, 'accountName', 'AccountName'));
  const actor: JsonObject = compact({
    user: user && (user.uid !== undefined || user.name !== undefined) ? user : undefined,
    app_uid: str(get(requester, 'appId', 'AppId')) ?? str(get(rec, 'RequesterAppId')),
    invoked_by: authType,
  }) ?? { invoked_by: 'Unknown' };
  const { ip, port } = ipOf(get(rec, 'callerIpAddress', 'CallerIpAddress'));
  const uri = str(get(rec, 'uri', 'Uri'));
  const objectKey = str(get(props, 'objectKey', 'ObjectKey'));
  const act = activity(op, cat);
  const success = statusCode !== undefined ? statusCode < 400 : str(get(props, 'metricResponseType', 'MetricResponseType'))?.toLowerCase() === 'success';
  const uid = eventUid(meta.tenantId, 'storage', [correlationId, op, original, objectKey ?? uri], r.rec);
  const serviceType = str(get(props, 'serviceType', 'ServiceType'));
  return {
    ok: true,
    events: [
      buildEvent(
        {
          classUid: 6003, className: 'API Activity', categoryUid: 6, categoryName: 'Application Activity', activityId: act.id, activityName: act.name,
          severityId: severityFromLevel(get(rec, 'level', 'Level')) || 1, time, originalTime: original, uid, source: 'storage', feature: 'Storage resource logs',
          productName: 'Azure Storage', logName: r.category, region: str(get(rec, 'location', 'Location')), correlationUid: correlationId, eventCode: op,
        },
        meta,
        r.raw,
        {
          actor,
          api: compact({ operation: op ?? 'Unknown', version: str(get(rec, 'operationVersion', 'OperationVersion')), service: { name: serviceType ? interned('Azure Storage ', serviceType) : 'Azure Storage' }, request: correlationId ? { uid: correlationId } : undefined }),
          src_endpoint: ip ? compact({ ip, port }) : { name: str(get(rec, 'callerIpAddress', 'CallerIpAddress')) ?? 'Unknown' },
          http_request: compact({ url: uri ? compact({ url_string: redactUrl(uri) }) : undefined, user_agent: str(get(props, 'userAgentHeader', 'UserAgentHeader')), uid: str(get(props, 'clientRequestId', 'ClientRequestId')) }),
          http_response: statusCode !== undefined ? compact({ code: statusCode, status: statusText, latency: int(get(props, 'serverLatencyMs', 'ServerLatencyMs')) }) : undefined,
          resources: objectKey ?? resourceId ?? accountName ? [compact({ uid: objectKey ?? resourceId, name: accountName ?? rid.name, type: str(get(rec, 'resourceType')) ?? rid.type, region: str(get(rec, 'location', 'Location')) })!] : undefined,
          status_id: statusCode === undefined && statusText === undefined ? 0 : success ? 1 : 2,
          status: statusCode === undefined && statusText === undefined ? 'Unknown' : success ? 'Success' : 'Failure',
          status_code: statusCode !== undefined ? String(statusCode) : undefined,
          status_detail: statusText,
          duration: int(get(rec, 'durationMs', 'DurationMs')),
        },
        unmappedOf(rec, r.laForm ? LA_CONSUMED : CONSUMED),
      ),
    ],
  };
}

export const storageMapper: Mapper = {
  source: 'storage',
  matches: (r) => (r.laForm ? LA_TABLES.has(r.category) : STORAGE_CATEGORIES.has(r.categoryLower)),
  map,
};
