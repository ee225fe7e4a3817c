import { TableClient } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { createPendingWork, fitMarker, MARKER_MAX_CHARS, type Marker } from '../../../src/lib/eventDriven/pendingWork.js';
import { createTableMarkerTable } from '../../../src/lib/eventDriven/pendingWorkTable.js';
import type { ChangeSignal } from '../../../src/lib/eventDriven/changeSignals.js';
import { useAzurite } from '../../support/azurite.js';

/**
 * Found in review (2026-12-03): scope limits count resource ids, not their length. 460 ids of ~1,000 characters did
 * not fit one Table entity (the batch's signals were dropped), and a claimed item near the limit kept every later
 * signal of the tenant failing for an hour. Against Azurite, which enforces Table storage's property and entity sizes.
 */
const az = useAzurite();
const T = 'aaaaaaaa-0000-0000-0000-000000000001';
const subs = Array.from({ length: 10 }, (_, i) => `00000000-0000-0000-0000-0000000000${String(i).padStart(2, '0')}`);
const longId = (i: number) => `/subscriptions/${subs[i % 10]}/resourcegroups/${'r'.repeat(900)}/providers/microsoft.storage/storageaccounts/a${i}`;
let uid = 0;
const signals = (n: number, id = longId): ChangeSignal[] => Array.from({ length: n }, (_, i) => ({ uid: `u${++uid}`, subscriptionId: subs[i % 10]!, resourceId: id(i) }));

describe('pending work near the size of a table entity', () => {
  it('takes bursts of long resource ids, and a real signal after them, coarsening the marker instead of failing', async () => {
    let now = 1_000_000;
    const table = createTableMarkerTable({ tablePrefix: `mk${Date.now() % 100000}`, client: (name) => TableClient.fromConnectionString(az.connectionString, name, { allowInsecureConnection: true }) });
    const pending = createPendingWork(table, { delayMs: 10_000, now: () => now });
    const first = await pending.add(T, signals(460));
    expect(first.send).toBeDefined();
    expect(await pending.claim(T, first.send!.itemId)).toBeDefined();
    for (const later of [0, 15 * 60_000]) {
      now = 1_000_000 + later;
      const burst = await pending.add(T, signals(460));
      expect(burst.taken).toBe(460);
      const real = await pending.add(T, signals(1, () => `/subscriptions/${subs[0]}/resourcegroups/app/providers/microsoft.keyvault/vaults/kv`));
      expect(real.taken).toBe(1);
      const m = (await table.get(T))!.marker;
      expect(JSON.stringify(m).length).toBeLessThanOrEqual(MARKER_MAX_CHARS);
      // Nothing is missed: the vault, or its whole subscription, is in the item's scope.
      expect(m.work.scope.resourceIds.includes(`/subscriptions/${subs[0]}/resourcegroups/app/providers/microsoft.keyvault/vaults/kv`) || m.work.scope.subscriptionIds.includes(subs[0]!) || m.work.scope.all).toBe(true);
      const item = m.itemId;
      expect(await pending.claim(T, item)).toBeDefined();
    }
  });

  it('fitMarker leaves a marker within the budget as it is', () => {
    const m: Marker = { itemId: 'i', state: 'pending', dueAt: 0, work: { scope: { resourceIds: [longId(1)], subscriptionIds: [], newSubscriptions: false, all: false }, evidence: [] }, seen: {} };
    expect(fitMarker(m)).toBe(m);
  });
});
