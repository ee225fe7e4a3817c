import type { JsonObject, MapMeta, MapResult, Mapper, NormalizedRecord } from '../types.js';
import { actorFromIdentity } from '../ocsf/azureIdentity.js';
import { buildEvent, compact, eventUid, get, hasOwnKey, int, ipOf, parseResourceId, recordTime, remainder, severityFromLevel, str } from '../ocsf/common.js';
import { statusFromResult } from './activityLog.js';

/**
 * Key Vault / Managed HSM `AuditEvent` (diagnostic-settings form; LA `AZKVAuditLogs`, and legacy `AzureDiagnostics`
 * rows whose ResourceProvider is MICROSOFT.KEYVAULT) → API Activity (6003): every record is one data- or
 * management-plane REST call with a caller, an operation, a source IP and an HTTP status.
 * Verb mapping follows Sentinel's vimAuditEventAzureKeyVault table (Get/List → Read, Set/Create/Import/Restore →
 * Create, Update/Recover/Put/Patch → Update, Delete/Purge → Delete); crypto operations (Sign, Encrypt, Wrap…) are
 * Other with the operation as the label.
 */
const MAPPED_TOP = new Set([
  'time', 'TimeGenerated', 'resourceId', 'ResourceId', '_ResourceId', 'operationName', 'OperationName', 'operationVersion', 'category', 'Category', 'resultType',
  'ResultType', 'resultSignature', 'ResultSignature', 'resultDescription', 'durationMs', 'DurationMs', 'callerIpAddress', 'CallerIPAddress', 'correlationId',
  'CorrelationId', 'identity', 'Identity', 'properties', 'httpStatusCode', 'HttpStatusCode', 'requestUri', 'RequestUri', 'clientInfo', 'ClientInfo',
  'tenantId', 'TenantId', 'location', 'Type', 'level', 'Level', 'id', 'Id',
]);

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
  const unmapped: JsonObject = remainder(rec, MAPPED_TOP) ?? {};
  if (hasOwnKey(r.props)) unmapped.properties = r.props;
  const requestUri = str(get(r.props, 'requestUri')) ?? str(get(rec, 'requestUri', 'RequestUri'));
  const objId = str(get(r.props, 'id')) ?? str(get(rec, 'id', 'id_s'));
  const body = compact({
    actor,
    api: compact({ operation: op ?? 'Unknown', version: str(get(rec, 'operationVersion', 'OperationVersion')), service: { name: rid.type?.toLowerCase().includes('managedhsm') ? 'Azure Key Vault Managed HSM' : 'Azure Key Vault' }, request: correlationId || requestId ? { uid: (correlationId ?? requestId)! } : undefined }),
    src_endpoint: ip ? compact({ ip, port }) : { name: str(get(rec, 'callerIpAddress', 'CallerIPAddress')) ?? 'Unknown' },
    http_request: compact({ url: requestUri ? { url_string: requestUri } : undefined, user_agent: str(get(r.props, 'clientInfo')) ?? str(get(rec, 'clientInfo', 'ClientInfo')) }),
    http_response: httpStatus !== undefined ? { code: httpStatus } : undefined,
    resources: compact({ uid: objId ?? resourceId, name: rid.name, type: rid.type })
      ? [compact({ uid: objId ?? resourceId, name: rid.name, type: rid.type })!]
      : undefined,
    ...status,
    status_code: httpStatus !== undefined ? String(httpStatus) : str(get(rec, 'resultSignature', 'ResultSignature')),
    status_detail: str(get(rec, 'resultDescription', 'ResultDescription')),
    duration: int(get(rec, 'durationMs', 'DurationMs')),
  })!;
  return {
    ok: true,
    events: [
      buildEvent(
        {
          classUid: 6003, className: 'API Activity', categoryUid: 6, categoryName: 'Application Activity', activityId: act.id, activityName: act.name,
          severityId: severityFromLevel(get(rec, 'level', 'Level')) || 1, time, originalTime: original, uid, source: 'key-vault', feature: 'Key Vault audit logs',
          productName: 'Azure Key Vault', logName: r.category, subscriptionId: rid.subscriptionId, region: str(get(rec, 'location')), correlationUid: correlationId, eventCode: op,
        },
        meta,
        r.raw,
        body,
        unmapped,
      ),
    ],
  };
}

export const keyVaultMapper: Mapper = {
  source: 'key-vault',
  matches: (r) =>
    r.laForm
      ? r.category === 'AZKVAuditLogs' || (r.category === 'AzureDiagnostics' && /keyvault/i.test(String(r.rec.ResourceProvider ?? '')))
      : r.category === 'AuditEvent',
  map,
};
