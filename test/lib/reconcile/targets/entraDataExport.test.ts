import { describe, expect, it } from 'vitest';
import { diffDataExport, diffEntraExport, ENTRA_TABLES, entraDataExportTarget, refineEntraExport, type DesiredDataExport, type ObservedDataExport } from '../../../../src/lib/reconcile/targets/entraDataExport.js';
import type { HubAssignment } from '../../../../src/lib/registry/types.js';
import { CUSTOMER_NS, POOL_NS, own } from '../ownershipFixture.js';

const NS = POOL_NS;
const desired: DesiredDataExport = { workspaceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws', name: 'mdr-entra-export', destinationResourceId: NS, eventHubName: 'tenant-a', tableNames: ENTRA_TABLES };
const ours = (over: Partial<ObservedDataExport> = {}): ObservedDataExport => ({ name: 'mdr-entra-export', destinationResourceId: NS, eventHubName: 'tenant-a', tableNames: [...ENTRA_TABLES].reverse(), enabled: true, ...over });
const foreign = (n: number, enabled = true) => Array.from({ length: n }, (_, i) => ({ name: `cust-${i}`, destinationResourceId: '/x', tableNames: ['Heartbeat'], enabled }));

describe('diffDataExport', () => {
  it.each<[string, ObservedDataExport[], string[], string[]?]>([
    ['creates our rule on a workspace without one', [], ['create']],
    ['is in sync regardless of table order and id case', [ours({ destinationResourceId: NS.toLowerCase() })], []],
    ['repairs a rule whose hub name was removed', [ours({ eventHubName: undefined })], ['update']],
    ['repairs a rule whose tables changed', [ours({ tableNames: ['SigninLogs'] })], ['update']],
    ['repairs a disabled rule of ours', [ours({ enabled: false })], ['update']],
    ['repairs a disabled rule of ours next to nine active customer rules', [ours({ enabled: false }), ...foreign(9)], ['update']],
    // Enabling ours would be an eleventh active rule, which Azure refuses (found in review, 2026-12-03: planned an update).
    ['reports a disabled rule of ours next to ten active customer rules', [ours({ enabled: false }), ...foreign(10)], ['blocked']],
    ['creates ours next to nine active customer rules', foreign(9), ['create']],
    ['reports a workspace with ten active customer rules', foreign(10), ['blocked']],
    ['does not count disabled customer rules against the limit', foreign(10, false), ['create']],
    ['deletes a stale rule of ours', [ours(), { ...ours(), name: 'mdr-entra-old' }], ['delete']],
    ["repairs our rule re-pointed at the customer's namespace, since the ledger records our write", [ours({ destinationResourceId: CUSTOMER_NS })], ['update'], ['mdr-entra-export']],
    ["leaves a customer's prefixed rule exporting to the customer's namespace, and creates ours", [{ name: 'mdr-siem', destinationResourceId: CUSTOMER_NS, tableNames: ['SigninLogs'], enabled: true }], ['create']],
    ["creates ours under another name when the customer's rule holds our name", [{ name: 'mdr-entra-export', destinationResourceId: CUSTOMER_NS, tableNames: ['SigninLogs'], enabled: true }], ['create']],
  ])('%s', (_t, actual, kinds, written: string[] = []) => {
    expect(diffDataExport(desired, actual, own(written)).map((c) => c.kind)).toEqual(kinds);
  });

  it('names the other rule it creates when the customer holds ours', () => {
    const [c] = diffDataExport(desired, [{ name: 'mdr-entra-export', destinationResourceId: CUSTOMER_NS, tableNames: ['SigninLogs'], enabled: true }], own());
    expect(c).toMatchObject({ kind: 'create', name: 'mdr-entra-export-2' });
  });

  it('reports the ten holders as slots-exhausted', () => {
    const [c] = diffDataExport(desired, foreign(10), own());
    expect(c?.coverage).toBe('slots-exhausted');
    expect(c?.detail).toContain('cust-9');
  });

  it('always names the event hub and targets the namespace in desired state', () => {
    const hub = { namespaceId: NS, hub: 'tenant-a' } as HubAssignment;
    const d = entraDataExportTarget.desired({ target: 'entra-data-export', resourceId: desired.workspaceId, subscriptionId: 's', region: 'westeurope', hubRegion: 'westeurope' }, hub, 'mdr');
    expect(d).toMatchObject({ destinationResourceId: NS, eventHubName: 'tenant-a', name: 'mdr-entra-export' });
    // Every Entra table we take, before the read says which of them the workspace holds.
    expect([...d.tableNames].sort()).toEqual(
      ['AADManagedIdentitySignInLogs', 'AADNonInteractiveUserSignInLogs', 'AADServicePrincipalRiskEvents', 'AADServicePrincipalSignInLogs', 'AADUserRiskEvents', 'ADFSSignInLogs', 'AuditLogs', 'SigninLogs'],
    );
  });
});

describe('the Entra export takes the Entra tables the workspace holds', () => {
  const CORE = ['SigninLogs', 'AuditLogs', 'AADNonInteractiveUserSignInLogs', 'AADServicePrincipalSignInLogs', 'AADManagedIdentitySignInLogs'];

  it('exports the risk-event and ADFS sign-in tables when the workspace holds them', () => {
    const r = refineEntraExport(desired, { exports: [], tables: [...CORE, 'aaduserriskevents', 'AADServicePrincipalRiskEvents', 'ADFSSignInLogs', 'Heartbeat'] });
    expect([...r.desired.tableNames].sort()).toEqual([...ENTRA_TABLES].sort());
    expect(r.facts).toEqual({ entraTables: { exported: [...ENTRA_TABLES], missing: [] } });
  });

  it('skips a table the workspace lacks, with the reason, instead of failing the rule', () => {
    const r = refineEntraExport(desired, { exports: [], tables: [...CORE, 'AADUserRiskEvents'] });
    expect(r.desired.tableNames).not.toContain('ADFSSignInLogs');
    expect(r.desired.tableNames).toContain('AADUserRiskEvents');
    expect(r.facts).toEqual({ reasonCode: 'entra-tables-missing', entraTables: { exported: expect.arrayContaining([...CORE, 'AADUserRiskEvents']), missing: ['ADFSSignInLogs', 'AADServicePrincipalRiskEvents'] } });
    expect(diffEntraExport(r.desired, { exports: [], tables: [] }, own()).map((c) => c.kind)).toEqual(['create']);
  });

  it('rewrites our rule when a table it lacked appears in the workspace', () => {
    const r = refineEntraExport(desired, { exports: [], tables: [...CORE, 'AADUserRiskEvents'] });
    const c = diffEntraExport(r.desired, { exports: [ours({ tableNames: CORE })], tables: [] }, own());
    expect(c).toMatchObject([{ kind: 'update', reason: expect.stringContaining('tables changed') }]);
  });

  it('writes no rule on a workspace holding none of the Entra tables, and says the customer step is missing', () => {
    const r = refineEntraExport(desired, { exports: [], tables: ['Heartbeat', 'SecurityAlert'] });
    expect(r.desired.tableNames).toEqual([]);
    expect(diffEntraExport(r.desired, { exports: [], tables: ['Heartbeat'] }, own())).toMatchObject([{ kind: 'blocked', coverage: 'unsupported', reasonCode: 'entra-logs-absent' }]);
  });
});
