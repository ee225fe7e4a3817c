import { describe, expect, it } from 'vitest';
import { targetItemsFor, wantedByConfig } from '../../../src/lib/reconcile/targetItems.js';
import type { TenantRecord } from '../../../src/lib/registry/types.js';

const SUB = '22222222-2222-2222-2222-222222222222';
const WS = `/subscriptions/${SUB}/resourceGroups/sec/providers/Microsoft.OperationalInsights/workspaces/ws-core`;
const tenant = (over: Partial<TenantRecord> = {}): TenantRecord => ({
  tenantId: 'aaaaaaaa-0000-4000-8000-000000000001',
  displayName: 'Acme',
  regions: ['westeurope'],
  entraWorkspaceIds: [],
  options: { activityLog: false, storage: true, keyVault: false, entraDataExport: true, defenderAlerts: false, storageServices: ['blob'] },
  status: 'active',
  createdAt: 'x',
  updatedAt: 'x',
  ...over,
});
const discovery = {
  subscriptions: [{ subscriptionId: SUB, displayName: 'prod' }],
  resources: [{ id: WS, name: 'ws-core', type: 'microsoft.operationalinsights/workspaces', location: 'westeurope', subscriptionId: SUB, resourceGroup: 'sec' }],
  automationGroups: [],
  foreign: [],
  allHome: [SUB],
  reads: 0,
};

describe('targetItemsFor', () => {
  it('makes one target of a workspace a stored record lists twice in different cases (one coverage key, one ledger row)', () => {
    const { items } = targetItemsFor(tenant({ entraWorkspaceIds: [WS, WS.toLowerCase()] }), discovery, 'MDRAutomation');
    expect(items.filter((i) => i.target === 'entra-data-export')).toHaveLength(1);
  });
});

describe('wantedByConfig', () => {
  it('follows the options, the storage services and the configured workspaces', () => {
    const t = tenant({ entraWorkspaceIds: [WS] });
    expect(wantedByConfig(t, { target: 'keyvault-diagnostics', resourceId: '/x' })).toBe(false);
    expect(wantedByConfig(t, { target: 'storage-diagnostics', resourceId: `/subscriptions/${SUB}/resourceGroups/a/providers/Microsoft.Storage/storageAccounts/s/blobServices/default` })).toBe(true);
    expect(wantedByConfig(t, { target: 'storage-diagnostics', resourceId: `/subscriptions/${SUB}/resourceGroups/a/providers/Microsoft.Storage/storageAccounts/s/queueServices/default` })).toBe(false);
    expect(wantedByConfig(t, { target: 'entra-data-export', resourceId: WS.toUpperCase() })).toBe(true);
    expect(wantedByConfig(t, { target: 'entra-data-export', resourceId: WS.replace('ws-core', 'other') })).toBe(false);
    expect(wantedByConfig(tenant(), { target: 'entra-data-export', resourceId: WS.replace('ws-core', 'other') })).toBe(true); // none listed: every workspace
  });
});
