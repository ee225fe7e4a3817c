import { z } from 'zod';
import type { OcsfEvent } from '../ingest/types.js';
import { normalizeArmId, subscriptionOf } from './targetScope.js';

/**
 * Change signals: what, in the activity-log records ingest already maps (OCSF API Activity, class 6003), tells the
 * reconciler that coverage may have moved (Microsoft's activity-log event schema: `operationName`, `resourceId`,
 * `resultType`, `identity.claims`, `callerIpAddress`; the mapper puts them in `api.operation`, `resources[0].uid`,
 * `status_id`, `actor`, `src_endpoint`). Pure: events in, signals out.
 *
 * - A succeeded write of a watched resource (storage account, key vault, Log Analytics workspace, the automation
 *   resource group) → reconcile that resource: created or re-created, it has none of our settings.
 * - A succeeded write or delete of an export object (diagnostic setting, data-export rule, Defender automation) →
 *   reconcile what it sits on, and keep the who/when/where as tamper evidence: the targeted run decides from a fresh
 *   read whether it was one of ours that is now missing or re-pointed.
 * - A succeeded write of a Lighthouse registration assignment → look for subscriptions the ledger does not know.
 *
 * Tenant boundary: a signal is only ever for the tenant of the hub the record came in on, and only for a
 * subscription known to be that tenant's (its coverage ledger); with no known subscription there is no signal.
 * Records whose caller is the app itself (`self`: the `oid`/`appid` of its identity) are its own writes: no signal.
 */
export const tamperEvidenceSchema = z
  .object({
    /** metadata.uid of the API Activity event (deterministic per record). */
    uid: z.string().max(64),
    /** Event time, ms since epoch. */
    at: z.number().int().nonnegative(),
    operation: z.string().max(200),
    kind: z.enum(['write', 'delete']),
    objectType: z.enum(['diagnostic-setting', 'data-export', 'automation']),
    /** Lower-cased ARM id of the object written or deleted. */
    objectId: z.string().max(1024),
    objectName: z.string().max(260),
    /** Lower-cased ARM id of the target the object exports from (what a reconcile item names). */
    on: z.string().max(1024),
    caller: z
      .object({ name: z.string().max(256).optional(), uid: z.string().max(64).optional(), appId: z.string().max(64).optional(), tenantId: z.string().max(64).optional(), type: z.string().max(32).optional(), role: z.string().max(128).optional() })
      .strict()
      .optional(),
    callerIp: z.string().max(64).optional(),
    correlationId: z.string().max(128).optional(),
    /** The object's name carries our resource prefix: kept first when evidence must be trimmed. */
    ours: z.boolean().optional(),
    /** The record's own id (eventDataId). */
    originalUid: z.string().max(128).optional(),
  })
  .strict();
export type TamperEvidence = z.infer<typeof tamperEvidenceSchema>;

export interface ChangeSignal {
  /** metadata.uid of the event: the same record redelivered gives the same uid. */
  uid: string;
  subscriptionId: string;
  /** Lower-cased ARM id of the target to reconcile. */
  resourceId?: string;
  /** Look for subscriptions the ledger does not know yet. */
  newSubscriptions?: boolean;
  evidence?: TamperEvidence;
}

export interface SignalContext {
  /** Tenant of the hub binding (never the payload's). */
  tenantId: string;
  /** The tenant's known subscriptions (lower-case). Empty → no signal at all. */
  knownSubscriptions: ReadonlySet<string>;
  /** Object and client ids (lower-case) of the app's own identity. */
  self: ReadonlySet<string>;
  /** settings.provider.automationResourceGroup: the resource group holding the Defender export. */
  automationResourceGroup: string;
  /** settings.prefix (MDR_RESOURCE_PREFIX): evidence about objects so named is kept before any other. */
  prefix?: string | undefined;
  /**
   * When the batch's messages reached the hub (Event Hubs' enqueued time, set by the service, never by the sender):
   * evidence is dated against it, so a backlog ingest works through late is still evidence. Absent: the ingest time.
   */
  arrival?: { from: number; to: number } | undefined;
}

const WATCHED_WRITES = new Map<string, RegExp>([
  ['microsoft.storage/storageaccounts/write', /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.storage\/storageaccounts\/[^/]+$/],
  ['microsoft.keyvault/vaults/write', /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.keyvault\/vaults\/[^/]+$/],
  ['microsoft.operationalinsights/workspaces/write', /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.operationalinsights\/workspaces\/[^/]+$/],
]);
const SETTING = /^(.+)\/providers\/microsoft\.insights\/diagnosticsettings\/([^/]+)$/;
/** What our diagnostic settings sit on: a subscription (activity log), a storage service, a key vault. */
const SETTING_TARGET = /^\/subscriptions\/[^/]+(?:\/resourcegroups\/[^/]+\/providers\/(?:microsoft\.storage\/storageaccounts\/[^/]+\/(?:blob|queue|table|file)services\/default|microsoft\.keyvault\/vaults\/[^/]+))?$/;
const DATA_EXPORT = /^(\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.operationalinsights\/workspaces\/[^/]+)\/dataexports\/([^/]+)$/;
const AUTOMATION = /^\/subscriptions\/([^/]+)\/resourcegroups\/[^/]+\/providers\/microsoft\.security\/automations\/([^/]+)$/;
const RESOURCE_GROUP = /^\/subscriptions\/[^/]+\/resourcegroups\/([^/]+)$/;
const DELEGATION = /^microsoft\.managedservices\/registration(assignments|definitions)\/write$/;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown, max: number): string | undefined => (typeof v === 'string' && v.length > 0 ? v.slice(0, max) : undefined);

/** Who made the change, from the event's actor (the record's identity claims). */
function callerOf(ev: OcsfEvent): TamperEvidence['caller'] {
  const actor = isObj(ev.actor) ? ev.actor : undefined;
  const user = isObj(actor?.user) ? actor.user : undefined;
  const idp = isObj(actor?.idp) ? actor.idp : undefined;
  const authz = Array.isArray(actor?.authorizations) && isObj(actor.authorizations[0]) ? actor.authorizations[0] : undefined;
  const policy = isObj(authz?.policy) ? authz.policy : undefined;
  const c = {
    name: text(user?.name, 256),
    uid: text(user?.uid, 64)?.toLowerCase(),
    appId: text(actor?.app_uid, 64)?.toLowerCase(),
    tenantId: text(idp?.tenant_uid, 64)?.toLowerCase(),
    type: text(user?.type, 32),
    role: text(policy?.name, 128),
  };
  const defined = Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined));
  return Object.keys(defined).length > 0 ? defined : undefined;
}

/** Whether the event's caller is the app itself. */
export function isSelf(ev: OcsfEvent, self: ReadonlySet<string>): boolean {
  if (self.size === 0) return false;
  const c = callerOf(ev);
  return (c?.uid !== undefined && self.has(c.uid)) || (c?.appId !== undefined && self.has(c.appId));
}

/** Whether an event can be a change signal at all (a successful API Activity): ingest keeps only these for the hook. */
export function mayBeChangeSignal(ev: OcsfEvent): boolean {
  return ev.class_uid === 6003 && ev.status_id === 1;
}

/** How long before its arrival a change may have happened and still count as evidence (delivery delays, host retries). */
export const EVIDENCE_MAX_AGE_MS = 6 * 3_600_000;
/** Clock skew allowed between the sender and us. */
export const EVIDENCE_MAX_AHEAD_MS = 5 * 60_000;

/** The signal of one event, or undefined when it is none of the changes above (or fails a boundary check). */
export function changeSignalOf(ev: OcsfEvent, ctx: SignalContext): ChangeSignal | undefined {
  if (!mayBeChangeSignal(ev)) return undefined;
  if (typeof ev.metadata.tenant_uid !== 'string' || ev.metadata.tenant_uid.toLowerCase() !== ctx.tenantId.toLowerCase()) return undefined;
  const api = isObj(ev.api) ? ev.api : undefined;
  const op = text(api?.operation, 200)?.toLowerCase();
  const resource = Array.isArray(ev.resources) && isObj(ev.resources[0]) ? ev.resources[0] : undefined;
  const id = normalizeArmId(resource?.uid);
  if (!op || !id) return undefined;
  const sub = subscriptionOf(id);
  if (!ctx.knownSubscriptions.has(sub)) return undefined;
  if (isSelf(ev, ctx.self)) return undefined;
  const uid = ev.metadata.uid;

  if (WATCHED_WRITES.get(op)?.test(id)) return { uid, subscriptionId: sub, resourceId: id };
  if (op === 'microsoft.resources/subscriptions/resourcegroups/write') {
    const rg = RESOURCE_GROUP.exec(id)?.[1];
    return rg !== undefined && rg === ctx.automationResourceGroup.toLowerCase() ? { uid, subscriptionId: sub, resourceId: id } : undefined;
  }
  if (DELEGATION.test(op)) return { uid, subscriptionId: sub, newSubscriptions: true };

  const verb = op.endsWith('/write') ? 'write' : op.endsWith('/delete') ? 'delete' : undefined;
  if (!verb) return undefined;
  let object: { type: TamperEvidence['objectType']; on: string; name: string } | undefined;
  let m: RegExpExecArray | null;
  if (op.startsWith('microsoft.insights/diagnosticsettings/') && (m = SETTING.exec(id)) && SETTING_TARGET.test(m[1]!)) object = { type: 'diagnostic-setting', on: m[1]!, name: m[2]! };
  else if (op.startsWith('microsoft.operationalinsights/workspaces/dataexports/') && (m = DATA_EXPORT.exec(id))) object = { type: 'data-export', on: m[1]!, name: m[2]! };
  else if (op.startsWith('microsoft.security/automations/') && (m = AUTOMATION.exec(id)))
    // Our automation lives in the automation resource group; the defender-export target is named by that group.
    object = { type: 'automation', on: `/subscriptions/${m[1]!}/resourcegroups/${ctx.automationResourceGroup.toLowerCase()}`, name: m[2]! };
  if (!object) return undefined;
  const evidence: TamperEvidence = {
    uid,
    at: ev.time,
    operation: op,
    kind: verb,
    objectType: object.type,
    objectId: id,
    objectName: object.name,
    on: object.on,
    caller: callerOf(ev),
    callerIp: isObj(ev.src_endpoint) ? text(ev.src_endpoint.ip, 64) : undefined,
    correlationId: isObj(api?.request) ? text(api.request.uid, 128) : undefined,
    originalUid: text(ev.metadata.original_event_uid, 128),
    ...(ctx.prefix && object.name.toLowerCase().startsWith(`${ctx.prefix.toLowerCase()}-`) ? { ours: true } : {}),
  };
  // Evidence that does not fit its schema (an absurdly long name) is dropped; the target is still reconciled. So is
  // evidence dated far from when it arrived: the record's time is the sender's word, the ingest time is ours, and an
  // activity-log record reaches the hub minutes after the change (Azure Monitor: typically 3-20 minutes). A back- or
  // future-dated record must not match a repair it has nothing to do with, nor outrank real evidence.
  const processed = typeof ev.metadata.processed_time === 'number' ? ev.metadata.processed_time : undefined;
  const from = ctx.arrival?.from ?? processed;
  const to = ctx.arrival?.to ?? processed;
  if (from !== undefined && to !== undefined && (ev.time < from - EVIDENCE_MAX_AGE_MS || ev.time > to + EVIDENCE_MAX_AHEAD_MS)) return { uid, subscriptionId: sub, resourceId: object.on };
  const checked = tamperEvidenceSchema.safeParse(dropUndefined(evidence));
  return { uid, subscriptionId: sub, resourceId: object.on, ...(checked.success ? { evidence: checked.data } : {}) };
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Signals of a batch's events, one per event that is a change (see changeSignalOf). */
export function changeSignals(events: readonly OcsfEvent[], ctx: SignalContext): ChangeSignal[] {
  if (ctx.knownSubscriptions.size === 0) return [];
  const out: ChangeSignal[] = [];
  for (const ev of events) {
    const s = changeSignalOf(ev, ctx);
    if (s) out.push(s);
  }
  return out;
}
