import type { JsonObject, MapMeta, MapResult, Mapper, NormalizedRecord } from '../types.js';
import { arr, buildEvent, compact, consumed, eventUid, get, interned, ipOf, isObj, obj, putUnmapped, recordTime, severityFromLevel, str, unmappedOf, type ConsumedDef, type EventBody } from '../ocsf/common.js';

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

/**
 * The rule an activity name matches (null: none), remembered per name: a stream repeats a few dozen activity names,
 * and testing up to 17 expressions per record showed in the profile. Bounded, since the names come from the payload.
 */
const rules = new Map<string, Rule | null>();
const RULE_CACHE = 1024;
function ruleFor(activity: string): Rule | undefined {
  let rule = rules.get(activity);
  if (rule === undefined) {
    rule = RULES.find((x) => x.re.test(activity)) ?? null;
    if (activity.length > 256) return rule ?? undefined; // payload text, not a name worth keeping
    if (rules.size >= RULE_CACHE) rules.clear();
    rules.set(activity, rule);
  }
  return rule ?? undefined;
}

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

/**
 * Unmapped specs (see ConsumedDef). `targetResources` is settled in map(): the targets that became the event's user,
 * group, policy or entity lose the members mapped from them, the others stay whole. `operationType` is mapped only
 * by Entity Management (its activity). Redundant and dropped: `activityDateTime` (the event time), the top-level
 * `resourceId` / `ResourceId` / `_ResourceId` (`/tenants/<tenant>/providers/Microsoft.aadiam`: the tenant),
 * `operationName` / `OperationName` (the activity display name again), `category` / `Type` ("AuditLogs": the log
 * name) and `identity` (the initiator's display name, mapped from `initiatedBy`).
 */
const INITIATOR: ConsumedDef = {
  user: { id: true, userPrincipalName: true, displayName: true, ipAddress: true, roles: { '': true, displayName: true } },
  app: { displayName: true, servicePrincipalName: true, appId: true, servicePrincipalId: true },
};
const TARGET_CONSUMED = consumed({ id: true, displayName: true, userPrincipalName: true, type: true });
const PROPS: ConsumedDef = {
  id: true, Id: true, activityDateTime: true, ActivityDateTime: true, createdDateTime: true, activityDisplayName: true, ActivityDisplayName: true,
  correlationId: true, CorrelationId: true, result: true, Result: true, resultReason: true, ResultReason: true, initiatedBy: INITIATOR,
  InitiatedBy: INITIATOR, targetResources: true, TargetResources: true, loggedByService: true, LoggedByService: true,
};
const OPERATION_TYPE: ConsumedDef = { operationType: true, AADOperationType: true };
const TOP: ConsumedDef = {
  time: true, resourceId: true, operationName: true, category: true, tenantId: true, resultDescription: true, callerIpAddress: true,
  correlationId: true, identity: true, level: true, Level: true,
};
const LA_TOP: ConsumedDef = { TimeGenerated: true, Type: true, TenantId: true, AADTenantId: true, ResourceId: true, _ResourceId: true, OperationName: true, Level: true };
const CONSUMED = {
  diag: consumed(TOP, { properties: PROPS, Properties: PROPS }),
  diagEntity: consumed(TOP, { properties: { ...PROPS, ...OPERATION_TYPE }, Properties: { ...PROPS, ...OPERATION_TYPE } }),
  la: consumed(LA_TOP, PROPS),
  laEntity: consumed(LA_TOP, PROPS, OPERATION_TYPE),
  /** Microsoft Graph directoryAudit objects: the record is the audit entry itself. */
  graph: consumed(PROPS),
  graphEntity: consumed(PROPS, OPERATION_TYPE),
};

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
  const operationType = str(get(p, 'operationType', 'AADOperationType'));
  const uid = eventUid(meta.tenantId, 'entra-audit', [id, original, activityTrim, id ? undefined : correlationId], r.rec);
  const callerIp = ip ?? ipOf(get(rec, 'callerIpAddress')).ip;
  const common: EventBody = {
    actor,
    src_endpoint: callerIp ? { ip: callerIp } : undefined,
    status_id: status.status_id,
    status: status.status,
    status_detail: str(get(p, 'resultReason', 'ResultReason')) ?? str(get(rec, 'resultDescription')),
    message: activityTrim,
  };
  const userTarget = targets.find((t) => str(get(t, 'type'))?.toLowerCase() === 'user');
  const groupTarget = targets.find((t) => str(get(t, 'type'))?.toLowerCase() === 'group');
  const roleTarget = targets.find((t) => str(get(t, 'type'))?.toLowerCase() === 'role');
  const rule = ruleFor(activityTrim);

  // The targets mapped into the event (their mapped members leave `unmapped`).
  let mappedTargets: (JsonObject | undefined)[];
  let cls: { uid: number; name: string; activityId: number; activityName: string; body: EventBody };
  if (rule && rule.cls === 3001 && (userTarget || targets.length === 0 || roleTarget)) {
    const userFrom = userTarget ?? targets[0];
    const user = userFrom ? targetUser(userFrom) : { name: str(get(rec, 'identity')) ?? 'Unknown' };
    const policy = roleTarget ? compact({ name: str(get(roleTarget, 'displayName')), uid: str(get(roleTarget, 'id')), type: 'Entra ID directory role' }) : undefined;
    mappedTargets = [userFrom, roleTarget];
    cls = { uid: 3001, name: 'Account Change', activityId: rule.id, activityName: rule.name, body: { ...common, user, policy } };
  } else if (rule && rule.cls === 3006 && groupTarget) {
    const group = compact({ uid: str(get(groupTarget, 'id')), name: str(get(groupTarget, 'displayName')) }) ?? { name: 'Unknown' };
    mappedTargets = [groupTarget, userTarget];
    cls = { uid: 3006, name: 'Group Management', activityId: rule.id, activityName: rule.name, body: { ...common, group, user: userTarget ? targetUser(userTarget) : undefined } };
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
    mappedTargets = [t];
    cls = { uid: 3004, name: 'Entity Management', activityId: act[0], activityName: act[1], body: { ...common, entity } };
  }
  const entityClass = cls.uid === 3004;
  const graph = !r.laForm && p === rec;
  let unmapped = unmappedOf(rec, r.laForm ? (entityClass ? CONSUMED.laEntity : CONSUMED.la) : graph ? (entityClass ? CONSUMED.graphEntity : CONSUMED.graph) : entityClass ? CONSUMED.diagEntity : CONSUMED.diag);
  if (targets.length > 0) {
    const rest: JsonObject[] = [];
    for (const t of targets) {
      const left = mappedTargets.includes(t) ? unmappedOf(t, TARGET_CONSUMED) : t;
      if (left !== undefined) rest.push(left);
    }
    if (rest.length > 0) unmapped = putUnmapped(unmapped, !r.laForm && !graph, Object.hasOwn(p, 'targetResources') ? 'targetResources' : 'TargetResources', rest);
  }
  const loggedBy = str(get(p, 'loggedByService', 'LoggedByService'));
  return {
    ok: true,
    events: [
      buildEvent(
        {
          classUid: cls.uid, className: cls.name, categoryUid: 3, categoryName: 'Identity & Access Management', activityId: cls.activityId, activityName: cls.activityName,
          severityId: severityFromLevel(get(rec, 'level', 'Level')) || 1, time, originalTime: original, uid, source: 'entra-audit',
          feature: loggedBy ? interned('Entra ID audit logs (', loggedBy, ')') : 'Entra ID audit logs',
          productName: 'Microsoft Entra ID', logName: 'AuditLogs', region: undefined, correlationUid: correlationId, originalUid: id,
          eventCode: activityTrim,
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
