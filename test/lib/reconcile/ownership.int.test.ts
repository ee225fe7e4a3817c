import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNamespace } from '../../../sim/state.js';
import { parseScenario } from '../../../sim/scenario.js';
import { createAzureClients, staticTokenCredential } from '../../../src/lib/azure/clientFactory.js';
import { offboardTenant } from '../../../src/lib/onboarding/offboardTenant.js';
import { reconcileTenant, type ReconcileReport } from '../../../src/lib/reconcile/reconcileTenant.js';
import { ACME, S1, startHarness, type SimHarness } from './simHarness.js';

/**
 * Issue #12, point 2: `mdr-` objects are ours only by provenance. The customer's own `mdr-*` objects, pointing at
 * the customer's destinations, survive reconcile and offboarding; our own setting re-pointed elsewhere is repaired.
 */
const PROVIDER_SUB = 'bbbbbbbb-0000-0000-0000-0000000000aa';
const rg = (name: string) => `/subscriptions/${S1}/resourceGroups/${name}`;
const CUSTOMER_NS = `${rg('siem')}/providers/Microsoft.EventHub/namespaces/acme-siem`;
const CUSTOMER_RULE = `${CUSTOMER_NS}/authorizationRules/RootManageSharedAccessKey`;
const KV1 = `${rg('app')}/providers/Microsoft.KeyVault/vaults/acme-kv1`;
const KV2 = `${rg('app')}/providers/Microsoft.KeyVault/vaults/acme-kv2`;
const WS = `${rg('app')}/providers/Microsoft.OperationalInsights/workspaces/acme-ws`;
const TEAMS = `${rg('ops')}/providers/Microsoft.Security/automations/mdr-alerts-to-teams`;
const setting = (on: string, name: string) => `${on}/providers/microsoft.insights/diagnosticSettings/${name}`;

const scenario = parseScenario({
  provider: { tenantId: 'bbbbbbbb-0000-0000-0000-000000000001', subscriptionId: PROVIDER_SUB, poolResourceGroup: 'mdr-ingest' },
  tenants: [
    {
      tenantId: ACME,
      displayName: 'Acme',
      subscriptions: [
        {
          subscriptionId: S1,
          displayName: 'acme-prod',
          resourceGroups: [{ name: 'MDRAutomation', location: 'westeurope' }, { name: 'app', location: 'westeurope' }, { name: 'ops', location: 'westeurope' }, { name: 'siem', location: 'westeurope' }],
          keyVaults: [{ name: 'acme-kv1', resourceGroup: 'app', location: 'westeurope' }, { name: 'acme-kv2', resourceGroup: 'app', location: 'westeurope' }],
          workspaces: [{ name: 'acme-ws', resourceGroup: 'app', location: 'westeurope', tables: ['SigninLogs', 'AuditLogs'], dataExports: [{ name: 'mdr-siem-export', destinationResourceId: CUSTOMER_NS, tableNames: ['SigninLogs'] }] }],
          diagnosticSettings: [
            // another vendor's "mdr" (managed detection and response) setting, streaming to the customer's own hub
            { resourceId: KV1, name: 'mdr-siem', eventHubAuthorizationRuleId: CUSTOMER_RULE, eventHubName: 'siem', logs: [{ category: 'AuditEvent', enabled: true }] },
            // the customer's setting that happens to hold the name we would use
            { resourceId: KV2, name: 'mdr-export', eventHubAuthorizationRuleId: CUSTOMER_RULE, eventHubName: 'siem', logs: [{ category: 'AuditEvent', enabled: true }] },
          ],
          automations: [{ name: 'mdr-alerts-to-teams', resourceGroup: 'ops', location: 'westeurope', workspaceResourceId: WS }],
        },
      ],
    },
  ],
});

describe("the customer's own mdr-* objects (scenario: customer objects with our prefix)", () => {
  let h: SimHarness;
  let first: ReconcileReport;
  const customerObjects = [setting(KV1, 'mdr-siem'), setting(KV2, 'mdr-export'), `${WS}/dataExports/mdr-siem-export`, TEAMS].map((p) => p.toLowerCase());
  const snapshot = () => customerObjects.map((id) => JSON.stringify(h.sim.state.get(id)?.properties ?? null));
  let before: string[];
  const touched = () => h.sim.requests.filter((r) => r.kind !== 'read' && customerObjects.includes(r.path.toLowerCase()));

  beforeAll(async () => {
    h = await startHarness({ scenario });
    addNamespace(h.sim.state, S1, 'siem', 'acme-siem', 'westeurope', 'Standard', 1);
    before = snapshot();
    expect(before.every((p) => p !== 'null')).toBe(true);
    first = await reconcileTenant(ACME, h.deps);
  });
  afterAll(async () => h?.stop());

  it('are neither modified nor deleted by reconcile', () => {
    expect(first.result).toBe('succeeded');
    expect(touched()).toEqual([]);
    expect(snapshot()).toEqual(before);
  });

  it('still get the resource covered under another name of ours when theirs holds our name, with the reason', () => {
    const kv2 = first.plan.find((a) => a.resourceId === KV2)!;
    expect(kv2).toMatchObject({ kind: 'create', coverage: 'created', name: 'mdr-export-2' });
    expect(kv2.reason).toContain("'mdr-export' is not ours");
    expect(h.sim.state.get(setting(KV2, 'mdr-export-2'))?.properties.eventHubAuthorizationRuleId).toMatch(new RegExp(`^/subscriptions/${PROVIDER_SUB}/resourceGroups/mdr-ingest/`, 'i'));
    expect(first.plan.find((a) => a.resourceId === KV1)).toMatchObject({ kind: 'create', name: 'mdr-export' });
  });

  it('record what we wrote in the ledger, and converge with zero writes', async () => {
    expect((await h.registry.listCoverage(ACME)).find((e) => e.resourceId === KV2)?.ownedNames).toEqual(['mdr-export-2']);
    h.sim.clearRequests();
    const again = await reconcileTenant(ACME, h.deps, { full: true });
    expect(h.writes()).toEqual([]);
    expect(again.actions.create ?? 0).toBe(0);
  });

  it("repairs our own setting when someone re-points it at the customer's hub: the ledger records that we wrote it", async () => {
    const customer = createAzureClients({ armEndpoint: h.sim.url, credential: staticTokenCredential('customer-admin'), tlsCa: h.sim.ca, retry: { retryDelayInMs: 5, maxRetryDelayInMs: 20 } });
    await (await customer.monitor()).diagnosticSettings.createOrUpdate(KV1.slice(1), 'mdr-export', { eventHubAuthorizationRuleId: CUSTOMER_RULE, eventHubName: 'siem', logs: [{ category: 'AuditEvent', enabled: true }] });
    h.sim.clearRequests();
    const r = await reconcileTenant(ACME, h.deps);
    expect(r.plan.find((a) => a.resourceId === KV1)).toMatchObject({ kind: 'update', coverage: 'repaired' });
    expect(String(h.sim.state.get(setting(KV1, 'mdr-export'))?.properties.eventHubAuthorizationRuleId)).toMatch(/mdr-ingest/i);
    expect(touched()).toEqual([]);
  });

  it('survive offboarding, which removes exactly ours and verifies it', async () => {
    h.sim.clearRequests();
    const off = await offboardTenant({ settings: h.settings, registry: h.registry, clients: h.clients }, ACME);
    expect(off).toMatchObject({ verified: true, failed: [], status: 'offboarded' });
    expect(off.removed.map((r) => r.name.split('/').pop()).sort()).toEqual([`mdr-${ACME}`, 'mdr-defender-export', 'mdr-entra-export', 'mdr-export', 'mdr-export', 'mdr-export-2'].sort());
    expect(touched()).toEqual([]);
    expect(snapshot()).toEqual(before);
  });
});
