import type { OcsfEvent } from '../ingest/types.js';
import { silentLogger } from '../log.js';
import { sameId, type PlannedAction } from '../reconcile/plan.js';
import { reconcileTenant, type ReconcileDeps, type ReconcileReport } from '../reconcile/reconcileTenant.js';
import { coverageKey, type CoverageEntry, type TenantRecord } from '../registry/types.js';
import type { TamperEvidence } from './changeSignals.js';
import type { PendingWork, Work } from './pendingWork.js';
import { targetedMessage, type TargetedWork } from './signalSink.js';
import { tamperFinding, tamperFindingUid, type TamperRepair } from './tamperFinding.js';
import { emptyScope, inScope, isEmptyScope, scopeSubscriptions } from './targetScope.js';
import type { WorkQueue } from './workQueue.js';

/**
 * The queue side of event-driven coverage: one targeted work item → claim its pending marker (everything that joined
 * it) → reconcile just those targets with the same observe/plan/apply/ledger path as a full run (reconcileTenant's
 * `targeted` mode, so every ownership rule of a full run applies) → tamper findings for changes by others that the
 * run had to undo → findings written, then recorded in the ledger.
 */
export interface TargetedRunExtras {
  /** Absent: the message's own snapshot of the work is used. */
  pending?: PendingWork;
  /** Writes Detection Findings to the OCSF outputs (blob and/or downstream hub). Absent: findings are only logged. */
  writeFindings?: (tenantId: string, findings: OcsfEvent[]) => Promise<void>;
  /** The reconcile queue, for the one retry of resources discovery did not list yet. */
  requeue?: WorkQueue;
  /** Object/client ids of the app's identity: their changes are never tamper (settings.eventDriven.selfPrincipalIds). */
  self?: ReadonlySet<string>;
}

export interface TargetedRunResult {
  report: ReconcileReport | undefined;
  findings: OcsfEvent[];
  /** Named resources the run found no target for (requeued once: Resource Graph can lag a fresh resource). */
  unseen: string[];
}

/** Resource Graph shows 95% of changes within 30 s (Azure/azure-dev#540, quoting the service's target): retry after a minute. */
export const UNSEEN_RETRY_SECONDS = 60;
/** A repair that failed is tried again after the SDK's own retries gave up: give the service five minutes. */
export const REPAIR_RETRY_SECONDS = 300;

const REPAIRS = new Set<PlannedAction['kind']>(['create', 'update']);

/**
 * Was this change undone by us? Yes when this run re-created or updated an object of that name on that target
 * (the plan decided it is ours and wrong), or — when the app knows its own identity — the ledger shows we re-wrote
 * that object after the change (the timer got there first). Without `self` that second test cannot tell a stranger's
 * change from the event of our own re-write (both precede wroteAt), so it is not made. A change by the app itself,
 * or one nothing had to undo, is no tamper.
 */
export function repairOf(e: TamperEvidence, plan: readonly PlannedAction[], before: readonly CoverageEntry[], self: ReadonlySet<string>, now: number): TamperRepair | undefined {
  if ((e.caller?.uid && self.has(e.caller.uid)) || (e.caller?.appId && self.has(e.caller.appId))) return undefined;
  const name = e.objectName.toLowerCase();
  // Only what undid a change to an object of ours: an update, or a re-creation (the plan says `repaired`, or the ledger
  // held that name). A first creation, however a record names it, undoes nothing.
  const ownedBefore = (resourceId: string) => before.some((x) => sameId(x.resourceId, resourceId) && (x.ownedNames ?? []).some((n) => n.toLowerCase().split('/').pop() === name));
  const a = plan.find((x) => REPAIRS.has(x.kind) && sameId(x.resourceId, e.on) && x.name.toLowerCase() === name && (x.kind === 'update' || x.coverage === 'repaired' || ownedBefore(x.resourceId)));
  if (a) return { target: a.target, resourceId: a.resourceId, subscriptionId: a.subscriptionId, name: a.name, reason: a.reason, at: now, now: true };
  if (self.size === 0) return undefined;
  // `repaired` only: a `created` entry is a first creation, which no earlier change can have needed.
  const prev = before.find((x) => sameId(x.resourceId, e.on) && x.state === 'repaired' && x.settingName?.toLowerCase() === name && x.wroteAt !== undefined && Date.parse(x.wroteAt) >= e.at);
  if (prev) return { target: prev.target, resourceId: prev.resourceId, subscriptionId: prev.subscriptionId, name: prev.settingName!, reason: prev.detail ?? prev.state, at: Date.parse(prev.wroteAt!), now: false };
  return undefined;
}

export async function runTargetedWorkItem(tenant: TenantRecord, item: TargetedWork, deps: ReconcileDeps & TargetedRunExtras): Promise<TargetedRunResult> {
  const log = (deps.logger ?? silentLogger).child({ tenantId: tenant.tenantId, itemId: item.itemId });
  const now = deps.now ?? (() => new Date());
  const claimed: Work | undefined = deps.pending ? await deps.pending.claim(tenant.tenantId, item.itemId) : undefined;
  const work = claimed ?? item.work;
  if (isEmptyScope(work.scope)) return { report: undefined, findings: [], unseen: [] };
  const before = work.evidence.length > 0 ? await deps.registry.listCoverage(tenant.tenantId) : [];
  const report = await reconcileTenant(tenant, deps, { targeted: work.scope, subscriptionIds: scopeSubscriptions(work.scope) });

  const self = deps.self ?? new Set<string>();
  const findings: { event: OcsfEvent; evidence: TamperEvidence; repair: TamperRepair }[] = [];
  for (const e of work.evidence) {
    const repair = repairOf(e, report.plan, before, self, now().getTime());
    if (!repair) continue;
    const uid = tamperFindingUid(tenant.tenantId, e.uid);
    // Already reported and recorded by an earlier delivery of this item.
    if (before.some((x) => x.tamper?.findingUid === uid)) continue;
    findings.push({ event: tamperFinding(tenant.tenantId, e, repair, now().getTime()), evidence: e, repair });
  }
  if (findings.length > 0) {
    // Findings first: if recording fails, the redelivered item finds the repair in the ledger and reports again (same uid).
    if (deps.writeFindings) await deps.writeFindings(tenant.tenantId, findings.map((f) => f.event));
    await recordTamper(tenant.tenantId, findings, deps);
    for (const f of findings) log.warn('eventDriven.tamper', { findingUid: f.event.metadata.uid, operation: f.evidence.operation, object: f.evidence.objectId, caller: f.evidence.caller?.name ?? f.evidence.caller?.uid, callerIp: f.evidence.callerIp, repairedNow: f.repair.now });
  }

  // Evidence on a target this run could not repair (a 5xx after the SDK's retries, a refusal): the finding waits for the
  // repair, so the evidence goes back on the queue once, with its target; a second failure is logged as an error, as
  // is nothing to requeue with. Otherwise the timer's later repair would raise no finding and the evidence would be lost.
  const failedOn = report.plan.filter((a) => a.coverage === 'failed' || a.coverage === 'forbidden');
  const stuck = work.evidence.filter((e) => failedOn.some((a) => sameId(a.resourceId, e.on)) && !findings.some((f) => f.evidence.uid === e.uid));
  if (stuck.length > 0) {
    if (item.attempt !== 2 && deps.requeue) {
      const retry = { scope: { ...emptyScope(), resourceIds: [...new Set(stuck.map((e) => e.on))] }, evidence: stuck };
      await deps.requeue.send(targetedMessage(tenant.tenantId, { itemId: `${item.itemId.slice(0, 62)}f2`, work: retry }, 2), REPAIR_RETRY_SECONDS);
      log.warn('eventDriven.repairRetryQueued', { evidence: stuck.length, targets: retry.scope.resourceIds.length });
    } else
      log.error('eventDriven.tamperUnrepaired', { evidence: stuck.map((e) => ({ operation: e.operation, object: e.objectId, caller: e.caller?.name ?? e.caller?.uid, at: new Date(e.at).toISOString() })), reasons: failedOn.map((a) => a.detail ?? a.reason) });
  }

  // Named resources without a target in the plan: not (yet) in Resource Graph, or deleted since. One retry.
  const unseen = report.result === 'failed' ? [] : work.scope.resourceIds.filter((id) => !report.plan.some((a) => inScope(a, { ...emptyScope(), resourceIds: [id] })));
  if (unseen.length > 0 && item.attempt !== 2 && deps.requeue) {
    await deps.requeue.send(targetedMessage(tenant.tenantId, { itemId: `${item.itemId.slice(0, 62)}r2`, work: { scope: { ...emptyScope(), resourceIds: unseen }, evidence: [] } }, 2), UNSEEN_RETRY_SECONDS);
    log.info('eventDriven.requeued', { unseen: unseen.length });
  }
  log.info('eventDriven.targeted', { resources: work.scope.resourceIds.length, subscriptions: work.scope.subscriptionIds.length, newSubscriptions: work.scope.newSubscriptions, all: work.scope.all, plan: report.plan.length, counts: report.counts, findings: findings.length, claimed: claimed !== undefined });
  return { report, findings: findings.map((f) => f.event), unseen };
}

/** The ledger entry of each repaired target gets the tamper that its finding reported. */
async function recordTamper(tenantId: string, findings: readonly { event: OcsfEvent; evidence: TamperEvidence; repair: TamperRepair }[], deps: ReconcileDeps): Promise<void> {
  const ledger = await deps.registry.listCoverage(tenantId);
  const updated = new Map<string, CoverageEntry>();
  for (const f of findings) {
    const key = coverageKey(f.repair);
    const entry = updated.get(key) ?? ledger.find((x) => x.target === f.repair.target && sameId(x.resourceId, f.repair.resourceId));
    if (!entry || (entry.tamper && Date.parse(entry.tamper.at) > f.evidence.at)) continue; // keep the latest tamper
    updated.set(key, {
      ...entry,
      tamper: {
        at: new Date(f.evidence.at).toISOString(),
        operation: f.evidence.operation,
        object: f.evidence.objectId,
        ...(f.evidence.caller?.name ?? f.evidence.caller?.uid ? { caller: f.evidence.caller?.name ?? f.evidence.caller?.uid } : {}),
        ...(f.evidence.callerIp ? { callerIp: f.evidence.callerIp } : {}),
        findingUid: f.event.metadata.uid,
        repairedAt: new Date(f.repair.at).toISOString(),
      },
    });
  }
  if (updated.size > 0) await deps.registry.putCoverage(tenantId, [...updated.values()]);
}
