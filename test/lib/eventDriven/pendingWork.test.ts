import { describe, expect, it } from 'vitest';
import type { ChangeSignal, TamperEvidence } from '../../../src/lib/eventDriven/changeSignals.js';
import { createMemoryMarkerTable, createPendingWork, MAX_EVIDENCE, ORPHAN_MS } from '../../../src/lib/eventDriven/pendingWork.js';

/** Coalescing of change signals into work items, on the in-memory marker table (same etag rules as Table storage). */
const T = 'aaaaaaaa-0000-0000-0000-000000000001';
const S1 = 'aaaaaaaa-1111-0000-0000-000000000001';
const acct = (i: number) => `/subscriptions/${S1}/resourcegroups/app/providers/microsoft.storage/storageaccounts/a${i}`;
const uid = (i: number) => i.toString(16).padStart(32, '0');
const signal = (i: number, extra: Partial<ChangeSignal> = {}): ChangeSignal => ({ uid: uid(i), subscriptionId: S1, resourceId: acct(i), ...extra });
const evidence = (i: number, kind: 'write' | 'delete', at: number): TamperEvidence => ({
  uid: uid(1000 + i), at, operation: `microsoft.insights/diagnosticsettings/${kind}`, kind, objectType: 'diagnostic-setting', objectId: `/subscriptions/${S1}/providers/microsoft.insights/diagnosticsettings/s${i}`, objectName: `s${i}`, on: `/subscriptions/${S1}`,
});

function setup(start = 1_000_000) {
  let clock = start;
  let ids = 0;
  const table = createMemoryMarkerTable();
  const make = () => createPendingWork(table, { delayMs: 10_000, now: () => clock, newItemId: () => `item${++ids}` });
  return { table, make, advance: (ms: number) => (clock += ms) };
}

describe('pending work (coalescing change signals)', () => {
  it('turns a burst of 50 creations seen in many batches by two instances into one item', async () => {
    const { make } = setup();
    const a = make();
    const b = make(); // another instance: its own PendingWork, the same table
    const batches = Array.from({ length: 10 }, (_, k) => Array.from({ length: 5 }, (_, i) => signal(k * 5 + i)));
    const results = await Promise.all(batches.map((batch, k) => (k % 2 === 0 ? a : b).add(T, batch)));
    const sent = results.filter((r) => r.send);
    expect(sent).toHaveLength(1);
    expect(results.reduce((n, r) => n + r.taken, 0)).toBe(50);
    const work = await a.claim(T, sent[0]!.send!.itemId);
    expect(new Set(work?.scope.resourceIds)).toEqual(new Set(Array.from({ length: 50 }, (_, i) => acct(i))));
  });

  it('ignores a redelivered batch, before and after its item ran', async () => {
    const { make } = setup();
    const p = make();
    const batch = [signal(1), signal(2), signal(2)];
    const first = await p.add(T, batch);
    expect(first).toMatchObject({ taken: 2, duplicates: 1 });
    expect(await p.add(T, batch)).toEqual({ taken: 0, duplicates: 3 });
    await p.claim(T, first.send!.itemId);
    expect(await p.add(T, batch)).toEqual({ taken: 0, duplicates: 3 });
  });

  it('starts a new item once the pending one is claimed, and still serves the claimed one to a redelivery of its message', async () => {
    const { make } = setup();
    const p = make();
    const one = (await p.add(T, [signal(1)])).send!;
    expect((await p.add(T, [signal(2)])).send).toBeUndefined(); // joins item 1
    const claimed = await p.claim(T, one.itemId);
    expect(claimed?.scope.resourceIds).toEqual([acct(1), acct(2)]);
    const two = (await p.add(T, [signal(3)])).send!;
    expect(two.itemId).not.toBe(one.itemId);
    expect(two.work.scope.resourceIds).toEqual([acct(3)]);
    // Item 1's message delivered again: it gets everything that joined it.
    expect((await p.claim(T, one.itemId))?.scope.resourceIds).toEqual([acct(1), acct(2)]);
    expect(await p.claim(T, 'unknown')).toBeUndefined();
  });

  it('takes over an item whose message never went out, carrying its work', async () => {
    const { make, advance } = setup();
    const p = make();
    const lost = (await p.add(T, [signal(1)])).send!;
    advance(10_000 + ORPHAN_MS + 1);
    const next = (await p.add(T, [signal(2)])).send!;
    expect(next.itemId).not.toBe(lost.itemId);
    expect(next.work.scope.resourceIds).toEqual([acct(1), acct(2)]);
  });

  it('lets the next signal start over at once after a send failure was reported', async () => {
    const { make } = setup();
    const p = make();
    const failed = (await p.add(T, [signal(1)])).send!;
    await p.abandon(T, failed.itemId);
    const next = (await p.add(T, [signal(2)])).send!;
    expect(next.work.scope.resourceIds).toEqual([acct(1), acct(2)]);
  });

  it('keeps the deletes and the latest changes when evidence overflows', async () => {
    const { make } = setup();
    const p = make();
    const writes = Array.from({ length: MAX_EVIDENCE + 5 }, (_, i) => signal(i, { evidence: evidence(i, 'write', 1000 + i) }));
    const del = signal(99, { evidence: evidence(99, 'delete', 1) });
    const item = (await p.add(T, [...writes, del])).send!;
    expect(item.work.evidence).toHaveLength(MAX_EVIDENCE);
    expect(item.work.evidence[0]?.kind).toBe('delete');
    expect(item.work.evidence.some((e) => e.objectName === 's0')).toBe(false); // the oldest write gave way
  });

  it('keeps tenants apart', async () => {
    const { make } = setup();
    const p = make();
    const other = 'bbbbbbbb-0000-0000-0000-000000000002';
    const a = (await p.add(T, [signal(1)])).send!;
    const b = (await p.add(other, [signal(1)])).send!;
    expect(b).toBeDefined();
    expect(await p.claim(other, a.itemId)).toBeUndefined();
  });
});
