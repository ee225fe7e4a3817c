import { describe, expect, it } from 'vitest';
import { FEED_SKEW_MS, changeEvent, isNews, quietTargets, resyncDue, trustable, type ChangeEvent } from '../../../src/lib/reconcile/changeFeed.js';
import type { CoverageEntry } from '../../../src/lib/registry/types.js';

const SUB = '/subscriptions/11111111-1111-1111-1111-111111111111';
const ACCOUNT = `${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct`;
const BLOB = `${ACCOUNT}/blobServices/default`;
const QUEUE = `${ACCOUNT}/queueServices/default`;
const VAULT = `${SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv`;
const T0 = Date.parse('2026-11-27T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

function entry(resourceId: string, over: Partial<CoverageEntry> = {}): CoverageEntry & { observedAt: string } {
  return {
    tenantId: 't', resourceId, target: 'storage-diagnostics', subscriptionId: 's', region: 'westeurope', state: 'streaming', settingName: 'mdr-export',
    updatedAt: iso(T0), observedAt: iso(T0), desiredKey: 'k1', ...over,
  } as CoverageEntry & { observedAt: string };
}
const setting = (resourceId: string, name: string) => `${resourceId}/providers/microsoft.insights/diagnosticSettings/${name}`.toLowerCase();
const ev = (resourceId: string, operation: string, at: number): ChangeEvent => changeEvent(resourceId, operation, at);

describe('isNews: which activity-log events force a re-read of a target', () => {
  it('counts a delete or a foreign write of a setting on the target made after it was read', () => {
    expect(isNews(ev(setting(BLOB, 'mdr-export'), 'Microsoft.Insights/diagnosticSettings/delete', T0 + 60_000), BLOB, entry(BLOB))).toBe(true);
    expect(isNews(ev(setting(BLOB, 'customer-siem'), 'Microsoft.Insights/diagnosticSettings/write', T0 + 60_000), BLOB, entry(BLOB))).toBe(true);
  });

  it('ignores events older than the read, less the clock tolerance', () => {
    expect(isNews(ev(setting(BLOB, 'mdr-export'), 'Microsoft.Insights/diagnosticSettings/delete', T0 - FEED_SKEW_MS - 1), BLOB, entry(BLOB))).toBe(false);
    expect(isNews(ev(setting(BLOB, 'mdr-export'), 'Microsoft.Insights/diagnosticSettings/delete', T0 - FEED_SKEW_MS + 1), BLOB, entry(BLOB))).toBe(true);
  });

  it("ignores our own write of our setting, but not a change to it after our write finished", () => {
    const wrote = entry(BLOB, { wroteAt: iso(T0 + 500), state: 'created' });
    expect(isNews(ev(setting(BLOB, 'MDR-EXPORT'), 'Microsoft.Insights/diagnosticSettings/write', T0 + 300), BLOB, wrote)).toBe(false);
    expect(isNews(ev(setting(BLOB, 'mdr-export'), 'Microsoft.Insights/diagnosticSettings/write', T0 + 501), BLOB, wrote)).toBe(true);
    // a delete is never ours in a reconcile that only creates and updates it
    expect(isNews(ev(setting(BLOB, 'mdr-export'), 'Microsoft.Insights/diagnosticSettings/delete', T0 + 300), BLOB, wrote)).toBe(true);
  });

  it('keeps a setting event to the resource it sits on: a sibling service or the subscription are not touched', () => {
    expect(isNews(ev(setting(QUEUE, 'mdr-export'), 'Microsoft.Insights/diagnosticSettings/delete', T0 + 60_000), BLOB, entry(BLOB))).toBe(false);
    expect(isNews(ev(setting(SUB, 'mdr-export'), 'Microsoft.Insights/diagnosticSettings/delete', T0 + 60_000), BLOB, entry(BLOB))).toBe(false);
    expect(isNews(ev(setting(SUB, 'mdr-export'), 'Microsoft.Insights/diagnosticSettings/delete', T0 + 60_000), SUB, entry(SUB, { target: 'activity-log' }))).toBe(true);
  });

  it('counts a write or delete of the resource or a parent (re-created account), not its actions or its resource group', () => {
    expect(isNews(ev(ACCOUNT, 'Microsoft.Storage/storageAccounts/write', T0 + 60_000), BLOB, entry(BLOB))).toBe(true);
    expect(isNews(ev(VAULT, 'Microsoft.KeyVault/vaults/delete', T0 + 60_000), VAULT, entry(VAULT, { target: 'keyvault-diagnostics' }))).toBe(true);
    expect(isNews(ev(ACCOUNT, 'Microsoft.Storage/storageAccounts/listKeys/action', T0 + 60_000), BLOB, entry(BLOB))).toBe(false);
    expect(isNews(ev(`${SUB}/resourceGroups/rg`, 'Microsoft.Resources/subscriptions/resourceGroups/write', T0 + 60_000), BLOB, entry(BLOB))).toBe(false);
    expect(isNews(ev(`${ACCOUNT}2`, 'Microsoft.Storage/storageAccounts/write', T0 + 60_000), BLOB, entry(BLOB))).toBe(false);
  });
});

describe('quietTargets', () => {
  it('returns exactly the candidates no event is news for, whatever the event order', () => {
    const candidates = new Map([
      ['blob', { resourceId: BLOB, prev: entry(BLOB) }],
      ['queue', { resourceId: QUEUE, prev: entry(QUEUE) }],
      ['vault', { resourceId: VAULT, prev: entry(VAULT) }],
      ['sub', { resourceId: SUB, prev: entry(SUB) }],
    ]);
    const events = [
      ev(setting(QUEUE, 'mdr-export'), 'Microsoft.Insights/diagnosticSettings/delete', T0 + 1000),
      ev(VAULT, 'Microsoft.KeyVault/vaults/listKeys/action', T0 + 1000),
      ev(`${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/other`, 'Microsoft.Storage/storageAccounts/write', T0 + 1000),
    ];
    expect([...quietTargets(candidates, events)].sort()).toEqual(['blob', 'sub', 'vault']);
    expect([...quietTargets(candidates, [...events].reverse())].sort()).toEqual(['blob', 'sub', 'vault']);
    expect([...quietTargets(candidates, [ev(ACCOUNT, 'Microsoft.Storage/storageAccounts/delete', T0 + 1000)])].sort()).toEqual(['sub', 'vault']);
    expect(quietTargets(candidates, []).size).toBe(4);
  });
});

describe('trust and resync', () => {
  const now = new Date(T0 + 3_600_000);
  const day = 24 * 3_600_000;
  it('trusts only steady states read before, reconciled to the same desired configuration', () => {
    expect(trustable(entry(BLOB), 'k1', now, day)).toBe(true);
    expect(trustable(entry(BLOB, { state: 'slots-exhausted' }), 'k1', now, day)).toBe(true);
    expect(trustable(entry(BLOB), 'k2', now, day)).toBe(false);
    expect(trustable(undefined, 'k1', now, day)).toBe(false);
    for (const state of ['failed', 'forbidden', 'no-hub-in-region', 'unsupported'] as const) expect(trustable(entry(BLOB, { state }), 'k1', now, day)).toBe(false);
    const { observedAt: _omit, ...neverRead } = entry(BLOB);
    expect(trustable(neverRead, 'k1', now, day)).toBe(false);
  });

  it('re-reads each target after between half and all of the resync period, spread across targets', () => {
    const ids = Array.from({ length: 400 }, (_, i) => `${SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv${i}`);
    const dueAt = (hours: number) => ids.filter((id) => resyncDue(id, iso(T0), new Date(T0 + hours * 3_600_000), day)).length;
    expect(dueAt(11.9)).toBe(0);
    expect(dueAt(24)).toBe(400);
    // roughly uniform over [12 h, 24 h): about half are due at 18 h
    expect(dueAt(18)).toBeGreaterThan(140);
    expect(dueAt(18)).toBeLessThan(260);
    // a read stamped in the future (a skewed clock) is not trusted
    expect(resyncDue(VAULT, iso(T0 + 60_000), new Date(T0), day)).toBe(true);
  });
});
