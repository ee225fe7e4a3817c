import { createHash } from 'node:crypto';
import type { OcsfEvent } from '../ingest/types.js';
import { OCSF_VERSION } from '../ingest/ocsf/common.js';
import type { TargetId } from '../registry/types.js';
import type { TamperEvidence } from './changeSignals.js';

/**
 * The tamper Detection Finding (OCSF 1.8 class 2004): someone other than the app deleted or re-pointed one of our
 * export objects (a diagnostic setting, data-export rule or Defender automation) and the event-driven run put it
 * back. MITRE ATT&CK T1562.008, Impair Defenses: Disable or Modify Cloud Logs (tactic TA0005, Defense Evasion).
 * Who: the caller from the record's identity claims (`actor`); what: the object and the resource it exports from
 * (`resources`); when: the event time (`finding_info.first_seen_time`); from where: the caller IP
 * (`evidences[].src_endpoint`). Pure and deterministic: the same evidence gives the same uid, so a redelivered work
 * item rewrites the same finding.
 */
export interface TamperRepair {
  target: TargetId;
  /** ARM id of the resource the object exports from. */
  resourceId: string;
  subscriptionId: string;
  /** Name of our object that was put back. */
  name: string;
  /** The plan's reason (what was wrong). */
  reason: string;
  /** ms epoch the repair was applied (or found applied, when an earlier run repaired it). */
  at: number;
  /** true when this run put it back; false when the ledger showed an earlier repair after the change. */
  now: boolean;
}

const OBJECT_TYPE: Record<TamperEvidence['objectType'], string> = {
  'diagnostic-setting': 'Microsoft.Insights/diagnosticSettings',
  'data-export': 'Microsoft.OperationalInsights/workspaces/dataExports',
  automation: 'Microsoft.Security/automations',
};
const OBJECT_WORDS: Record<TamperEvidence['objectType'], string> = {
  'diagnostic-setting': 'diagnostic setting',
  'data-export': 'Log Analytics data-export rule',
  automation: 'Defender for Cloud continuous export',
};

export const ATTACK_T1562_008 = {
  tactic: { uid: 'TA0005', name: 'Defense Evasion', src_url: 'https://attack.mitre.org/tactics/TA0005/' },
  technique: { uid: 'T1562', name: 'Impair Defenses', src_url: 'https://attack.mitre.org/techniques/T1562/' },
  sub_technique: { uid: 'T1562.008', name: 'Disable or Modify Cloud Logs', src_url: 'https://attack.mitre.org/techniques/T1562/008/' },
} as const;

export const tamperFindingUid = (tenantId: string, evidenceUid: string): string => createHash('sha256').update(`${tenantId.toLowerCase()}\u0000tamper\u0000${evidenceUid}`).digest('hex').slice(0, 32);

function defined<T extends Record<string, unknown>>(o: T): T | undefined {
  const out = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && !(typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0)));
  return Object.keys(out).length > 0 ? (out as T) : undefined;
}

/** The OCSF actor of the caller, or undefined when the record named none. */
function actorOf(c: TamperEvidence['caller']): Record<string, unknown> | undefined {
  if (!c) return undefined;
  const user = defined({
    name: c.name,
    uid: c.uid,
    type: c.type,
    account: defined({ type_id: 6, type: 'Azure AD Account', uid: c.uid, name: c.name }),
  });
  const actor = defined({
    user: user && (user.name !== undefined || user.uid !== undefined) ? user : undefined,
    app_uid: c.appId,
    idp: c.tenantId ? { name: 'Microsoft Entra ID', tenant_uid: c.tenantId } : undefined,
    authorizations: c.role ? [{ decision: 'Allowed', policy: { name: c.role } }] : undefined,
  });
  return actor && (actor.user !== undefined || actor.app_uid !== undefined) ? actor : undefined;
}

export function tamperFinding(tenantId: string, e: TamperEvidence, repair: TamperRepair, createdAt: number): OcsfEvent {
  const uid = tamperFindingUid(tenantId, e.uid);
  const what = `${OBJECT_WORDS[e.objectType]} '${e.objectName}'`;
  const verb = e.kind === 'delete' ? 'deleted' : 're-pointed or changed';
  const who = e.caller?.name ?? e.caller?.uid ?? e.caller?.appId ?? 'an unknown caller';
  const title = `MDR log export tampered: ${what} ${verb} by ${who}`;
  const actor = actorOf(e.caller);
  const remedy = repair.now
    ? `azure-mdr put its ${OBJECT_WORDS[e.objectType]} '${repair.name}' back on ${repair.resourceId} at ${new Date(repair.at).toISOString()} (${repair.reason}).`
    : `azure-mdr had already put its ${OBJECT_WORDS[e.objectType]} '${repair.name}' back on ${repair.resourceId} at ${new Date(repair.at).toISOString()}.`;
  const desc =
    `${what} on ${e.on}, which streams this tenant's ${repair.target} telemetry to the MDR, was ${verb} by ${who}` +
    `${e.callerIp ? ` from ${e.callerIp}` : ''} at ${new Date(e.at).toISOString()} (${e.operation}). Telemetry from it stopped until the repair: ` +
    `review the caller's other activity around that time. ${remedy}`;
  const ev: OcsfEvent = {
    class_uid: 2004,
    class_name: 'Detection Finding',
    category_uid: 2,
    category_name: 'Findings',
    activity_id: 1,
    activity_name: 'Create',
    type_uid: 200401,
    type_name: 'Detection Finding: Create',
    severity_id: 4,
    severity: 'High',
    time: createdAt,
    metadata: {
      uid,
      version: OCSF_VERSION,
      product: { name: 'azure-mdr-connector', vendor_name: 'azure-mdr', feature: { name: 'Tamper response' } },
      // `host` admits the top-level actor of a finding (as the ingest mappers do).
      profiles: actor ? ['cloud', 'host'] : ['cloud'],
      log_name: 'TamperResponse',
      log_provider: 'azure-mdr reconcile',
      tenant_uid: tenantId.toLowerCase(),
      correlation_uid: e.correlationId,
      event_code: e.operation,
      processed_time: createdAt,
    },
    cloud: { provider: 'Azure', account: { uid: repair.subscriptionId, type_id: 13, type: 'Azure Subscription' }, org: { uid: tenantId.toLowerCase() } },
    finding_info: defined({
      uid,
      title,
      desc,
      types: ['Defense Evasion', 'Log export tampering'],
      data_sources: ['Azure Activity Log'],
      created_time: createdAt,
      first_seen_time: e.at,
      last_seen_time: e.at,
      analytic: { uid: 'azure-mdr/tamper-response', name: 'azure-mdr export tamper response', type_id: 1, type: 'Rule' },
      attacks: [ATTACK_T1562_008],
      related_events: [defined({ uid: e.uid, product_uid: 'Azure Activity Log', type_uid: e.kind === 'delete' ? 600304 : 600303, type_name: `API Activity: ${e.kind === 'delete' ? 'Delete' : 'Update'}`, title: e.operation })!],
    })!,
    actor,
    resources: [
      { uid: e.objectId, name: e.objectName, type: OBJECT_TYPE[e.objectType], role: 'Target', group: undefined },
      { uid: repair.resourceId, name: repair.resourceId.split('/').pop(), role: 'Monitored resource' },
    ].map((r) => defined(r)!),
    evidences: [
      defined({
        name: 'Azure activity-log record',
        uid: e.originalUid,
        actor,
        api: { operation: e.operation, ...(e.correlationId ? { request: { uid: e.correlationId } } : {}) },
        src_endpoint: e.callerIp ? (/^[0-9a-fA-F.:]+$/.test(e.callerIp) ? { ip: e.callerIp } : { name: e.callerIp }) : undefined,
        resources: [{ uid: e.objectId, name: e.objectName, type: OBJECT_TYPE[e.objectType] }],
      })!,
    ],
    remediation: { desc: remedy },
    status_id: 1,
    status: 'New',
    is_alert: true,
    confidence_id: repair.now ? 3 : 2,
    confidence: repair.now ? 'High' : 'Medium',
    message: title,
    raw_data: JSON.stringify({ evidence: e, repair }),
  };
  for (const k of Object.keys(ev)) if (ev[k] === undefined) delete ev[k];
  for (const k of Object.keys(ev.metadata)) if (ev.metadata[k] === undefined) delete ev.metadata[k];
  return ev;
}
