import { join } from 'node:path';
import { startArmSimulator, type ArmSimulator, type RecordedRequest } from '../../sim/armSimulator.js';
import { loadScenario, type Scenario } from '../../sim/scenario.js';
import { setAlertState, ALERT_STATES } from '../../src/lib/alerts/alertState.js';
import { createAzureClients, staticTokenCredential, type AzureClients } from '../../src/lib/azure/clientFactory.js';
import { parseSettings } from '../../src/lib/config/settings.js';
import { offboardTenant } from '../../src/lib/onboarding/offboardTenant.js';
import { ensureTenantHub, onboardTenant } from '../../src/lib/onboarding/onboardTenant.js';
import { buildFanOut } from '../../src/lib/reconcile/fanOut.js';
import { reconcileTenant, type ReconcileDeps } from '../../src/lib/reconcile/reconcileTenant.js';
import { createMemoryRegistry } from '../../src/lib/registry/memoryRegistry.js';

/** The exchanges of one run, split by who sent them: the app's own code, or this file's probes of the simulator's error answers. */
export interface RunRecording {
  scenario: Scenario;
  /** Every request the app sent and what the simulator answered, in order. */
  app: RecordedRequest[];
  /** Requests the app would never send: one drawing each resource provider's error answer, and an alert read at 2021-11-01. */
  probes: RecordedRequest[];
  /** Alert status read back by setAlertState after each change: [state written, `from` of the next change]. */
  alertReadBack: { wrote: string; readBack: string | undefined }[];
}

const root = join(import.meta.dirname, '..', '..');
const RG_ALERT = 'rg-alert-conformance';

/**
 * One representative life of a tenant against the simulator, recording every exchange: onboarding (namespace pool,
 * hub, rules, consumer group, app settings), the timer's subscription listing, reconciles until converged (Resource
 * Graph, diagnostic settings, data export, Defender automations, listKeys, the activity-log change feed), every alert
 * state at subscription and resource-group level, then offboarding (our objects, hubs, then the Lighthouse assignments). scenarios/example.json plus one RG-level alert.
 */
export async function representativeRun(): Promise<RunRecording> {
  const scenario = await loadScenario(join(root, 'scenarios', 'example.json'));
  const customer = scenario.tenants[0]!;
  const prod = customer.subscriptions[0]!;
  prod.alerts.push({ name: RG_ALERT, location: 'westeurope', resourceGroup: prod.resourceGroups[0]!.name, alertDisplayName: 'Conformance', severity: 'Low', status: 'Active' });
  // Small pages, so every list that can page does (and one that must not, shows it).
  const sim = await startArmSimulator({ scenario, asyncOperationPolls: 1, recordResponses: true, pageSize: 2, resourceGraphPageSize: 4 });
  try {
    const app = await appRun(sim, scenario);
    const appRequests = [...sim.requests];
    sim.clearRequests();
    // Offboarding removed the provider's delegation: the customer delegates again, so probes reach the providers.
    for (const s of customer.subscriptions) if (s.delegated) sim.state.subscription(s.subscriptionId)!.delegated = true;
    await probeErrors(sim, scenario);
    return { scenario, app: appRequests, probes: [...sim.requests], alertReadBack: app.alertReadBack };
  } finally {
    await sim.stop();
  }
}

function clientsFor(sim: ArmSimulator): AzureClients {
  return createAzureClients({ armEndpoint: sim.url, credential: staticTokenCredential(), tlsCa: sim.ca, retry: { maxRetries: 0 } });
}

async function appRun(sim: ArmSimulator, scenario: Scenario): Promise<{ alertReadBack: RunRecording['alertReadBack'] }> {
  const p = scenario.provider;
  const customer = scenario.tenants[0]!;
  const tenantId = customer.tenantId.toLowerCase();
  const settings = parseSettings({
    MDR_PROVIDER_TENANT_ID: p.tenantId,
    MDR_PROVIDER_SUBSCRIPTION_ID: p.subscriptionId,
    MDR_INGEST_PRINCIPAL_ID: 'dddddddd-0000-4000-8000-000000000001',
    MDR_EH_POOL_RESOURCE_GROUP: p.poolResourceGroup,
    MDR_EH_POOL_REGIONS: 'westeurope',
    MDR_FUNCTION_APP_RESOURCE_ID: `/subscriptions/${p.subscriptionId}/resourceGroups/${p.functionApp!.resourceGroup}/providers/Microsoft.Web/sites/${p.functionApp!.name}`,
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  });
  const clients = clientsFor(sim);
  const registry = createMemoryRegistry();
  const onboarding = { settings, registry, clients, lroPollMs: 1 };

  await onboardTenant(onboarding, tenantId, { displayName: customer.displayName });
  await buildFanOut({ registry, clients, split: 1 });
  const deps: ReconcileDeps = { settings, registry, clients, ensureHub: async (t, region) => (await ensureTenantHub(onboarding, t.tenantId, region)).hub };
  // Until a run plans no write; the runs after the first read the activity log as their change feed.
  for (let run = 0; run < 5; run++) {
    const r = await reconcileTenant(tenantId, deps);
    if (!r.plan.some((a) => a.kind === 'create' || a.kind === 'update' || a.kind === 'delete')) break;
  }

  const alertReadBack: RunRecording['alertReadBack'] = [];
  const sub = customer.subscriptions[0]!;
  for (const alert of sub.alerts) {
    let last: string | undefined;
    // Each state, then Active again: every `from` after the first is the state written just before.
    for (const state of [...ALERT_STATES, 'Active'] as const) {
      const r = await setAlertState({
        clients,
        tenant: { tenantId },
        alertName: alert.name,
        body: { state, subscriptionId: sub.subscriptionId.toLowerCase(), location: alert.location, ...(alert.resourceGroup ? { resourceGroup: alert.resourceGroup } : {}) },
      });
      if (last !== undefined) alertReadBack.push({ wrote: last, readBack: r.from });
      last = state;
    }
  }

  await offboardTenant({ settings, registry, clients }, tenantId);
  return { alertReadBack };
}

/** Requests the app never sends, each drawing one resource provider's error answer (404 or 400) for the error-shape check. */
async function probeErrors(sim: ArmSimulator, scenario: Scenario): Promise<void> {
  const clients = clientsFor(sim);
  const p = scenario.provider;
  const sub = scenario.tenants[0]!.subscriptions[0]!;
  const ws = sub.workspaces[0]!;
  const swallow = async (f: () => Promise<unknown>) => {
    try {
      await f();
    } catch {
      /* the recorded exchange is what the test checks */
    }
  };
  const monitor = await clients.monitor();
  await swallow(() => monitor.diagnosticSettings.get(`subscriptions/${sub.subscriptionId}`, 'no-such-setting'));
  await swallow(() => monitor.diagnosticSettings.get(`subscriptions/${sub.subscriptionId}/resourceGroups/${sub.keyVaults[0]!.resourceGroup}/providers/Microsoft.KeyVault/vaults/${sub.keyVaults[0]!.name}`, 'no-such-setting'));
  await swallow(() => monitor.diagnosticSettings.createOrUpdate(`subscriptions/${sub.subscriptionId}`, 'bad-category', { logs: [{ category: 'NoSuchCategory', enabled: true }], workspaceId: `/subscriptions/${sub.subscriptionId}/resourceGroups/${ws.resourceGroup}/providers/Microsoft.OperationalInsights/workspaces/${ws.name}` }));
  const eh = await clients.eventHub(p.subscriptionId);
  await swallow(() => eh.namespaces.get(p.poolResourceGroup, 'no-such-namespace'));
  await swallow(() => eh.eventHubs.get(p.poolResourceGroup, 'no-such-namespace', 'no-such-hub'));
  const la = await clients.operationalInsights(sub.subscriptionId);
  await swallow(() => la.dataExports.get(ws.resourceGroup, ws.name, 'no-such-export'));
  const sec = await clients.security(sub.subscriptionId);
  await swallow(() => sec.automations.get(sub.resourceGroups[0]!.name, 'no-such-automation'));
  await swallow(() => sec.alerts.getSubscriptionLevel('westeurope', 'no-such-alert'));
  // An analyst set an alert InProgress in the portal; a client still on 2021-11-01 (arm-security 5.0.0) reads it.
  const alert = sub.alerts.find((a) => !a.resourceGroup)!;
  const stored = sim.state.get(`/subscriptions/${sub.subscriptionId}/providers/Microsoft.Security/locations/${alert.location}/alerts/${alert.name}`);
  if (stored) stored.properties.status = 'InProgress';
  await swallow(() => sec.alerts.getSubscriptionLevel(alert.location, alert.name));
  const rg = await clients.resourceGraph();
  await swallow(() => rg.resources({ query: 'NoSuchTable | take 1', subscriptions: [sub.subscriptionId] }));
  const monitorSub = await clients.monitor(sub.subscriptionId);
  await swallow(async () => {
    for await (const _ of monitorSub.activityLogs.list("resourceProvider eq 'Microsoft.Insights'")) break;
  });
  // Not an error: the full event (no $select), which the app's change feed never asks for.
  const since = new Date(sim.now() - 3_600_000).toISOString();
  await swallow(async () => {
    for await (const _ of monitorSub.activityLogs.list(`eventTimestamp ge '${since}' and eventTimestamp le '${new Date(sim.now()).toISOString()}'`)) break;
  });
  const lighthouse = await clients.managedServices();
  await swallow(() => lighthouse.listRegistrationAssignments(`subscriptions/${sub.subscriptionId}`, { managedByTenantId: "x' or true or '" }));
  const web = await clients.appService(p.subscriptionId);
  await swallow(() => web.webApps.listApplicationSettings(p.functionApp!.resourceGroup, 'no-such-app'));
}
