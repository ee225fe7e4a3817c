import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { makeReconcileCommand } from '../../../src/cli/commands/reconcile.js';
import type { CliIo } from '../../../src/cli/types.js';
import { offboardTenant } from '../../../src/lib/onboarding/offboardTenant.js';
import { handleReconcileWorkItem } from '../../../src/lib/reconcile/fanOut.js';
import { createReconcileHttpHandler } from '../../../src/lib/reconcile/httpHandlers.js';
import { reconcileTenant } from '../../../src/lib/reconcile/reconcileTenant.js';
import { createMemoryRegistry } from '../../../src/lib/registry/memoryRegistry.js';
import { parseScenario } from '../../../sim/scenario.js';
import { httpRequest, invocation } from '../../support/http.js';
import { ACME, S1, startHarness, tenantRecord, type SimHarness } from './simHarness.js';

/**
 * Issue #12, point 3: an offboarded tenant is never reconciled again, and a run that read before an offboarding
 * cannot leave anything of ours behind after it.
 */
const scenario = parseScenario({
  provider: { tenantId: 'bbbbbbbb-0000-0000-0000-000000000001', subscriptionId: 'bbbbbbbb-0000-0000-0000-0000000000aa', poolResourceGroup: 'mdr-ingest' },
  // The delegation withholds the Delete role, so offboarding cannot remove it and the late write below still lands
  // (with the delegation gone it would be refused: test/lib/onboarding/delegationRemoval.int.test.ts).
  tenants: [{ tenantId: ACME, displayName: 'Acme', subscriptions: [{ subscriptionId: S1, displayName: 'acme-prod', delegationGrantsDelete: false, resourceGroups: [{ name: 'MDRAutomation', location: 'westeurope' }] }] }],
});
/** Only the activity log: one export target, one write, so the race below is exact. */
const activityLogOnly = { activityLog: true, storage: false, keyVault: false, entraDataExport: false, defenderAlerts: false, storageServices: [] };
const SETTING = `/subscriptions/${S1}/providers/Microsoft.Insights/diagnosticSettings/mdr-export`.toLowerCase();
const SETTINGS_LIST = `/subscriptions/${S1}/providers/Microsoft.Insights/diagnosticSettings`.toLowerCase();

let h: SimHarness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function harness(status: 'active' | 'offboarded' = 'active'): Promise<SimHarness> {
  const registry = createMemoryRegistry();
  await registry.putTenant(tenantRecord(ACME, { options: activityLogOnly }));
  h = await startHarness({ scenario, registry });
  if (status !== 'active') await registry.putTenant({ ...(await registry.getTenant(ACME))!, status });
  h.sim.clearRequests();
  return h;
}
/** Every diagnostic setting named with our prefix that exists anywhere in the simulated ARM. */
const oursLeft = (x: SimHarness) => [...x.sim.state.all()].filter((r) => r.type === 'Microsoft.Insights/diagnosticSettings' && r.name.toLowerCase().startsWith('mdr-')).map((r) => r.id);

describe('an offboarded tenant is not reconciled', () => {
  it('answers 409 to POST /api/tenants/{id}/reconcile and makes no ARM request', async () => {
    const x = await harness('offboarded');
    const res = await createReconcileHttpHandler(x.deps)(httpRequest({ method: 'POST', path: `tenants/${ACME}/reconcile`, params: { id: ACME } }), invocation());
    expect(res.status).toBe(409);
    expect((res.jsonBody as { type: string; detail: string }).type).toContain('tenant-not-active');
    expect((res.jsonBody as { detail: string }).detail).toContain('offboarded');
    expect(x.sim.requests).toEqual([]);
    expect(x.provisioned).toEqual([]);
  });

  it('makes azure-mdr reconcile exit non-zero with the reason, and the queue path skip it', async () => {
    const x = await harness('offboarded');
    const err: string[] = [];
    const io: CliIo = { stdin: [], stdout: { write: () => true }, stderr: { write: (s: string) => err.push(s) }, env: {} };
    const code = await main(['reconcile', '--tenant', ACME], io, [makeReconcileCommand(async () => x.deps)]);
    expect(code).not.toBe(0);
    expect(err.join('')).toMatch(/is offboarded, not active/);
    expect(await handleReconcileWorkItem({ tenantId: ACME }, x.deps)).toBeUndefined();
    expect(x.sim.requests).toEqual([]);
  });
});

describe('a reconcile that read before an offboarding', () => {
  it('leaves nothing of ours behind when its write lands after the offboarding finished', async () => {
    const x = await harness();
    const write = x.sim.hold((m, p) => m === 'PUT' && p.toLowerCase() === SETTING);
    const run = reconcileTenant(ACME, x.deps);
    await write.reached; // planned and about to write: the tenant was active when the run read it
    const off = await offboardTenant({ settings: x.settings, registry: x.registry, clients: x.clients }, ACME);
    expect(off.status).toBe('offboarded');
    write.release(); // the write lands after the offboarding
    const report = await run;
    expect(report.plan.find((a) => a.target === 'activity-log')?.reason).toMatch(/no longer active/);
    expect(oursLeft(x)).toEqual([]);
    expect((await x.registry.getTenant(ACME))?.status).toBe('offboarded');
    expect(await x.registry.listHubs(ACME)).toEqual([]);
  });

  it('makes the offboarding read again and remove again what reappears, until nothing of ours is left', async () => {
    const x = await harness();
    await reconcileTenant(ACME, x.deps);
    expect(oursLeft(x)).toHaveLength(1);
    const removal = x.sim.hold((m, p) => m === 'DELETE' && p.toLowerCase() === SETTING);
    const offboarding = offboardTenant({ settings: x.settings, registry: x.registry, clients: x.clients }, ACME);
    await removal.reached;
    const verification = x.sim.hold((m, p) => m === 'GET' && p.toLowerCase() === SETTINGS_LIST);
    removal.release();
    await verification.reached;
    // meanwhile a writer that passed its checks earlier (e.g. an instance still running an older build) writes it back
    const ours = await (await x.clients.monitor()).diagnosticSettings.get(`subscriptions/${S1}`, 'mdr-export').catch(() => undefined);
    expect(ours).toBeUndefined();
    await (await x.clients.monitor()).diagnosticSettings.createOrUpdate(`subscriptions/${S1}`, 'mdr-export', {
      eventHubAuthorizationRuleId: (await x.registry.listHubs(ACME))[0]!.namespaceRuleId,
      eventHubName: (await x.registry.listHubs(ACME))[0]!.hub,
      logs: [{ category: 'Administrative', enabled: true }],
    });
    verification.release();
    const off = await offboarding;
    expect(off).toMatchObject({ verified: true, remaining: [], failed: [], status: 'offboarded' });
    expect(off.removed.filter((r) => r.name === 'mdr-export')).toHaveLength(2);
    expect(oursLeft(x)).toEqual([]);
  });
});
