import { z } from 'zod';
import type { OcsfEvent } from '../ingest/types.js';
import { changeSignals, type SignalContext } from './changeSignals.js';
import { workSchema, type AddResult, type NewItem, type PendingWork, type Work } from './pendingWork.js';
import { emptyScope, mergeScopes, subscriptionOf } from './targetScope.js';
import { MAX_MESSAGE_JSON_BYTES, type WorkQueue } from './workQueue.js';

/**
 * Ingest's side of event-driven coverage: the change signals of a batch's events → the tenant's pending item
 * (coalescing, redelivery) → at most one queue message per new item, visible after the coalescing delay.
 */

/** The `targeted` member of a reconcile work item (fanOut.ts reconcileWorkItemSchema). */
export const targetedWorkSchema = z
  .object({
    itemId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected an item id of letters, digits, - or _'),
    /** The work when the item was sent; the pending marker holds what joined it since. */
    work: workSchema,
    /** 2 = the retry of named resources discovery did not list yet (Resource Graph lag); never retried again. */
    attempt: z.number().int().min(1).max(2).optional(),
  })
  .strict();
export type TargetedWork = z.infer<typeof targetedWorkSchema>;

/** The queue message of an item, trimmed to fit a message: without evidence, then subscriptions whole, then the whole tenant. */
export function targetedMessage(tenantId: string, item: NewItem, attempt?: 2): { tenantId: string; targeted: TargetedWork } {
  const fits = (w: Work) => Buffer.byteLength(JSON.stringify({ tenantId, targeted: { itemId: item.itemId, work: w, attempt } }), 'utf8') <= MAX_MESSAGE_JSON_BYTES;
  const subsWhole = (w: Work): Work => ({ evidence: [], scope: mergeScopes({ ...emptyScope(), subscriptionIds: [...new Set(w.scope.resourceIds.map(subscriptionOf))], newSubscriptions: w.scope.newSubscriptions }, { ...w.scope, resourceIds: [] }) });
  const candidates: Work[] = [item.work, { ...item.work, evidence: [] }, subsWhole(item.work), { evidence: [], scope: { ...emptyScope(), all: true } }];
  const work = candidates.find(fits)!;
  return { tenantId, targeted: { itemId: item.itemId, work, ...(attempt ? { attempt } : {}) } };
}

export interface SignalSinkDeps {
  pending: PendingWork;
  queue: WorkQueue;
  delaySeconds: number;
}

export type SignalSink = (tenantId: string, events: readonly OcsfEvent[], ctx: Omit<SignalContext, 'tenantId'>) => Promise<AddResult & { signals: number }>;

export function createSignalSink(deps: SignalSinkDeps): SignalSink {
  return async (tenantId, events, ctx) => {
    const signals = changeSignals(events, { ...ctx, tenantId });
    if (signals.length === 0) return { signals: 0, taken: 0, duplicates: 0 };
    const r = await deps.pending.add(tenantId, signals);
    if (r.send) {
      try {
        await deps.queue.send(targetedMessage(tenantId, r.send), deps.delaySeconds);
      } catch (e) {
        // Let the next signal start over instead of joining an item whose message never went out.
        await deps.pending.abandon(tenantId, r.send.itemId).catch(() => undefined);
        throw e;
      }
    }
    return { ...r, signals: signals.length };
  };
}
