import type { JsonObject, MapMeta, MapResult, Mapper, NormalizedRecord } from '../types.js';
import { arr, buildEvent, compact, eventUid, get, ipOf, isObj, obj, recordTime, remainder, severityFromLevel, str } from '../ocsf/common.js';

/**
 * Entra ID audit logs (diagnostic-settings `AuditLogs`, LA `AuditLogs` rows, Graph directoryAudit objects).
 * The class follows what the activity did to what:
 * - a user account created/deleted/enabled/disabled, its password or MFA methods changed, roles attached/detached
 *   → Account Change (3001);
 * - group created/deleted, members added/removed → Group Management (3006);
 * - anything else that manages a directory object (applications, service principals, devices, policies…) →
 *   Entity Management (3004), activity from `operationType` (Add/Update/Delete…).
 */
type Rule = { re: RegExp; cls: 3001 | 3006; id: number; name: string };
const RULES: Rule[] = [
  { re: /^(add|create) user$|^invite external user$/i, cls: 3001, id: 1, name: 'Create' },
  { re: /^(hard )?delete user$/i, cls: 3001, id: 6, name: 'Delete' },
  { re: /^enable account$/i, cls: 3001, id: 2, name: 'Enable' },
  { re: /^disable account$/i, cls: 3001, id: 5, name: 'Disable' },
  { re: /^change (user )?password|^change password \(self-service\)/i, cls: 3001, id: 3, name: 'Password Change' },
  { re: /^reset (user )?password|^reset password/i, cls: 3001, id: 4, name: 'Password Reset' },
  { re: /registered (security info|authenticator app)|^user registered/i, cls: 3001, id: 10, name: 'MFA Factor Enable' },
  { re: /deleted security info|^user deleted security info/i, cls: 3001, id: 11, name: 'MFA Factor Disable' },
  { re: /^add (eligible |scoped )?member to role/i, cls: 3001, id: 7, name: 'Attach Policy' },
  { re: /^remove (eligible |scoped )?member from role/i, cls: 3001, id: 8, name: 'Detach Policy' },
  { re: /^unlock user|^unblock user/i, cls: 3001, id: 12, name: 'Unlock' },
  { re: /^add member to group$/i, cls: 3006, id: 3, name: 'Add User' },
  { re: /^remove member from group$/i, cls: 3006, id: 4, name: 'Remove User' },
  { re: /^add group$/i, cls: 3006, id: 6, name: 'Create' },
  { re: /^(hard )?delete group$/i, cls: 3006, id: 5, name: 'Delete' },
  { re: /^add owner to group$/i, cls: 3006, id: 1, name: 'Assign Privileges' },
  { re: /^remove owner from group$/i, cls: 3006, id: 2, name: 'Revoke Privileges' },
];

const ENTITY_ACTIVITY: Record<string, [number, string]> = {
  add: [1, 'Create'],
  create: [1, 'Create'],
  update: [3, 'Update'],
  delete: [4, 'Delete'],
  remove: [4, 'Delete'],
  read: [2, 'Read'],
  enable: [8, 'Enable'],
  disable: [9, 'Disable'],
};

const MAPPED_PROPS = new Set([
  'id', 'Id', 'activityDateTime', 'ActivityDateTime', 'createdDateTime', 'activityDisplayName', 'ActivityDisplayName', 'category', 'Category', 'correlationId',
  'CorrelationId', 'initiatedBy', 'InitiatedBy', 'targetResources', 'TargetResources', 'result', 'Result', 'resultReason', 'ResultReason', 'operationType',
  'AADOperationType', 'loggedByService', 'LoggedByService',
]);
const MAPPED_TOP = new Set([
  'time', 'resourceId', 'operationName', 'operationVersion', 'category', 'tenantId', 'resultType', 'resultSignature', 'resultDescription', 'durationMs',
  'callerIpAddress', 'correlationId', 'identity', 'Level', 'level', 'location', 'properties',
]);

function initiator(p: JsonObject): { actor: JsonObject | undefined; ip: string | undefined } {
  const by = obj(get(p, 'initiatedBy', 'InitiatedBy'));
  const u = obj(get(by, 'user'));
  const a = obj(get(by, 'app'));
  const roles = get(u, 'roles');
  const user = u
    ? compact({
        uid: str(get(u, 'id')),
        name: str(get(u, 'userPrincipalName')) ?? str(get(u, 'displayName')),
        full_name: str(get(u, 'displayName')),
        groups: Array.isArray(roles) ? roles.map((x) => str(get(x, 'displayName')) ?? str(x)).filter((x): x is string => !!x).map((name) => ({ name })) : typeof roles === 'string' && roles ? [{ name: roles }] : undefined,
      })
    : undefined;
  const actor = compact({
    user: user && (user.uid || user.name) ? user : undefined,
    app_name: str(get(a, 'displayName')) ?? str(get(a, 'servicePrincipalName')),
    app_uid: str(get(a, 'appId')) ?? str(get(a, 'servicePrincipalId')),
  });
  return { actor, ip: ipOf(get(u, 'ipAddress')).ip };
}

function targetUser(t: JsonObject): JsonObject {
  return compact({ uid: str(get(t, 'id')), name: str(get(t, 'userPrincipalName')) ?? str(get(t, 'displayName')), type_id: 1, type: 'User' }) ?? { name: 'Unknown' };
}

function map(r: NormalizedRecord, meta: MapMeta): MapResult {
  const rec = r.rec;
  const p = r.laForm ? rec : r.props;
  const activityName = str(get(p, 'activityDisplayName', 'ActivityDisplayName')) ?? str(get(rec, 'operationName', 'OperationName')) ?? 'Unknown';
  const activityTrim = activityName.trim();
  const { time, original } = recordTime(r, get(p, 'activityDateTime', 'ActivityDateTime', 'createdDateTime'));
  const id = str(get(p, 'id', 'Id'));
  const correlationId = str(get(p, 'correlationId', 'CorrelationId')) ?? str(get(rec, 'correlationId'));
  const result = str(get(p, 'result', 'Result'))?.toLowerCase();
  const status = result === 'success' ? { status_id: 1, status: 'Success' } : result === 'failure' ? { status_id: 2, status: 'Failure' } : result ? { status_id: 99, status: result } : { status_id: 0, status: 'Unknown' };
  const targets = (arr(get(p, 'targetResources', 'TargetResources')) ?? []).filter(isObj);
  const { actor, ip } = initiator(p);
  const auditCategory = str(get(p, 'category', 'Category'));
  const operationType = str(get(p, 'operationType', 'AADOperationType'));
  const uid = eventUid(meta.tenantId, 'entra-audit', [id, original, activityTrim, id ? undefined : correlationId], r.rec);
  const unmapped: JsonObject = remainder(p, MAPPED_PROPS) ?? {};
  if (!r.laForm && p !== rec) Object.assign(unmapped, remainder(rec, MAPPED_TOP) ?? {});
  if (auditCategory) unmapped.auditCategory = auditCategory;
  if (targets.length > 0) unmapped.targetResources = targets;
  const callerIp = ip ?? ipOf(get(rec, 'callerIpAddress')).ip;
  const common = {
    actor,
    src_endpoint: callerIp ? { ip: callerIp } : undefined,
    ...status,
    status_detail: str(get(p, 'resultReason', 'ResultReason')) ?? str(get(rec, 'resultDescription')),
    message: activityTrim,
  };
  const userTarget = targets.find((t) => str(get(t, 'type'))?.toLowerCase() === 'user');
  const groupTarget = targets.find((t) => str(get(t, 'type'))?.toLowerCase() === 'group');
  const roleTarget = targets.find((t) => str(get(t, 'type'))?.toLowerCase() === 'role');
  const rule = RULES.find((x) => x.re.test(activityTrim));

  let cls: { uid: number; name: string; activityId: number; activityName: string; body: Record<string, unknown> };
  if (rule && rule.cls === 3001 && (userTarget || targets.length === 0 || roleTarget)) {
    const user = userTarget ? targetUser(userTarget) : targets[0] ? targetUser(targets[0]) : { name: str(get(rec, 'identity')) ?? 'Unknown' };
    const policy = roleTarget ? compact({ name: str(get(roleTarget, 'displayName')), uid: str(get(roleTarget, 'id')), type: 'Entra ID directory role' }) : undefined;
    cls = { uid: 3001, name: 'Account Change', activityId: rule.id, activityName: rule.name, body: compact({ ...common, user, policy })! };
  } else if (rule && rule.cls === 3006 && groupTarget) {
    const group = compact({ uid: str(get(groupTarget, 'id')), name: str(get(groupTarget, 'displayName')) }) ?? { name: 'Unknown' };
    cls = { uid: 3006, name: 'Group Management', activityId: rule.id, activityName: rule.name, body: compact({ ...common, group, user: userTarget ? targetUser(userTarget) : undefined })! };
  } else {
    const t = targets[0];
    const tType = str(get(t, 'type'));
    const entity: JsonObject =
      compact({
        uid: str(get(t, 'id')),
        name: str(get(t, 'displayName')) ?? str(get(t, 'userPrincipalName')),
        type: tType,
        type_id: tType?.toLowerCase() === 'device' ? 1 : tType?.toLowerCase() === 'user' ? 2 : tType?.toLowerCase() === 'group' ? 3 : tType?.toLowerCase() === 'policy' ? 5 : tType ? 99 : undefined,
      }) ?? { name: activityTrim };
    if (entity.uid === undefined && entity.name === undefined) entity.name = activityTrim;
    const act = ENTITY_ACTIVITY[(operationType ?? '').toLowerCase()] ?? [99, operationType || activityTrim];
    cls = { uid: 3004, name: 'Entity Management', activityId: act[0], activityName: act[1], body: compact({ ...common, entity })! };
  }
  return {
    ok: true,
    events: [
      buildEvent(
        {
          classUid: cls.uid, className: cls.name, categoryUid: 3, categoryName: 'Identity & Access Management', activityId: cls.activityId, activityName: cls.activityName,
          severityId: severityFromLevel(get(rec, 'level', 'Level')) || 1, time, originalTime: original, uid, source: 'entra-audit',
          feature: `Entra ID audit logs${str(get(p, 'loggedByService', 'LoggedByService')) ? ` (${str(get(p, 'loggedByService', 'LoggedByService'))})` : ''}`,
          productName: 'Microsoft Entra ID', logName: 'AuditLogs', subscriptionId: undefined, region: undefined, correlationUid: correlationId, eventCode: activityTrim,
        },
        meta,
        r.raw,
        cls.body,
        unmapped,
      ),
    ],
  };
}

export const entraAuditMapper: Mapper = {
  source: 'entra-audit',
  matches: (r) => r.category === 'AuditLogs',
  map,
};
