import { describe, expect, it } from 'vitest';
import { applyDiagnosticSetting, diffDiagnosticSetting, observeDiagnosticSettings, type DesiredDiagnosticSetting, type ObservedDiagnosticSetting } from '../../../../src/lib/reconcile/diagnosticSetting.js';
import { activityLogTarget } from '../../../../src/lib/reconcile/targets/activityLog.js';
import { keyVaultDiagnosticsTarget } from '../../../../src/lib/reconcile/targets/keyVaultDiagnostics.js';
import { storageDiagnosticsTarget } from '../../../../src/lib/reconcile/targets/storageDiagnostics.js';
import type { HubAssignment } from '../../../../src/lib/registry/types.js';
import { fakeDiagnosticSettings } from '../fakeDiagnosticSettings.js';
import { CUSTOMER_NS, POOL_NS, own } from '../ownershipFixture.js';

const RULE = `${POOL_NS}/authorizationRules/mdr-diagnostics`;
const CUSTOMER_RULE = `${CUSTOMER_NS}/authorizationRules/RootManageSharedAccessKey`;
const desired: DesiredDiagnosticSetting = { resourceId: '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv', name: 'mdr-export', eventHubAuthorizationRuleId: RULE, eventHubName: 'tenant-a', categories: ['AuditEvent', 'AzurePolicyEvaluationDetails'] };
const ours = (over: Partial<ObservedDiagnosticSetting> = {}): ObservedDiagnosticSetting => ({ name: 'mdr-export', eventHubAuthorizationRuleId: RULE, eventHubName: 'tenant-a', categories: ['AzurePolicyEvaluationDetails', 'AuditEvent'], ...over });
const foreign = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `customer-${i}`, categories: ['AuditEvent'] }));

describe('diffDiagnosticSetting', () => {
  it.each<[string, ObservedDiagnosticSetting[], { kind: string; coverage: string }[], string[]?]>([
    ['creates our setting on a resource without one', [], [{ kind: 'create', coverage: 'created' }]],
    ['is in sync when categories differ only in order and ids only in case', [ours({ eventHubAuthorizationRuleId: RULE.toUpperCase() })], []],
    ['accepts the allLogs category group on our setting', [ours({ categories: ['group:allLogs'] })], []],
    ['repairs our setting pointed at another namespace of our pool', [ours({ eventHubAuthorizationRuleId: RULE.replace('-01/', '-02/') })], [{ kind: 'update', coverage: 'repaired' }]],
    ["repairs our setting re-pointed at the customer's namespace, since the ledger records our write", [ours({ eventHubAuthorizationRuleId: CUSTOMER_RULE })], [{ kind: 'update', coverage: 'repaired' }], ['mdr-export']],
    ['repairs our setting streaming to another hub', [ours({ eventHubName: 'other' })], [{ kind: 'update', coverage: 'repaired' }]],
    ['repairs our setting whose categories were narrowed', [ours({ categories: ['AuditEvent'] })], [{ kind: 'update', coverage: 'repaired' }]],
    ['creates ours next to four customer settings', foreign(4), [{ kind: 'create', coverage: 'created' }]],
    ['reports slots-exhausted when five customer settings exist', foreign(5), [{ kind: 'blocked', coverage: 'slots-exhausted' }]],
    ['keeps our in-sync setting even when four customer settings exist', [...foreign(4), ours()], []],
    ['deletes a stale setting of ours the ledger records under another name', [ours(), { name: 'mdr-old', categories: [] }], [{ kind: 'delete', coverage: 'repaired' }], ['mdr-old']],
    ['deletes a stale setting of ours pointing at our pool under another prefixed name', [ours(), ours({ name: 'mdr-old' })], [{ kind: 'delete', coverage: 'repaired' }]],
    ["leaves a customer's prefixed setting pointing at the customer's own hub, and creates ours", [{ name: 'mdr-siem', eventHubAuthorizationRuleId: CUSTOMER_RULE, categories: ['AuditEvent'] }], [{ kind: 'create', coverage: 'created' }]],
  ])('%s', (_title, actual, expected, written = []) => {
    expect(diffDiagnosticSetting(desired, actual, own(written)).map((c) => ({ kind: c.kind, coverage: c.coverage }))).toEqual(expected);
  });

  it("covers the resource under another name of ours when a customer setting holds ours, and says why", () => {
    const customers = [{ name: 'mdr-export', eventHubAuthorizationRuleId: CUSTOMER_RULE, categories: ['AuditEvent'] }, { name: 'mdr-export-2', categories: [] }];
    const changes = diffDiagnosticSetting(desired, customers, own());
    expect(changes).toEqual([expect.objectContaining({ kind: 'create', name: 'mdr-export-3', coverage: 'created' })]);
    expect(changes[0]!.reason).toContain("'mdr-export' is not ours");
  });

  it('counts prefixed customer settings among the five slot holders', () => {
    const [c] = diffDiagnosticSetting(desired, [...foreign(4), { name: 'mdr-siem', eventHubAuthorizationRuleId: CUSTOMER_RULE, categories: [] }], own());
    expect(c).toMatchObject({ kind: 'blocked', coverage: 'slots-exhausted', detail: expect.stringContaining('mdr-siem') });
  });

  it('never touches a customer setting that points at our hub', () => {
    const changes = diffDiagnosticSetting(desired, [{ name: 'my-own', eventHubAuthorizationRuleId: RULE, eventHubName: 'tenant-a', categories: ['AuditEvent'] }], own());
    expect(changes.every((c) => c.name === 'mdr-export')).toBe(true);
  });

  it('names the five holders when slots are exhausted', () => {
    const [c] = diffDiagnosticSetting(desired, foreign(5), own());
    expect(c?.detail).toBe('held by: customer-0, customer-1, customer-2, customer-3, customer-4');
  });
});

describe('observe and apply through the diagnostic settings API', () => {
  it('lists with a resource URI without a leading slash and writes our flat model', async () => {
    const fake = fakeDiagnosticSettings();
    const changes = diffDiagnosticSetting(desired, (await observeDiagnosticSettings(fake.api, desired.resourceId)) ?? [], own());
    await applyDiagnosticSetting(fake.api, desired, changes);
    const after = await observeDiagnosticSettings(fake.api, desired.resourceId);
    expect(fake.writes).toEqual([{ op: 'put', uri: desired.resourceId.slice(1), name: 'mdr-export' }]);
    expect(diffDiagnosticSetting(desired, after ?? [], own())).toEqual([]);
  });

  it('turns a 404 on list into undefined (resource deleted mid-run)', async () => {
    const api = { list: () => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(Object.assign(new Error('gone'), { statusCode: 404 })) }) }), createOrUpdate: async () => ({}), delete: async () => {} };
    expect(await observeDiagnosticSettings(api, desired.resourceId)).toBeUndefined();
  });
});

describe('desired state of the diagnostic-setting targets', () => {
  const hub = { namespaceRuleId: RULE, hub: 'tenant-a' } as HubAssignment;
  const item = (resourceId: string) => ({ target: 'activity-log' as const, resourceId, subscriptionId: 's1', region: 'global', hubRegion: undefined });
  it('sends every activity-log category of a subscription to the tenant hub under our prefix', () => {
    const d = activityLogTarget.desired(item('/subscriptions/s1'), hub, 'acme');
    expect(d).toMatchObject({ resourceId: '/subscriptions/s1', name: 'acme-export', eventHubAuthorizationRuleId: RULE, eventHubName: 'tenant-a' });
    expect([...d.categories].sort()).toEqual(['Administrative', 'Alert', 'Autoscale', 'Policy', 'Recommendation', 'ResourceHealth', 'Security', 'ServiceHealth']);
  });
  it('exports StorageRead/Write/Delete of a storage service', () => {
    expect([...storageDiagnosticsTarget.desired(item('/x/blobServices/default'), hub, 'mdr').categories]).toEqual(['StorageRead', 'StorageWrite', 'StorageDelete']);
  });
  it('exports AuditEvent and AzurePolicyEvaluationDetails of a vault', () => {
    expect([...keyVaultDiagnosticsTarget.desired(item('/x/vaults/kv'), hub, 'mdr').categories]).toEqual(['AuditEvent', 'AzurePolicyEvaluationDetails']);
  });
});
