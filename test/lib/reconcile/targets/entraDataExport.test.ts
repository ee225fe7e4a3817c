import { describe, expect, it } from 'vitest';
import { diffDataExport, ENTRA_TABLES, entraDataExportTarget, type DesiredDataExport, type ObservedDataExport } from '../../../../src/lib/reconcile/targets/entraDataExport.js';
import type { HubAssignment } from '../../../../src/lib/registry/types.js';

const NS = '/subscriptions/p/resourceGroups/mdr-ingest/providers/Microsoft.EventHub/namespaces/ns-weu';
const desired: DesiredDataExport = { workspaceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws', name: 'mdr-entra-export', destinationResourceId: NS, eventHubName: 'tenant-a', tableNames: ENTRA_TABLES };
const ours = (over: Partial<ObservedDataExport> = {}): ObservedDataExport => ({ name: 'mdr-entra-export', destinationResourceId: NS, eventHubName: 'tenant-a', tableNames: [...ENTRA_TABLES].reverse(), enabled: true, ...over });
const foreign = (n: number, enabled = true) => Array.from({ length: n }, (_, i) => ({ name: `cust-${i}`, destinationResourceId: '/x', tableNames: ['Heartbeat'], enabled }));

describe('diffDataExport', () => {
  it.each<[string, ObservedDataExport[], string[]]>([
    ['creates our rule on a workspace without one', [], ['create']],
    ['is in sync regardless of table order and id case', [ours({ destinationResourceId: NS.toLowerCase() })], []],
    ['repairs a rule whose hub name was removed', [ours({ eventHubName: undefined })], ['update']],
    ['repairs a rule whose tables changed', [ours({ tableNames: ['SigninLogs'] })], ['update']],
    ['repairs a disabled rule of ours', [ours({ enabled: false })], ['update']],
    ['creates ours next to nine active customer rules', foreign(9), ['create']],
    ['reports a workspace with ten active customer rules', foreign(10), ['blocked']],
    ['does not count disabled customer rules against the limit', foreign(10, false), ['create']],
    ['deletes a stale rule of ours', [ours(), { ...ours(), name: 'mdr-entra-old' }], ['delete']],
  ])('%s', (_t, actual, kinds) => {
    expect(diffDataExport(desired, actual, 'mdr').map((c) => c.kind)).toEqual(kinds);
  });

  it('reports the ten holders as slots-exhausted', () => {
    const [c] = diffDataExport(desired, foreign(10), 'mdr');
    expect(c?.coverage).toBe('slots-exhausted');
    expect(c?.detail).toContain('cust-9');
  });

  it('always names the event hub and targets the namespace in desired state', () => {
    const hub = { namespaceId: NS, hub: 'tenant-a' } as HubAssignment;
    const d = entraDataExportTarget.desired({ target: 'entra-data-export', resourceId: desired.workspaceId, subscriptionId: 's', region: 'westeurope', hubRegion: 'westeurope' }, hub, 'mdr');
    expect(d).toMatchObject({ destinationResourceId: NS, eventHubName: 'tenant-a', name: 'mdr-entra-export' });
    expect(d.tableNames).toEqual(['SigninLogs', 'AuditLogs', 'AADNonInteractiveUserSignInLogs', 'AADServicePrincipalSignInLogs', 'AADManagedIdentitySignInLogs']);
  });
});
