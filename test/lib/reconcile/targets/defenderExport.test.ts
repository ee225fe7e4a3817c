import { describe, expect, it } from 'vitest';
import { defenderExportTarget, diffDefenderExport, type ObservedAutomation } from '../../../../src/lib/reconcile/targets/defenderExport.js';
import type { HubAssignment } from '../../../../src/lib/registry/types.js';
import { CUSTOMER_NS, POOL_NS, PROVIDER_TENANT, own } from '../ownershipFixture.js';

const NS = POOL_NS;
const TAG = { 'mdr-managed-by': PROVIDER_TENANT };
const hub = { namespaceId: NS, hub: 'tenant-a', sendRuleId: `${NS}/eventhubs/tenant-a/authorizationRules/mdr-send` } as HubAssignment;
const desired = defenderExportTarget.desired(
  { target: 'defender-export', resourceId: '/subscriptions/s1/resourceGroups/MDRAutomation', subscriptionId: 's1', region: 'westeurope', hubRegion: undefined },
  hub,
  'mdr',
);
const ours = (over: Partial<ObservedAutomation> = {}): ObservedAutomation => ({
  name: 'mdr-defender-export',
  resourceGroup: 'mdrautomation',
  isEnabled: true,
  eventSources: ['Alerts'],
  scopePaths: ['/subscriptions/S1'],
  eventHubActions: [{ eventHubResourceId: `${NS}/eventhubs/tenant-a`.toUpperCase(), sasPolicyName: 'mdr-send' }],
  tags: TAG,
  ...over,
});

describe('defender export desired state', () => {
  it('targets the event hub entity in the automation resource group, scoped to the subscription', () => {
    expect(desired).toMatchObject({ resourceGroup: 'MDRAutomation', location: 'westeurope', name: 'mdr-defender-export', eventHubResourceId: `${NS}/eventhubs/tenant-a`, scopePath: '/subscriptions/s1' });
  });
});

describe('diffDefenderExport', () => {
  it.each<[string, ObservedAutomation[], string[], string[]?]>([
    ['creates the automation when the subscription has none of ours', [], ['create']],
    ['is in sync without comparing the write-only connection string', [ours()], []],
    ['is in sync when the service omits sasPolicyName', [ours({ eventHubActions: [{ eventHubResourceId: `${NS}/eventhubs/tenant-a` }] })], []],
    ['repairs an automation exporting to another hub', [ours({ eventHubActions: [{ eventHubResourceId: `${NS}/eventhubs/other`, sasPolicyName: 'mdr-send' }] })], ['update']],
    ['repairs an automation using another SAS policy', [ours({ eventHubActions: [{ eventHubResourceId: `${NS}/eventhubs/tenant-a`, sasPolicyName: 'RootManage' }] })], ['update']],
    ['repairs a disabled automation', [ours({ isEnabled: false })], ['update']],
    ['repairs an automation that no longer exports Alerts', [ours({ eventSources: ['Assessments'] })], ['update']],
    ['leaves a customer automation alone', [ours(), { ...ours(), name: 'exportToEventHub' }], []],
    ['deletes a stale automation of ours in another resource group', [ours(), ours({ resourceGroup: 'old-rg' })], ['delete']],
    ['restores our tag when it was removed', [ours({ tags: {} })], ['update']],
    [
      "repairs our automation re-pointed at the customer's hub, known by its tag",
      [ours({ eventHubActions: [{ eventHubResourceId: `${CUSTOMER_NS}/eventhubs/siem` }] })],
      ['update'],
    ],
    [
      "repairs our automation re-pointed and untagged, since the ledger records our write",
      [ours({ tags: {}, eventHubActions: [{ eventHubResourceId: `${CUSTOMER_NS}/eventhubs/siem` }] })],
      ['update'],
      ['mdrautomation/mdr-defender-export'],
    ],
    [
      "leaves the customer's own prefixed automation in another resource group alone (a Logic App to Teams)",
      [ours(), { ...ours(), name: 'mdr-alerts-to-teams', resourceGroup: 'ops', tags: {}, eventHubActions: [] }],
      [],
    ],
    [
      "creates ours under another name when a customer automation holds our name",
      [{ ...ours(), tags: {}, eventHubActions: [{ eventHubResourceId: `${CUSTOMER_NS}/eventhubs/siem` }] }],
      ['create'],
    ],
  ])('%s', (_t, actual, kinds, written: string[] = []) => {
    expect(diffDefenderExport(desired, actual, own(written)).map((c) => c.kind)).toEqual(kinds);
  });

  it('tells teardown which resource group each automation of ours lives in, and only those that are provably ours', () => {
    const customer = { ...ours(), name: 'mdr-alerts-to-teams', resourceGroup: 'ops', tags: {}, eventHubActions: [] };
    expect(defenderExportTarget.owned([ours(), ours({ name: 'customer' }), customer], own())).toEqual(['mdrautomation/mdr-defender-export']);
  });
});
