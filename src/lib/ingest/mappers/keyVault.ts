import type { MapMeta, MapResult, Mapper, NormalizedRecord } from '../types.js';
import { ACTOR_CONSUMED, actorFromIdentity } from '../ocsf/azureIdentity.js';
import { buildEvent, compact, consumed, eventUid, get, int, ipOf, parseResourceId, recordTime, severityFromLevel, str, unmappedOf, type EventBody } from '../ocsf/common.js';
import { statusFromResult } from './activityLog.js';

/**
 * Key Vault / Managed HSM `AuditEvent` (diagnostic-settings form; LA `AZKVAuditLogs`, and legacy `AzureDiagnostics`
 * rows whose ResourceProvider is MICROSOFT.KEYVAULT) → API Activity (6003): every record is one data- or
 * management-plane REST call with a caller, an operation, a source IP and an HTTP status.
 * Verb mapping follows Sentinel's vimAuditEventAzureKeyVault table (Get/List → Read, Set/Create/Import/Restore →
 * Create, Update/Recover/Put/Patch → Update, Delete/Purge → Delete); crypto operations (Sign, Encrypt, Wrap…) are
 * Other with the operation as the label.
 */
/**
 * Unmapped spec (see ConsumedDef). Redundant and dropped: `Type` (the LA table, which selected this mapper) and the
 * columns that restate parts of the mapped resource id (`Resource`, `ResourceGroup`, `ResourceProvider`,
 * `ResourceType`, `SubscriptionId`, any casing).
 */
const PROPS_CONSUMED = { clientInfo: true, requestUri: true, id: true, httpStatusCode: true, requestId: true } as const;
const CONSUMED = consumed(ACTOR_CONSUMED, {
  time: true, Time: true, TimeGenerated: true, timeGenerated: true, resourceId: true, ResourceId: true, _ResourceId: true, operationName: true,
  OperationName: true, operationVersion: true, OperationVersion: true, category: true, Category: true, resultType: true, ResultType: true,
  resultSignature: true, ResultSignature: true, resultDescription: true, ResultDescription: true, durationMs: true, DurationMs: true,
  callerIpAddress: true, CallerIPAddress: true, correlationId: true, CorrelationId: true, requestId: true, httpStatusCode: true,
  HttpStatusCode: true, httpStatusCode_d: true, requestUri: true, RequestUri: true, clientInfo: true, ClientInfo: true, id: true, id_s: true,
  tenantId: true, TenantId: true, location: true, level: true, Level: true, Type: true, Resource: true, resource: true, ResourceGroup: true,
  resourceGroup: true, ResourceProvider: true, resourceProvider: true, ResourceType: true, resourceType: true, SubscriptionId: true,
  properties: PROPS_CONSUMED,
  Properties: PROPS_CONSUMED,
});

const VAULT_UPDATE = /^vault(put|patch)$/i;
const VERBS: [RegExp, number, string][] = [
  [/(get|list|backup)$/i, 2, 'Read'],
  [/(set|create|import|restore|put)$/i, 1, 'Create'],
  [/(update|recover|patch|rotate)$/i, 3, 'Update'],
  [/(delete|purge)$/i, 4, 'Delete'],
];
// Order matters: VaultPut is an update of the vault, not a creation.
function activity(op: string | undefined): { id: number; name: string } {
  if (!op) return { id: 0, name: 'Unknown' };
  if (VAULT_UPDATE.test(op)) return { id: 3, name: 'Update' };
  for (const [re, id, name] of VERBS) if (re.test(op)) return { id, name };
  return { id: 99, name: op };
}

function map(r: NormalizedRecord, meta: MapMeta): MapResult {
  const rec = r.rec;
  const resourceId = str(get(rec, 'resourceId', 'ResourceId', '_ResourceId'));
  const rid = parseResourceId(resourceId);
  const op = str(get(rec, 'operationName', 'OperationName'));
  const { time, original } = recordTime(r);
  const correlationId = str(get(rec, 'correlationId', 'CorrelationId'));
  const requestId = str(get(r.props, 'requestId')) ?? str(get(rec, 'requestId'));
  const httpStatus = int(get(r.props, 'httpStatusCode') ?? get(rec, 'httpStatusCode', 'HttpStatusCode', 'httpStatusCode_d'));
  const resultType = str(get(rec, 'resultType', 'ResultType'));
  const status = httpStatus !== undefined ? (httpStatus < 400 ? { status_id: 1, status: 'Success' } : { status_id: 2, status: 'Failure' }) : statusFromResult(resultType);
  const act = activity(op);
  const actor = actorFromIdentity(rec) ?? {};
  if (!actor.user && !actor.app_uid) actor.app_name = str(get(r.props, 'clientInfo')) ?? str(get(rec, 'clientInfo', 'ClientInfo')) ?? 'Unknown';
  const { ip, port } = ipOf(get(rec, 'callerIpAddress', 'CallerIPAddress'));
  const uid = eventUid(meta.tenantId, 'key-vault', [correlationId, requestId, op, original, resourceId], r.rec);
  const requestUri = str(get(r.props, 'requestUri')) ?? str(get(rec, 'requestUri', 'RequestUri'));
  const objId = str(get(r.props, 'id')) ?? str(get(rec, 'id', 'id_s'));
  const resourceUid = objId ?? resourceId;
  const body: EventBody = {
    actor,
    api: compact({ operation: op ?? 'Unknown', version: str(get(rec, 'operationVersion', 'OperationVersion')), service: { name: rid.type?.toLowerCase().includes('managedhsm') ? 'Azure Key Vault Managed HSM' : 'Azure Key Vault' }, request: correlationId || requestId ? { uid: (correlationId ?? requestId)! } : undefined }),
    src_endpoint: ip ? compact({ ip, port }) : { name: str(get(rec, 'callerIpAddress', 'CallerIPAddress')) ?? 'Unknown' },
    http_request: compact({ url: requestUri ? { url_string: requestUri } : undefined, user_agent: str(get(r.props, 'clientInfo')) ?? str(get(rec, 'clientInfo', 'ClientInfo')) }),
    http_response: httpStatus !== undefined ? { code: httpStatus } : undefined,
    resources: resourceUid !== undefined || rid.name !== undefined || rid.type !== undefined ? [compact({ uid: resourceUid, name: rid.name, type: rid.type })!] : undefined,
    status_id: status.status_id,
    status: status.status,
    status_code: httpStatus !== undefined ? String(httpStatus) : str(get(rec, 'resultSignature', 'ResultSignature')),
    status_detail: str(get(rec, 'resultDescription', 'ResultDescription')),
    duration: int(get(rec, 'durationMs', 'DurationMs')),
  };
  return {
    ok: true,
    events: [
      buildEvent(
        {
          classUid: 6003, className: 'API Activity', categoryUid: 6, categoryName: 'Application Activity', activityId: act.id, activityName: act.name,
          severityId: severityFromLevel(get(rec, 'level', 'Level')) || 1, time, originalTime: original, uid, source: 'key-vault', feature: 'Key Vault audit logs',
          productName: 'Azure Key Vault', logName: r.category, region: str(get(rec, 'location')), correlationUid: correlationId, eventCode: op,
          originalUid: requestId,
        },
        meta,
        r.raw,
        body,
        unmappedOf(rec, CONSUMED),
      ),
    ],
  };
}

export const keyVaultMapper: Mapper = {
  source: 'key-vault',
  matches: (r) =>
    r.laForm
      ? r.category === 'AZKVAuditLogs' || (r.category === 'AzureDiagnostics' && typeof r.rec.ResourceProvider === 'string' && /keyvault/i.test(r.rec.ResourceProvider))
      : r.category === 'AuditEvent',
  map,
};
