import { describe, expect, it } from 'vitest';
import { emptyScope, inScope, mergeScopes, SCOPE_LIMITS, scopeSubscriptions, type TargetScope } from '../../../src/lib/eventDriven/targetScope.js';

const S1 = 'aaaaaaaa-1111-0000-0000-000000000001';
const S2 = 'aaaaaaaa-2222-0000-0000-000000000002';
const ACCT = `/subscriptions/${S1}/resourcegroups/app/providers/microsoft.storage/storageaccounts/acct`;
const scope = (over: Partial<TargetScope>): TargetScope => ({ ...emptyScope(), ...over });
const item = (resourceId: string, subscriptionId = S1) => ({ resourceId, subscriptionId });

describe('target scope', () => {
  it("covers a named storage account's services, whatever the casing, but not its neighbours", () => {
    const s = scope({ resourceIds: [ACCT] });
    expect(inScope(item(`${ACCT.toUpperCase()}/blobServices/default`), s)).toBe(true);
    expect(inScope(item(`${ACCT}/fileServices/default`), s)).toBe(true);
    expect(inScope(item(`${ACCT}2/blobServices/default`), s)).toBe(false);
    expect(inScope(item(`/subscriptions/${S1}`), s)).toBe(false);
  });

  it('lets a subscription or resource group id name only itself, not everything under it', () => {
    const s = scope({ resourceIds: [`/subscriptions/${S1}`, `/subscriptions/${S1}/resourcegroups/mdrautomation`] });
    expect(inScope(item(`/subscriptions/${S1}`), s)).toBe(true);
    expect(inScope(item(`/subscriptions/${S1}/resourceGroups/MDRAutomation`), s)).toBe(true);
    expect(inScope(item(`/subscriptions/${S1}/resourceGroups/MDRAutomation/providers/Microsoft.KeyVault/vaults/v`), s)).toBe(false);
    expect(inScope(item(`${ACCT}/blobServices/default`), s)).toBe(false);
  });

  it('takes every target of a whole subscription, and of subscriptions the ledger does not know when asked for new ones', () => {
    expect(inScope(item(`${ACCT}/blobServices/default`), scope({ subscriptionIds: [S1] }))).toBe(true);
    expect(inScope(item(`/subscriptions/${S2}`, S2), scope({ subscriptionIds: [S1] }))).toBe(false);
    const fresh = scope({ newSubscriptions: true });
    expect(inScope(item(`/subscriptions/${S2}`, S2), fresh, new Set([S1]))).toBe(true);
    expect(inScope(item(`/subscriptions/${S1}`), fresh, new Set([S1]))).toBe(false);
  });

  it('asks discovery for just the named subscriptions, or all of them when new ones are wanted', () => {
    expect(scopeSubscriptions(scope({ resourceIds: [ACCT], subscriptionIds: [S2] }))).toEqual([S1, S2]);
    expect(scopeSubscriptions(scope({ resourceIds: [ACCT], newSubscriptions: true }))).toBeUndefined();
    expect(scopeSubscriptions(scope({ all: true }))).toBeUndefined();
  });

  it('merges scopes and turns a subscription with too many named resources into a whole subscription', () => {
    const many = Array.from({ length: SCOPE_LIMITS.resourceIdsPerSubscription + 1 }, (_, i) => `${ACCT}${i}`);
    const m = mergeScopes(scope({ resourceIds: many.slice(0, 10) }), scope({ resourceIds: [...many.slice(5), `/subscriptions/${S2}`] }));
    expect(m.subscriptionIds).toEqual([S1]);
    expect(m.resourceIds).toEqual([`/subscriptions/${S2}`]);
    const small = mergeScopes(scope({ resourceIds: [ACCT] }), scope({ resourceIds: [ACCT, `/subscriptions/${S2}`], newSubscriptions: true }));
    expect(small).toEqual({ resourceIds: [ACCT, `/subscriptions/${S2}`], subscriptionIds: [], newSubscriptions: true, all: false });
  });

  it('keeps the total of named resources within its limit by taking the busiest subscriptions whole', () => {
    // Each subscription stays under its own limit; together they exceed the total.
    const per = SCOPE_LIMITS.resourceIdsPerSubscription - 5;
    const n = Math.ceil(SCOPE_LIMITS.resourceIds / per) + 1;
    const subs = Array.from({ length: n }, (_, i) => `aaaaaaaa-${String(i).padStart(4, '0')}-0000-0000-000000000001`);
    const ids = subs.flatMap((s, i) => Array.from({ length: per - (i === 0 ? 0 : 1) }, (_, k) => `/subscriptions/${s}/resourcegroups/g/providers/microsoft.keyvault/vaults/v${k}`));
    expect(ids.length).toBeGreaterThan(SCOPE_LIMITS.resourceIds);
    const m = mergeScopes(scope({ resourceIds: ids }), emptyScope());
    expect(m.resourceIds.length).toBeLessThanOrEqual(SCOPE_LIMITS.resourceIds);
    // Every named resource is still covered, either named or by its whole subscription.
    for (const id of ids) expect(inScope(item(id, id.split('/')[2]!), m)).toBe(true);
    // The busiest went whole first, and no more of them than it took to get under the limit.
    expect(m.subscriptionIds[0]).toBe(subs[0]);
    let left = ids.length;
    let needed = 0;
    for (const s of subs) {
      if (left <= SCOPE_LIMITS.resourceIds) break;
      left -= ids.filter((id) => id.includes(s)).length;
      needed++;
    }
    expect(m.subscriptionIds).toHaveLength(needed);
  });
});
