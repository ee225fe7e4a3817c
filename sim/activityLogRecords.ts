import { createHash } from 'node:crypto';
import type { SimActivityEvent } from './routes/activityLog.js';
import type { SimState } from './state.js';

/**
 * What a subscription's activity-log diagnostic setting streams to its Event Hub for the events the simulator logged:
 * the "Schema from storage account and event hubs" form of Microsoft's activity log event schema
 * (learn.microsoft.com/azure/azure-monitor/platform/activity-log-schema; its example is
 * test/fixtures/activity-log/msdocs-azure-monitor-docs__activity-log-schema.md__eventhub-example.json): `time`,
 * `resourceId`, `operationName`, `category`, `resultType`, `resultSignature`, `callerIpAddress`, `correlationId`,
 * `identity.authorization` and `identity.claims`, `level`, `location`, `properties`, wrapped as `{"records":[…]}`.
 *
 * The simulator knows a caller only by its bearer token; the claims a real token would carry are derived from it
 * (`simIdentity`): a stable object id and client id, the tenant the token was issued in (the provider's for the app
 * acting through Lighthouse, the subscription's home tenant for anyone else) and a documentation-range IP.
 */
export interface SimIdentity {
  /** `oid` claim. */
  objectId: string;
  /** `appid` claim. */
  appId: string;
  /** `tid` claim. */
  tenantId: string;
  name: string;
  ip: string;
  type: 'app' | 'user';
}

const uuidOf = (s: string): string => {
  const h = createHash('sha256').update(s).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/** The `oid` claim of a caller's records (a stable id per bearer token). */
export const simObjectId = (principal: string): string => uuidOf(`oid:${principal}`);

/** The token `simulator-token` (staticTokenCredential's default) is the app; any other token is a person in the customer's tenant. */
export function simIdentity(state: SimState, principal: string, subscriptionId: string): SimIdentity {
  const app = principal === 'simulator-token';
  const n = createHash('sha256').update(principal).digest()[0]! % 250;
  return {
    objectId: simObjectId(principal),
    appId: uuidOf(`appid:${principal}`),
    tenantId: app ? state.providerTenantId : (state.subscription(subscriptionId)?.homeTenantId ?? state.providerTenantId),
    name: app ? 'mdr-connector (managed identity)' : `${principal}@customer.example`,
    ip: `203.0.113.${n + 1}`,
    type: app ? 'app' : 'user',
  };
}

export function activityLogRecord(state: SimState, e: SimActivityEvent): Record<string, unknown> {
  const who = simIdentity(state, e.caller, e.subscriptionId);
  const home = state.subscription(e.subscriptionId)?.homeTenantId;
  const claims: Record<string, string> = {
    aud: 'https://management.core.windows.net/',
    iss: `https://sts.windows.net/${who.tenantId}/`,
    'http://schemas.microsoft.com/identity/claims/tenantid': who.tenantId,
    'http://schemas.microsoft.com/identity/claims/objectidentifier': who.objectId,
    appid: who.appId,
    idtyp: who.type,
    ipaddr: who.ip,
    ver: '1.0',
  };
  if (who.type === 'user') {
    claims['http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn'] = who.name;
    claims.name = who.name;
  }
  return {
    time: new Date(e.at).toISOString(),
    resourceId: e.resourceId,
    operationName: e.operationName.toUpperCase(),
    category: 'Administrative',
    resultType: 'Success',
    resultSignature: 'Succeeded.',
    durationMs: '0',
    callerIpAddress: who.ip,
    correlationId: e.correlationId,
    identity: {
      authorization: { scope: e.resourceId, action: e.operationName, evidence: { role: who.type === 'app' ? 'Log Analytics Contributor' : 'Owner', principalId: who.objectId.replace(/-/g, ''), principalType: who.type === 'app' ? 'ServicePrincipal' : 'User' } },
      claims,
    },
    level: 'Information',
    location: 'global',
    properties: { statusCode: 'OK', eventCategory: 'Administrative', entity: e.resourceId, message: e.operationName, eventDataId: e.eventDataId },
    ...(home ? { tenantId: home } : {}),
  };
}

/** One Event Hub message body (`{"records":[…]}`) per subscription, of its events logged from `sinceMs` on (all events with no bound). */
export function activityLogMessages(state: SimState, subscriptionIds: readonly string[], sinceMs = 0, filter: (e: SimActivityEvent) => boolean = () => true): { subscriptionId: string; events: SimActivityEvent[]; body: string }[] {
  const out: { subscriptionId: string; events: SimActivityEvent[]; body: string }[] = [];
  for (const sub of subscriptionIds) {
    const events = state.activityOfSubscription(sub).filter((e) => e.at >= sinceMs && filter(e));
    if (events.length > 0) out.push({ subscriptionId: sub, events, body: JSON.stringify({ records: events.map((e) => activityLogRecord(state, e)) }) });
  }
  return out;
}
