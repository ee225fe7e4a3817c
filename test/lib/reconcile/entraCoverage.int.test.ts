import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScenario } from '../../../sim/scenario.js';
import { addWorkspaceTable } from '../../../sim/state.js';
import { formatCoverageTable, coverageReport } from '../../../src/lib/reconcile/coverageReport.js';
import { reconcileTenant } from '../../../src/lib/reconcile/reconcileTenant.js';
import { ACME, startHarness, tenantRecord, type SimHarness } from './simHarness.js';

const S1 = 'aaaaaaaa-1111-0000-0000-000000000001';
const S3 = 'aaaaaaaa-3333-0000-0000-000000000003';
const UNDELEGATED = 'aaaaaaaa-2222-0000-0000-000000000002';
const DISABLED = 'aaaaaaaa-4444-0000-0000-000000000004';
const OTHER_TENANT = 'cccccccc-0000-0000-0000-000000000001';
const FOREIGN = 'cccccccc-1111-0000-0000-000000000001';
const ws = (sub: string, name: string) => `/subscriptions/${sub}/resourceGroups/sec/providers/Microsoft.OperationalInsights/workspaces/${name}`;
const CORE = ['SigninLogs', 'AuditLogs', 'AADNonInteractiveUserSignInLogs', 'AADServicePrincipalSignInLogs', 'AADManagedIdentitySignInLogs'];
const WS_FULL = ws(S1, 'ws-full');
const WS_CORE = ws(S1, 'ws-core');
const WS_EMPTY = ws(S1, 'ws-empty');
const WS_FAR = ws(UNDELEGATED, 'ws-far');
const WS_OTHER = ws(FOREIGN, 'ws-other');
const WS_OFF = ws(DISABLED, 'ws-off');

/**
 * Per configured Entra workspace, coverage tells whether the Entra tables are there and which ones our rule takes
 * (read from the workspace's Tables API), and a configured workspace outside the delegation is an entry with its
 * reason, never dropped. The simulator refuses a rule naming a table the workspace lacks, as Log Analytics does.
 */
const scenario = parseScenario({
  provider: { tenantId: 'bbbbbbbb-0000-0000-0000-000000000001', subscriptionId: 'bbbbbbbb-1111-0000-0000-000000000001', poolResourceGroup: 'rg-pool' },
  eventHubNamespaces: [],
  tenants: [
    {
      tenantId: ACME,
      displayName: 'Acme',
      subscriptions: [
        {
          subscriptionId: S1,
          displayName: 'acme-prod',
          resourceGroups: [{ name: 'sec', location: 'westeurope' }],
          workspaces: [
            { name: 'ws-full', resourceGroup: 'sec', location: 'westeurope', tables: [...CORE, 'AADUserRiskEvents', 'AADServicePrincipalRiskEvents', 'ADFSSignInLogs', 'Heartbeat'] },
            { name: 'ws-core', resourceGroup: 'sec', location: 'westeurope', tables: CORE },
            { name: 'ws-empty', resourceGroup: 'sec', location: 'westeurope', tables: ['Heartbeat'] },
          ],
        },
        { subscriptionId: S3, displayName: 'acme-dev', resourceGroups: [{ name: 'dev', location: 'westeurope' }] },
        { subscriptionId: UNDELEGATED, displayName: 'acme-hidden', delegated: false, workspaces: [{ name: 'ws-far', resourceGroup: 'sec', location: 'westeurope', tables: CORE }] },
        { subscriptionId: DISABLED, displayName: 'acme-off', state: 'Disabled', workspaces: [{ name: 'ws-off', resourceGroup: 'sec', location: 'westeurope', tables: CORE }] },
      ],
    },
    {
      // Acme manages this subscription for another tenant (an MSP chain): visible, never Acme's.
      tenantId: OTHER_TENANT,
      displayName: 'Acme customer',
      subscriptions: [{ subscriptionId: FOREIGN, displayName: 'other-prod', managedByTenants: [ACME], workspaces: [{ name: 'ws-other', resourceGroup: 'sec', location: 'westeurope', tables: CORE }] }],
    },
  ],
});

describe('Entra workspaces in coverage (ARM simulator)', () => {
  let h: SimHarness;
  beforeAll(async () => {
    h = await startHarness({ scenario });
    const options = { activityLog: false, storage: false, keyVault: false, entraDataExport: true, defenderAlerts: false, storageServices: [] };
    await h.registry.putTenant({ ...tenantRecord(ACME, { options, entraWorkspaceIds: [WS_FULL, WS_CORE, WS_EMPTY, WS_FAR, WS_OTHER, WS_OFF] }), etag: (await h.registry.getTenant(ACME))?.etag });
  });
  afterAll(async () => h?.stop());

  const entry = async (id: string) => (await h.registry.listCoverage(ACME)).find((e) => e.resourceId.toLowerCase() === id.toLowerCase());
  const ruleTables = (id: string) => h.sim.state.list(`${id}/dataExports`).find((r) => r.name.startsWith('mdr-'))?.properties.tableNames as string[] | undefined;

  it('exports the risk-event and ADFS sign-in tables a workspace holds, next to sign-ins and audit', async () => {
    await reconcileTenant(ACME, h.deps);
    expect([...(ruleTables(WS_FULL) ?? [])].sort()).toEqual([...CORE, 'AADUserRiskEvents', 'AADServicePrincipalRiskEvents', 'ADFSSignInLogs'].sort());
    expect(await entry(WS_FULL)).toMatchObject({ state: 'created', entraTables: { missing: [] } });
    expect((await entry(WS_FULL))?.reasonCode).toBeUndefined();
  });

  it('skips the tables a workspace lacks, names them with the reason, and still exports the rest', async () => {
    expect([...(ruleTables(WS_CORE) ?? [])].sort()).toEqual([...CORE].sort());
    const e = await entry(WS_CORE);
    expect(e).toMatchObject({ state: 'created', reasonCode: 'entra-tables-missing', entraTables: { missing: ['ADFSSignInLogs', 'AADUserRiskEvents', 'AADServicePrincipalRiskEvents'] } });
    const table = formatCoverageTable(coverageReport(ACME, await h.registry.listCoverage(ACME)));
    expect(table).toMatch(/ws-core.*entra-tables-missing.*AADUserRiskEvents \(Identity Protection/);
  });

  it('writes no rule on a workspace the Entra logs do not reach, says so, and exports once the customer step fills it', async () => {
    expect(ruleTables(WS_EMPTY)).toBeUndefined();
    expect(await entry(WS_EMPTY)).toMatchObject({ state: 'unsupported', reasonCode: 'entra-logs-absent' });
    // The customer's Entra diagnostic setting starts sending sign-ins and audit logs there.
    const w = h.sim.state.get(WS_EMPTY)!;
    for (const t of ['SigninLogs', 'AuditLogs']) addWorkspaceTable(h.sim.state, w, t);
    await reconcileTenant(ACME, h.deps);
    expect([...(ruleTables(WS_EMPTY) ?? [])].sort()).toEqual(['AuditLogs', 'SigninLogs']);
    expect(await entry(WS_EMPTY)).toMatchObject({ state: 'created', reasonCode: 'entra-tables-missing' });
  });

  it('reports a configured workspace outside the delegation with its reason instead of dropping it', async () => {
    expect(await entry(WS_FAR)).toMatchObject({ state: 'forbidden', reasonCode: 'workspace-not-delegated', subscriptionId: UNDELEGATED });
    expect(await entry(WS_OTHER)).toMatchObject({ state: 'unsupported', reasonCode: 'workspace-foreign-home', subscriptionId: FOREIGN });
    expect((await entry(WS_OTHER))?.detail).toContain(OTHER_TENANT);
    // Delegated but Disabled: said as such, not as "not delegated" (found in review, 2026-12-03).
    expect(await entry(WS_OFF)).toMatchObject({ state: 'unsupported', reasonCode: 'workspace-subscription-disabled', subscriptionId: DISABLED });
    // Nothing is ever written to the subscription Acme only manages for someone else.
    expect(h.sim.requests.filter((r) => r.kind !== 'read' && r.path.toLowerCase().includes(FOREIGN))).toEqual([]);
  });

  it('in work items, records those entries once, from the item holding the first subscription, and clears them there', async () => {
    const before = await h.registry.listCoverage(ACME);
    await reconcileTenant(ACME, h.deps, { subscriptionIds: [S3] });
    // The item without the first subscription leaves them as they are.
    expect((await h.registry.listCoverage(ACME)).filter((e) => e.reasonCode?.startsWith('workspace-'))).toEqual(before.filter((e) => e.reasonCode?.startsWith('workspace-')));
    const t = (await h.registry.getTenant(ACME))!;
    await h.registry.putTenant({ ...t, entraWorkspaceIds: [WS_FULL, WS_CORE, WS_EMPTY, WS_OTHER] });
    await reconcileTenant(ACME, h.deps, { subscriptionIds: [S1] });
    expect(await entry(WS_FAR)).toBeUndefined();
    expect(await entry(WS_OTHER)).toMatchObject({ reasonCode: 'workspace-foreign-home' });
  });
});
