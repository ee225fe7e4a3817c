import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { conflictBackoff, ConnectorError, isConflict } from '../errors.js';
import { tamperEvidenceSchema, type ChangeSignal, type TamperEvidence } from './changeSignals.js';
import { emptyScope, mergeScopes, subscriptionOf, targetScopeSchema, type TargetScope } from './targetScope.js';

/**
 * Coalescing of change signals into targeted work items, across ingest batches and instances: one pending
 * marker per tenant (a Table storage row, written only with its etag).
 *
 * - The first signal of a tenant creates the marker (`pending`, a new item id, due after the delay) and the caller
 *   sends one queue message for it, invisible for that delay.
 * - Signals until the item is claimed join the marker (scope and evidence merged): a deployment creating 50
 *   accounts becomes one item, whichever instance saw which record.
 * - The queue handler claims the marker (`claimed`); the next signal starts a new item. The last claimed item is
 *   kept as `previous`, so a redelivered message still gets everything that joined it.
 * - Redeliveries: the marker remembers the uids of signals it took (an hour, up to SEEN_MAX); a signal seen before
 *   adds nothing and sends nothing.
 * - A pending marker whose message never came (the send failed after the marker was written) is taken over by the
 *   next signal after ORPHAN_MS: a new item carrying its scope.
 */
export const SEEN_TTL_MS = 60 * 60_000;
export const SEEN_MAX = 2000;
export const MAX_EVIDENCE = 20;
export const ORPHAN_MS = 10 * 60_000;

export const workSchema = z.object({ scope: targetScopeSchema, evidence: z.array(tamperEvidenceSchema).max(MAX_EVIDENCE) }).strict();
export type Work = z.infer<typeof workSchema>;

export const markerSchema = z
  .object({
    itemId: z.string().min(1).max(64),
    state: z.enum(['pending', 'claimed']),
    /** ms epoch when the item's message becomes visible. */
    dueAt: z.number(),
    work: workSchema,
    /** Signal uid (16 characters of its hash) → ms epoch it was taken. */
    seen: z.record(z.string(), z.number()),
    previous: z.object({ itemId: z.string(), work: workSchema }).strict().optional(),
  })
  .strict();
export type Marker = z.infer<typeof markerSchema>;

/** The marker row store: get, create (conflict if it exists), replace (conflict unless the etag matches). */
export interface MarkerTable {
  get(tenantId: string): Promise<{ marker: Marker; etag: string } | undefined>;
  create(tenantId: string, marker: Marker): Promise<void>;
  replace(tenantId: string, marker: Marker, etag: string): Promise<void>;
}

export interface NewItem {
  itemId: string;
  work: Work;
}

export interface AddResult {
  /** An item the caller must now send (visible after the delay); absent when the signals joined a pending one. */
  send?: NewItem;
  /** Signals taken (merged into the pending item or starting a new one). */
  taken: number;
  /** Signals seen before (redeliveries, or repeats within the batch). */
  duplicates: number;
}

export interface PendingWork {
  add(tenantId: string, signals: readonly ChangeSignal[]): Promise<AddResult>;
  /** The work of an item when its message arrives; undefined when the marker no longer knows the item. */
  claim(tenantId: string, itemId: string): Promise<Work | undefined>;
  /** The item's message could not be sent: let the next signal take the marker over at once. */
  abandon(tenantId: string, itemId: string): Promise<void>;
}

const seenKey = (uid: string) => createHash('sha256').update(uid).digest('base64url').slice(0, 16);
const MAX_ATTEMPTS = 20;

/** The work the signals ask for (pure). */
export function workOf(signals: readonly ChangeSignal[]): Work {
  const scope: TargetScope = emptyScope();
  for (const s of signals) {
    if (s.resourceId) scope.resourceIds.push(s.resourceId);
    if (s.newSubscriptions) scope.newSubscriptions = true;
  }
  return { scope: mergeScopes(scope, emptyScope()), evidence: pickEvidence([], signals.flatMap((s) => (s.evidence ? [s.evidence] : []))) };
}

/** Union of two works (pure): scopes merged within their limits, evidence deduplicated and capped. */
export function mergeWork(a: Work, b: Work): Work {
  return { scope: mergeScopes(a.scope, b.scope), evidence: pickEvidence(a.evidence, b.evidence) };
}

/**
 * Evidence kept when there is more than MAX_EVIDENCE: about objects named as ours first (a flood of records about
 * anything else cannot push out the one that matters), then deletes (the blinding move), then the latest.
 */
function pickEvidence(a: readonly TamperEvidence[], b: readonly TamperEvidence[]): TamperEvidence[] {
  const byUid = new Map<string, TamperEvidence>();
  for (const e of [...a, ...b]) byUid.set(e.uid, e);
  const rank = (e: TamperEvidence) => (e.ours ? 0 : 2) + (e.kind === 'delete' ? 0 : 1);
  return [...byUid.values()].sort((x, y) => rank(x) - rank(y) || y.at - x.at).slice(0, MAX_EVIDENCE);
}

/**
 * What one marker may hold, in JSON characters: a Table storage entity takes 450,000 in its string properties
 * (pendingWorkTable.ts), less room for the row's own columns. SCOPE_LIMITS count resource ids, but an id may be 1,024
 * characters long: 500 of them, the previous item's work and 2,000 seen uids did not fit, and every later signal of
 * the tenant failed for an hour (found in review, 2026-12-03). So a marker over the budget is made coarser, in this
 * order, until it fits: the previous item's work (already sent) reduced to whole subscriptions; seen uids cut to the
 * newest 200; this item's resources reduced to their whole subscriptions (evidence kept); its evidence dropped; the
 * whole tenant. Coarser means more is read, never that a change is missed.
 */
export const MARKER_MAX_CHARS = 420_000;

const wholeSubscriptions = (w: Work, keepEvidence: boolean): Work => ({
  evidence: keepEvidence ? w.evidence : [],
  scope: mergeScopes({ ...emptyScope(), subscriptionIds: [...new Set(w.scope.resourceIds.map(subscriptionOf))], newSubscriptions: w.scope.newSubscriptions, all: w.scope.all }, { ...w.scope, resourceIds: [] }),
});

export function fitMarker(marker: Marker): Marker {
  const size = (m: Marker) => JSON.stringify(m).length;
  if (size(marker) <= MARKER_MAX_CHARS) return marker;
  const steps: ((m: Marker) => Marker)[] = [
    (m) => (m.previous ? { ...m, previous: { itemId: m.previous.itemId, work: wholeSubscriptions(m.previous.work, false) } } : m),
    (m) => ({ ...m, seen: Object.fromEntries(Object.entries(m.seen).sort((x, y) => y[1] - x[1]).slice(0, 200)) }),
    (m) => ({ ...m, work: wholeSubscriptions(m.work, true) }),
    (m) => ({ ...m, work: { ...m.work, evidence: [] } }),
    (m) => ({ ...m, work: { evidence: [], scope: { ...emptyScope(), all: true } } }),
    (m) => {
      const { previous: _p, ...rest } = m;
      return rest;
    },
  ];
  let m = marker;
  for (const step of steps) {
    m = step(m);
    if (size(m) <= MARKER_MAX_CHARS) return m;
  }
  return m;
}

function pruneSeen(seen: Readonly<Record<string, number>>, now: number): Record<string, number> {
  const kept = Object.entries(seen).filter(([, at]) => now - at < SEEN_TTL_MS);
  kept.sort((x, y) => y[1] - x[1]);
  return Object.fromEntries(kept.slice(0, SEEN_MAX));
}

export function createPendingWork(table: MarkerTable, opts: { delayMs: number; now?: () => number; newItemId?: () => string }): PendingWork {
  const now = opts.now ?? Date.now;
  const newItemId = opts.newItemId ?? (() => randomUUID().replace(/-/g, ''));
  return {
    async add(tenantId, signals) {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const t = now();
        const cur = await table.get(tenantId);
        const seen = new Set(Object.keys(cur?.marker.seen ?? {}));
        const fresh: ChangeSignal[] = [];
        for (const s of signals) {
          const k = seenKey(s.uid);
          if (seen.has(k)) continue;
          seen.add(k);
          fresh.push(s);
        }
        if (fresh.length === 0) return { taken: 0, duplicates: signals.length };
        const mark = { ...pruneSeen(cur?.marker.seen ?? {}, t), ...Object.fromEntries(fresh.map((s) => [seenKey(s.uid), t])) };
        const work = workOf(fresh);
        try {
          const m = cur?.marker;
          if (cur && m && m.state === 'pending' && t <= m.dueAt + ORPHAN_MS) {
            await table.replace(tenantId, fitMarker({ ...m, work: mergeWork(m.work, work), seen: mark }), cur.etag);
            return { taken: fresh.length, duplicates: signals.length - fresh.length };
          }
          // No item waiting: start one. An orphaned pending item's work comes along; a claimed one stays as `previous`.
          const itemId = newItemId();
          const next: Marker = fitMarker({
            itemId,
            state: 'pending',
            dueAt: t + opts.delayMs,
            work: m?.state === 'pending' ? mergeWork(m.work, work) : work,
            seen: mark,
            ...(m?.state === 'claimed' ? { previous: { itemId: m.itemId, work: m.work } } : m?.previous ? { previous: m.previous } : {}),
          });
          if (cur) await table.replace(tenantId, next, cur.etag);
          else await table.create(tenantId, next);
          return { send: { itemId, work: next.work }, taken: fresh.length, duplicates: signals.length - fresh.length };
        } catch (e) {
          if (!isConflict(e)) throw e;
          await conflictBackoff(attempt, 200); // another instance changed the marker first: read it again
        }
      }
      throw new ConnectorError('transient', `pending work of tenant ${tenantId}: gave up after ${MAX_ATTEMPTS} conflicting updates`);
    },

    async claim(tenantId, itemId) {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const cur = await table.get(tenantId);
        if (!cur) return undefined;
        const m = cur.marker;
        if (m.previous?.itemId === itemId) return m.previous.work; // a redelivery after the next item started
        if (m.itemId !== itemId) return undefined;
        if (m.state === 'claimed') return m.work; // a redelivery
        try {
          await table.replace(tenantId, { ...m, state: 'claimed' }, cur.etag);
          return m.work;
        } catch (e) {
          if (!isConflict(e)) throw e;
          await conflictBackoff(attempt, 200); // a signal joined meanwhile: claim what it left
        }
      }
      throw new ConnectorError('transient', `pending work of tenant ${tenantId}: could not claim item ${itemId}`);
    },

    async abandon(tenantId, itemId) {
      const cur = await table.get(tenantId);
      if (!cur || cur.marker.itemId !== itemId || cur.marker.state !== 'pending') return;
      await table.replace(tenantId, { ...cur.marker, dueAt: -ORPHAN_MS - 1 }, cur.etag).catch((e: unknown) => {
        if (!isConflict(e)) throw e;
      });
    },
  };
}

/** In-memory marker table with etags (unit tests, the CLI). */
export function createMemoryMarkerTable(): MarkerTable {
  const rows = new Map<string, { marker: Marker; etag: string }>();
  let n = 0;
  const clone = (m: Marker): Marker => structuredClone(m);
  return {
    get: (tenantId) => {
      const r = rows.get(tenantId);
      return Promise.resolve(r ? { marker: clone(r.marker), etag: r.etag } : undefined);
    },
    create: (tenantId, marker) => {
      if (rows.has(tenantId)) return Promise.reject(new ConnectorError('conflict', `marker of ${tenantId} exists`));
      rows.set(tenantId, { marker: clone(markerSchema.parse(marker)), etag: String(++n) });
      return Promise.resolve();
    },
    replace: (tenantId, marker, etag) => {
      if (rows.get(tenantId)?.etag !== etag) return Promise.reject(new ConnectorError('conflict', `marker of ${tenantId} changed`));
      rows.set(tenantId, { marker: clone(markerSchema.parse(marker)), etag: String(++n) });
      return Promise.resolve();
    },
  };
}
