import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import azf from '@azure/functions';
import type { EventHubOutput, HttpResponseInit, StorageQueueOutput } from '@azure/functions';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueClient } from '@azure/storage-queue';
import { TableClient } from '@azure/data-tables';
import { RestError } from '@azure/core-rest-pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activityLogMessages, simIdentity } from '../../sim/activityLogRecords.js';
import { startArmSimulator, type ArmSimulator } from '../../sim/armSimulator.js';
import { createStorageAccountAs } from '../../sim/customerActions.js';
import type { AppServices } from '../../src/lib/app/appServices.js';
import { createAzureClients, staticTokenCredential } from '../../src/lib/azure/clientFactory.js';
import { envSchema, parseSettings, type Settings } from '../../src/lib/config/settings.js';
import { eventDrivenStores, reconcileQueueExtras } from '../../src/lib/eventDriven/eventDrivenServices.js';
import { createHealthTimerHandler } from '../../src/lib/health/healthTimerHandler.js';
import { createMemoryPartitionInfo } from '../../src/lib/health/memoryPartitionInfo.js';
import { ingestRegistrations } from '../../src/lib/ingest/ingestRegistrations.js';
import type { OcsfEvent } from '../../src/lib/ingest/types.js';
import { memoryLogger } from '../../src/lib/log.js';
import { mergeIngestSettings } from '../../src/lib/onboarding/appSettingsSync.js';
import { createGetOnboardingHandler, createListTenantsHandler, createTenantRouteHandler } from '../../src/lib/onboarding/httpHandlers.js';
import { createHealthHttpHandler } from '../../src/lib/health/httpHandlers.js';
import { createCoverageHttpHandler, createReconcileHttpHandler } from '../../src/lib/reconcile/httpHandlers.js';
import { lazyHubProvisioner } from '../../src/lib/onboarding/lazyHub.js';
import { createOnboardingQueueHandler, storageOnboardingQueue } from '../../src/lib/onboarding/longOnboarding.js';
import { createFanOutTimerHandler, createReconcileQueueHandler } from '../../src/lib/reconcile/triggerHandlers.js';
import { createRegistry } from '../../src/lib/registry/createRegistry.js';
import { storageTarget } from '../../src/lib/storage/storageClients.js';
import { objectBody, objectEntries } from '../support/bicep.js';
import { bicepGrants, bicepStorageResources, grantText, mainBicep, scopeText, type Grant, type Identity } from '../support/bicepGrants.js';
import { startAzurite, type AzuriteHandle } from '../support/azurite.js';
import { actionMatches, authorize, classifyStorageRequest, resourceText, roleHolds, startRbacProxy, type RbacProxy, type RecordedRequest, type StorageOperation } from '../support/storageRbac.js';
import { ACME as ACME_FIXTURE, S1 } from '../lib/reconcile/simHarness.js';
import { parseScenario, type Scenario } from '../../sim/scenario.js';

/**
 * Rights audit: every storage request each app makes, in Azure, is allowed by the roles infra/ gives that app.
 *
 * The control app and the ingest app run their real code paths (composed as src/functions/* composes them) on
 * Azurite and the ARM simulator, each through its own RBAC proxy (test/support/storageRbac.ts): every Blob, Queue
 * and Table request is classified as a storage operation, checked against the role assignments that
 * infra/main.bicep and infra/modules/*.bicep make for that app's identity (Microsoft's permission table and role
 * definitions, test/fixtures/rbac) and recorded; a request no role allows is a finding (the proxy lets it through
 * here so one run lists every gap; its own test below shows it refusing them with the service's 403, as Azure does).
 * Settings come from the template too, and the store starts with exactly the tables, queues and containers
 * the template creates. The paths: onboarding (long path through the onboarding queue), the reconcile timer and
 * queue, ingest of activity-log records with change signals, a dead letter and progress, a targeted reconcile that
 * repairs a deleted setting and writes a tamper finding, stream health and offboarding. The trigger and output
 * bindings each app registers (the host's part) are checked from the built app.
 *
 * A code path that needs a right infra does not grant, or a resource infra does not create, fails here with the
 * request, the missing action and the identity; a role nothing uses fails too.
 */
const { HttpRequest, InvocationContext } = azf;
const root = path.resolve(import.meta.dirname, '../..');
const INGEST_APP = { resourceGroup: 'rg-mdr-app', name: 'mdr-ingest01-audit' };
// The acme scenario's tenant with a version-4 GUID, as real tenant ids are (the onboarding work item checks it).
const ACME = 'aaaaaaaa-0000-4000-8000-000000000001';

/** Scenario acme (test/fixtures/reconcile) with one ingest app in the provider's subscription. */
function auditScenario(): Scenario {
  const file = path.join(root, 'test/fixtures/reconcile/acme.scenario.json');
  const raw = JSON.parse(readFileSync(file, 'utf8').replaceAll(ACME_FIXTURE, ACME)) as { provider: Record<string, unknown> };
  raw.provider.ingestApps = [INGEST_APP];
  return parseScenario(raw, file);
}

interface World {
  az: AzuriteHandle;
  sim: ArmSimulator;
  grants: Grant[];
  log: RecordedRequest[];
  proxies: Record<Identity, RbacProxy>;
  /** What each step produced, for the outcome checks. */
  outcomes: Record<string, unknown>;
  errors: { step: string; error: string }[];
}

/** The app settings the template writes for one app (literal values and parameter defaults; computed ones are left to the test). */
function templateSettings(identity: Identity): Record<string, string> {
  const main = mainBicep();
  const entries = [...objectEntries(objectBody(main.vars.get('sharedAppSettings')) ?? ''), ...(identity === 'control' ? objectEntries(objectBody(main.vars.get('controlAppSettings')) ?? '') : [])];
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    const literal = /^'([^'$]*)'$/.exec(v)?.[1] ?? (/^[A-Za-z_]\w*$/.test(v) ? main.defaultOf(v) : undefined);
    if (literal !== undefined) out[k] = literal;
  }
  if (identity === 'ingest') out.MDR_APP_ROLE = 'ingest';
  return out;
}

const ctx = (name: string, triggerMetadata?: Record<string, unknown>) => new InvocationContext({ functionName: name, invocationId: `audit-${name}-${Math.random().toString(36).slice(2, 8)}`, logHandler: () => {}, ...(triggerMetadata ? { triggerMetadata } : {}) });
const json = (r: HttpResponseInit) => (r.jsonBody ?? {}) as Record<string, unknown>;
const get = (route: string) => new HttpRequest({ method: 'GET', url: `http://localhost/api/${route}`, params: { id: ACME } });

/** The Functions host's queue trigger: take visible messages, base64-decode, call the handler, delete; with the app's own identity. */
async function drain(connectionString: string, queueName: string, handle: (message: unknown, dequeueCount: number) => Promise<void>): Promise<number> {
  const q = new QueueClient(connectionString, queueName);
  let n = 0;
  for (;;) {
    const { receivedMessageItems } = await q.receiveMessages({ numberOfMessages: 16 });
    if (receivedMessageItems.length === 0) return n;
    for (const m of receivedMessageItems) {
      await handle(JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')), m.dequeueCount);
      await q.deleteMessage(m.messageId, m.popReceipt);
      n++;
    }
  }
}

async function runWorld(): Promise<World> {
  const az = await startAzurite();
  const scenario = auditScenario();
  const sim = await startArmSimulator({ scenario, asyncOperationPolls: 1 });
  const grants = bicepGrants();
  const log: RecordedRequest[] = [];
  // Refused requests are recorded and let through, so one run lists every missing right, not just the first.
  const proxies = {
    control: await startRbacProxy({ identity: 'control', azurite: az, grants: grants.filter((g) => g.identity === 'control'), log, enforce: false }),
    ingest: await startRbacProxy({ identity: 'ingest', azurite: az, grants: grants.filter((g) => g.identity === 'ingest'), log, enforce: false }),
  };
  const w: World = { az, sim, grants, log, proxies, outcomes: {}, errors: [] };
  const step = async (name: string, f: () => Promise<void>) => {
    try {
      await f();
    } catch (e) {
      w.errors.push({ step: name, error: e instanceof Error ? `${e.name}: ${e.message.replace(/\s+/g, ' ').slice(0, 400)}` : String(e) });
    }
  };

  // The deployed store: exactly the tables, queues and containers the template creates (made outside the proxies).
  for (const r of bicepStorageResources()) {
    if (r.kind === 'table') await TableClient.fromConnectionString(az.connectionString, r.name, { allowInsecureConnection: true }).createTable();
    if (r.kind === 'queue') await new QueueClient(az.connectionString, r.name).createIfNotExists();
    if (r.kind === 'container') await BlobServiceClient.fromConnectionString(az.connectionString).getContainerClient(r.name.replace('<nn>', '01')).createIfNotExists();
  }

  const p = scenario.provider;
  const ingestAppId = `/subscriptions/${p.subscriptionId}/resourceGroups/${INGEST_APP.resourceGroup}/providers/Microsoft.Web/sites/${INGEST_APP.name}`;
  // Values the template computes at deployment (cloud, identities, the fleet) get the simulator's equivalents.
  const deployed = {
    MDR_AZURE_CLOUD: 'Custom',
    MDR_ARM_ENDPOINT: sim.url,
    MDR_AUTHORITY_HOST: 'https://login.microsoftonline.com',
    MDR_PROVIDER_TENANT_ID: p.tenantId,
    MDR_PROVIDER_SUBSCRIPTION_ID: p.subscriptionId,
    MDR_INGEST_PRINCIPAL_ID: 'dddddddd-0000-4000-8000-0000000000a1',
    MDR_EH_POOL_RESOURCE_GROUP: p.poolResourceGroup,
    MDR_EH_POOL_REGIONS: 'westeurope',
    MDR_DOWNSTREAM__fullyQualifiedNamespace: 'mdr-ocsf-audit.servicebus.windows.net',
    // site.identity.principalId of the control app: its ARM writes, as the simulator's activity log names them
    MDR_APP_PRINCIPAL_IDS: simIdentity(sim.state, 'simulator-token', S1).objectId,
    // the coalescing window, shortened so the targeted item is visible at once
    MDR_EVENT_DRIVEN_DELAY_SECONDS: '0',
  };
  const clients = createAzureClients({ armEndpoint: sim.url, credential: staticTokenCredential(), tlsCa: sim.ca, retry: { maxRetries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 50 } });
  const servicesFor = (env: Record<string, string>): AppServices => {
    const settings: Settings = parseSettings(env);
    return { settings, registry: createRegistry(settings), clients, storage: storageTarget(settings) };
  };
  const controlEnv = { ...templateSettings('control'), ...deployed, MDR_INGEST_APPS: ingestAppId, AzureWebJobsStorage: proxies.control.connectionString };
  const control = servicesFor(controlEnv);
  const cs = control.settings;
  // As src/functions/tenantsHttp.ts, onboardingQueue.ts, reconcileTimer.ts and reconcileQueue.ts compose them.
  const tenantDeps = { ...control, lroPollMs: 5, onboardingQueue: storageOnboardingQueue(control.storage, cs.onboarding.queue) };
  const tenantRoute = createTenantRouteHandler(tenantDeps);
  const downstream: EventHubOutput = azf.output.eventHub({ eventHubName: cs.ingest.downstreamEventHub, connection: cs.ingest.downstreamConnection });
  const reconcileQueue = createReconcileQueueHandler(control, lazyHubProvisioner({ ...control, lroPollMs: 5 }), reconcileQueueExtras(control, eventDrivenStores(control), downstream));
  const queueOutput: StorageQueueOutput = azf.output.storageQueue({ queueName: cs.reconcile.queue, connection: 'AzureWebJobsStorage' });
  const findings: OcsfEvent[] = [];
  const runReconcileQueue = () =>
    drain(proxies.control.connectionString, cs.reconcile.queue, async (message, dequeueCount) => {
      const c = ctx('reconcile-tenant', { dequeueCount });
      await reconcileQueue(message, c);
      findings.push(...((c.extraOutputs.get(downstream) as OcsfEvent[] | undefined) ?? []));
    });

  // ---- onboarding: PUT answers 202 (the pool must grow), the onboarding queue finishes it, the retried PUT succeeds
  await step('onboarding', async () => {
    const put = () => tenantRoute(new HttpRequest({ method: 'PUT', url: `http://localhost/api/tenants/${ACME}`, params: { id: ACME }, body: { string: JSON.stringify({ displayName: 'Acme' }) } }), ctx('tenant'));
    const first = await put();
    const continued = await drain(proxies.control.connectionString, cs.onboarding.queue, (m, dequeueCount) => createOnboardingQueueHandler(tenantDeps)(m, ctx('onboarding-continue', { dequeueCount })));
    const second = await put();
    w.outcomes.onboarding = { first: first.status, continued, second: second.status, appSettings: json(second).appSettings };
  });

  // ---- reconcile: the timer's fan-out (the host writes its output binding to the queue), then the queue function
  await step('reconcile', async () => {
    const c = ctx('reconcile-fanout');
    await createFanOutTimerHandler(control, queueOutput)({ isPastDue: false } as never, c);
    const q = new QueueClient(proxies.control.connectionString, cs.reconcile.queue);
    for (const item of (c.extraOutputs.get(queueOutput) as string[] | undefined) ?? []) await q.sendMessage(Buffer.from(item, 'utf8').toString('base64'));
    w.outcomes.reconcile = { items: await runReconcileQueue() };
  });

  // ---- ingest: the app's settings are the template's plus what the control plane wrote into it (appSettings.bicep)
  const written = sim.state.appSettings.get(ingestAppId.toLowerCase()) ?? {};
  const ingestEnv = { ...templateSettings('ingest'), ...deployed, ...written, AzureWebJobsStorage: proxies.ingest.connectionString };
  const ingest = servicesFor(ingestEnv);
  const registrations = ingestRegistrations(ingest, ingestEnv, memoryLogger());
  w.outcomes.registrations = registrations.map((r) => r.functionName);
  const kvSetting = `/subscriptions/${S1}/resourceGroups/app/providers/Microsoft.KeyVault/vaults/acme-kv`;
  const fed = new Set(sim.state.activityOfSubscription(S1).map((e) => e.eventDataId));
  let seq = 0;
  const feed = async (bodies: Buffer[], sequenceNumbers = bodies.map(() => seq++)) => {
    const r = registrations.find((x) => x.functionName.endsWith('-westeurope'));
    if (!r) throw new Error(`the ingest app registered no trigger (settings written into it: ${Object.keys(written).join(', ') || 'none'})`);
    const c = ctx(r.functionName, { partitionContext: { partitionId: '0' }, sequenceNumberArray: sequenceNumbers });
    await r.options.handler(bodies, c);
    return sequenceNumbers;
  };
  const newRecords = () => {
    const bodies = activityLogMessages(sim.state, [S1], 0, (e) => !fed.has(e.eventDataId));
    for (const b of bodies) for (const e of b.events) fed.add(e.eventDataId);
    return bodies.map((b) => Buffer.from(b.body, 'utf8'));
  };
  await step('ingest', async () => {
    // Someone in the customer's tenant deletes our Key Vault setting: its record and a broken message (a dead letter).
    const customer = createAzureClients({ armEndpoint: sim.url, credential: staticTokenCredential('customer-admin'), tlsCa: sim.ca, retry: { retryDelayInMs: 5, maxRetryDelayInMs: 20 } });
    await (await customer.monitor()).diagnosticSettings.delete(kvSetting.slice(1), 'mdr-export');
    const batch = [...newRecords(), Buffer.from('{"records":[{"not":"an activity log record"', 'utf8')];
    const seqs = await feed(batch);
    await feed(batch, seqs); // the host redelivers it
    // A storage account created while the item waits joins it.
    createStorageAccountAs(sim, 'customer-admin', S1, { name: 'acmeaudit', resourceGroup: 'app', location: 'westeurope' });
    await feed(newRecords());
  });

  // ---- the targeted reconcile: the claim, the repair, the tamper finding where OCSF events go
  await step('targeted reconcile', async () => {
    const items = await runReconcileQueue();
    w.outcomes.targeted = { items, repaired: sim.state.get(`${kvSetting}/providers/Microsoft.Insights/diagnosticSettings/mdr-export`) !== undefined, downstream: findings.map((f) => f.class_uid) };
  });

  // ---- stream health (partition runtime from memory: the Event Hubs side is a data-plane read of the pool)
  await step('health', async () => {
    const partitionInfo = createMemoryPartitionInfo();
    for (const h of await control.registry.listHubs(ACME)) {
      const ns = `${h.namespace}.${cs.cloud.eventHubsSuffix}`;
      partitionInfo.set(ns, h.hub, { partitions: [{ partitionId: '0', lastEnqueuedSequenceNumber: seq - 1, lastEnqueuedOnUtc: new Date(), isEmpty: false }] });
    }
    const healthDeps = { settings: cs, registry: control.registry, partitionInfo };
    await createHealthTimerHandler(healthDeps)({ isPastDue: false } as never, ctx('stream-health'));
    w.outcomes.health = { get: (await createHealthHttpHandler(healthDeps)(get(`tenants/${ACME}/health`), ctx('tenant-health'))).status };
  });

  // ---- the rest of the HTTP API (as tenantsHttp.ts and reconcileHttp.ts compose it): reads and a manual reconcile
  await step('http api', async () => {
    const reconcileDeps = { ...control, ensureHub: lazyHubProvisioner({ ...control, lroPollMs: 5 }) };
    w.outcomes.http = {
      list: (await createListTenantsHandler(tenantDeps)(get('tenants'), ctx('tenants-list'))).status,
      tenant: (await tenantRoute(get(`tenants/${ACME}`), ctx('tenant'))).status,
      onboarding: (await createGetOnboardingHandler(tenantDeps)(get(`tenants/${ACME}/onboarding`), ctx('tenant-onboarding'))).status,
      coverage: (await createCoverageHttpHandler(reconcileDeps)(get(`tenants/${ACME}/coverage`), ctx('tenant-coverage'))).status,
      reconcile: (await createReconcileHttpHandler(reconcileDeps)(new HttpRequest({ method: 'POST', url: `http://localhost/api/tenants/${ACME}/reconcile`, params: { id: ACME } }), ctx('tenant-reconcile'))).status,
    };
  });

  // ---- offboarding
  await step('offboarding', async () => {
    const res = await tenantRoute(new HttpRequest({ method: 'DELETE', url: `http://localhost/api/tenants/${ACME}`, params: { id: ACME } }), ctx('tenant'));
    w.outcomes.offboarding = { status: res.status, tenant: (await control.registry.getTenant(ACME))?.status };
  });

  // What reached the outputs (read directly, not as either app).
  const blobs = BlobServiceClient.fromConnectionString(az.connectionString);
  const names = async (container: string) => {
    const out: string[] = [];
    for await (const b of blobs.getContainerClient(container).listBlobsFlat({ prefix: `${ACME}/` })) out.push(b.name);
    return out;
  };
  const events = await names(cs.ingest.outputContainer);
  const tamper = events.filter((n) => n.includes('/detection_finding/') && n.includes('tamper-'));
  const finding = tamper[0] ? (JSON.parse(gunzipSync(await blobs.getContainerClient(cs.ingest.outputContainer).getBlobClient(tamper[0]).downloadToBuffer()).toString('utf8').trim()) as OcsfEvent) : undefined;
  w.outcomes.outputs = { events: events.length - tamper.length, tamper: tamper.length, findingClass: finding?.class_uid, deadLetters: (await names(cs.ingest.deadLetterContainer)).length };
  return w;
}

let w: World | undefined;
const world = () => {
  if (!w) throw new Error('the audit world did not start');
  return w;
};

beforeAll(async () => {
  w = await runWorld();
}, 240_000);

afterAll(async () => {
  await w?.proxies.control.stop();
  await w?.proxies.ingest.stop();
  await w?.sim.stop();
  await w?.az.stop();
});

const describeDenied = (r: RecordedRequest) => `${r.identity}: ${r.operation} on ${resourceText(r.resource)} (${r.method} ${r.path}) needs ${r.missing.join(' + ')}`;

describe('rights audit: each app role against the roles infra/ grants it', () => {
  it('runs every path to its end: onboarding, reconcile, ingest with change signals, the targeted repair with its finding, health, the HTTP API, offboarding', () => {
    const { outcomes, errors } = world();
    expect(errors).toEqual([]);
    expect(outcomes.onboarding).toMatchObject({ first: 202, continued: 1 });
    expect([200, 201]).toContain((outcomes.onboarding as { second: number }).second);
    expect((outcomes.reconcile as { items: number }).items).toBeGreaterThanOrEqual(1);
    expect(outcomes.registrations).toContain(`ingest-${ACME.replace(/-/g, '')}-westeurope`);
    // One targeted item (the deleted setting and the new account coalesced, the redelivery added nothing), the
    // setting back, and the finding both in the blob output and on the downstream binding.
    expect(outcomes.targeted).toEqual({ items: 1, repaired: true, downstream: [2004] });
    expect(outcomes.outputs).toMatchObject({ tamper: 1, findingClass: 2004, deadLetters: 1 });
    expect((outcomes.outputs as { events: number }).events).toBeGreaterThan(0);
    expect(outcomes.health).toEqual({ get: 200 });
    expect(outcomes.http).toEqual({ list: 200, tenant: 200, onboarding: 200, coverage: 200, reconcile: 200 });
    expect(outcomes.offboarding).toMatchObject({ status: 200, tenant: 'offboarded' });
  });

  it.each<Identity>(['control', 'ingest'])('lets the %s app make every storage request its code makes (none refused, none unclassified)', (identity) => {
    const mine = world().log.filter((r) => r.identity === identity);
    expect(mine.filter((r) => r.operation.startsWith('unclassified')).map(describeDenied)).toEqual([]);
    expect(mine.filter((r) => !r.allowed).map(describeDenied)).toEqual([]);
    expect(mine.length).toBeGreaterThan(10);
  });

  it('never has an ingest app create a table or queue: its data roles cannot, so the template creates them', () => {
    // Its output containers' create-if-not-exists is allowed (Blob Data Contributor holds containers/write on its
    // container) and checked like every other request above.
    const creates = world().log.filter((r) => r.identity === 'ingest' && (r.operation === 'Create Table' || r.operation === 'Create Queue'));
    expect(world().log.some((r) => r.identity === 'control' && r.operation === 'Create Table')).toBe(true);
    expect(creates.map((r) => `${r.operation} ${resourceText(r.resource)}`)).toEqual([]);
  });

  it('exercises every data-plane role of both apps, except those only the Functions host, the platform or ARM use', () => {
    const { grants, log } = world();
    const used = new Set(log.filter((r) => r.allowed).flatMap((r) => r.by));
    for (const b of builtAppBindings()) for (const g of bindingGrants(b)) used.add(g);
    // Used outside what this test can run, each for the reason given.
    const elsewhere = (g: Grant) =>
      (g.scope.kind === 'container' && /^azure-webjobs-(hosts|secrets)$|^app-package/.test(g.scope.name)) || // Functions host storage (keys, locks) and Flex deployment packages
      (g.scope.kind === 'container' && g.scope.name === 'azure-webjobs-eventhub') || // Event Hubs checkpoints: written by the host's trigger
      g.role.startsWith('MDR ') || // custom ARM roles (pool manager, settings writer)
      g.role === 'Monitoring Metrics Publisher' || // Application Insights ingestion by the platform
      (g.identity === 'control' && g.role === 'Azure Event Hubs Data Receiver'); // stream health reads partition properties over AMQP (memory stand-in here)
    const unused = grants.filter((g) => !elsewhere(g) && !used.has(grantText(g))).map((g) => `${g.identity}: ${grantText(g)} (${g.source})`);
    expect(unused).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------------ static checks

describe('rights audit: what the template creates and sets', () => {
  it('creates every table, queue and container a role is scoped to (a data role cannot create its resource)', () => {
    const created = new Set(bicepStorageResources().map((r) => `${r.kind} ${r.name}`));
    const scoped = bicepGrants().filter((g) => g.scope.kind === 'container' || g.scope.kind === 'queue' || g.scope.kind === 'table');
    expect(scoped.length).toBeGreaterThan(5);
    expect(scoped.filter((g) => !created.has(scopeText(g.scope))).map((g) => `${g.identity}: ${grantText(g)}`)).toEqual([]);
  });

  it('sets MDR_APP_PRINCIPAL_IDS to the control app identity on the control app and every ingest app, and keeps it through settings syncs', () => {
    const main = mainBicep();
    expect(objectEntries(objectBody(main.vars.get('sharedAppSettings')) ?? '').get('MDR_APP_PRINCIPAL_IDS')).toBe('site.identity.principalId');
    expect(objectEntries(objectBody(main.vars.get('controlAppSettings')) ?? '').has('MDR_APP_PRINCIPAL_IDS')).toBe(false);
    const call = objectEntries(objectBody(main.decls.find((d) => d.target === 'modules/ingestApp.bicep')?.properties.get('params')) ?? '');
    expect(call.get('sharedSettings')).toBe('sharedAppSettings');
    // The control plane's bindings sync rewrites an ingest app's settings: everything not its own is kept.
    const current = { MDR_APP_PRINCIPAL_IDS: 'oid-1', MDR_APP_ROLE: 'ingest', MDR_INGEST_BINDINGS: '[]', MDR_EHNS_OLD__fullyQualifiedNamespace: 'old' };
    const { next } = mergeIngestSettings(current, { MDR_INGEST_BINDINGS: '[{"x":1}]' });
    expect(next).toMatchObject({ MDR_APP_PRINCIPAL_IDS: 'oid-1', MDR_APP_ROLE: 'ingest' });
    expect(next).not.toHaveProperty('MDR_EHNS_OLD__fullyQualifiedNamespace');
  });

  it("lists every app setting in infra/README's table of what the template sets or leaves at its default", () => {
    const readme = readFileSync(path.join(root, 'infra/README.md'), 'utf8');
    const start = readme.indexOf('## Settings written by the template');
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    // First-column names; `*` and `<NS>` stand for any text.
    const names = section
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .flatMap((l) => [...(l.split('|')[1] ?? '').matchAll(/`([A-Za-z_*<>]+)`/g)].map((m) => new RegExp(`^${m[1]!.replace(/\*|<[^>]*>/g, '.*')}$`)));
    expect(names.length).toBeGreaterThan(20);
    expect(Object.keys(envSchema.shape).filter((k) => !names.some((re) => re.test(k)))).toEqual([]);
  });

  it.each<Identity>(['control', 'ingest'])('grants the %s app what the trigger and output bindings it registers need (the Functions host uses its identity)', (identity) => {
    const grants = bicepGrants().filter((g) => g.identity === identity);
    const missing = builtAppBindings()
      .filter((b) => b.identity === identity)
      .flatMap((b) => (bindingGrants(b, grants).length > 0 ? [] : [`${b.function}: ${b.binding} (${b.needs.map((n) => n.text).join('; ')})`]));
    expect(builtAppBindings().filter((b) => b.identity === identity).length).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------------ bindings

interface Need {
  text: string;
  /** A storage operation (checked with authorize), or an Event Hubs data action on the pool or the downstream hub. */
  storage?: StorageOperation;
  eventHubs?: { action: string; scope: 'pool resource group' | 'downstream hub' };
}
interface BindingNeed {
  identity: Identity;
  function: string;
  binding: string;
  needs: Need[];
}

let bindingsCache: BindingNeed[] | undefined;
/** The bindings the built app registers in each role, with the template's settings, and what each needs of the identity. */
function builtAppBindings(): BindingNeed[] {
  if (bindingsCache) return bindingsCache;
  const out: BindingNeed[] = [];
  const binding = { tenantId: ACME, region: 'westeurope', namespace: 'mdr-ingest-westeurope-01', hub: `mdr-${ACME}`, consumerGroup: 'mdr-ingest', connection: 'MDR_EHNS_MDR_INGEST_WESTEUROPE_01' };
  for (const identity of ['control', 'ingest'] as const) {
    const env = {
      ...templateSettings(identity),
      MDR_PROVIDER_TENANT_ID: '11111111-1111-1111-1111-111111111111',
      MDR_PROVIDER_SUBSCRIPTION_ID: '22222222-2222-2222-2222-222222222222',
      MDR_INGEST_PRINCIPAL_ID: '33333333-3333-3333-3333-333333333333',
      MDR_DOWNSTREAM__fullyQualifiedNamespace: 'mdr-ocsf-audit.servicebus.windows.net',
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      ...(identity === 'ingest' ? { MDR_INGEST_BINDINGS: JSON.stringify([binding]), [`${binding.connection}__fullyQualifiedNamespace`]: `${binding.namespace}.servicebus.windows.net` } : {}),
    };
    const stdout = execFileSync(process.execPath, ['--require', './test/support/fakeFunctionsCore.cjs', './test/support/listRegistrations.mjs'], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
    const regs = (JSON.parse(stdout) as { registrations: { name: string; bindings: Record<string, Record<string, unknown>> }[] }).registrations;
    for (const r of regs)
      for (const b of Object.values(r.bindings)) {
        const needs = bindingNeeds(b, env);
        if (needs.length > 0) out.push({ identity, function: r.name, binding: `${String(b.type)} ${String(b.queueName ?? b.eventHubName ?? '')}`, needs });
      }
  }
  return (bindingsCache = out);
}

const queueOp = (operation: string, name: string): Need => ({ text: `${operation} on queue ${name}`, storage: { service: 'queue', operation, resource: { kind: 'queue', name } } });

/** What a binding needs (Functions docs: identity-based connections; queue trigger poison queue), test/fixtures/rbac sources. */
function bindingNeeds(b: Record<string, unknown>, env: Record<string, string>): Need[] {
  const queue = String(b.queueName ?? '');
  const hubScope = b.connection === env.MDR_DOWNSTREAM_EVENTHUB_CONNECTION || b.connection === 'MDR_DOWNSTREAM' ? 'downstream hub' : 'pool resource group';
  switch (b.type) {
    case 'queueTrigger':
      // Storage Queue Data Reader + Message Processor on the queue; a message that keeps failing goes to <queue>-poison.
      return [queueOp('Get Queue Metadata', queue), queueOp('Peek Messages', queue), queueOp('Get Messages', queue), queueOp('Delete Message', queue), queueOp('Create Queue', `${queue}-poison`), queueOp('Put Message', `${queue}-poison`)];
    case 'queue':
      return [queueOp('Put Message', queue)];
    case 'eventHubTrigger':
      return [{ text: `receive from ${String(b.eventHubName)} (${hubScope})`, eventHubs: { action: 'Microsoft.EventHub/namespaces/messages/receive/action', scope: hubScope } }];
    case 'eventHub':
      return [{ text: `send to ${String(b.eventHubName)} (${hubScope})`, eventHubs: { action: 'Microsoft.EventHub/namespaces/messages/send/action', scope: hubScope } }];
    default:
      return [];
  }
}

/** The grants ("<role> @ <scope>") that together meet every need of a binding; empty when some need is unmet. */
function bindingGrants(b: BindingNeed, grants: readonly Grant[] = bicepGrants().filter((g) => g.identity === b.identity)): string[] {
  const by: string[] = [];
  for (const n of b.needs) {
    if (n.storage) {
      const d = authorize(grants, n.storage);
      if (!d.allowed) return [];
      by.push(...d.by.map((g) => grantText(g)));
    } else if (n.eventHubs) {
      const g = grants.find((x) => x.scope.kind === n.eventHubs!.scope && roleHolds(x.role, n.eventHubs!.action));
      if (!g) return [];
      by.push(grantText(g));
    }
  }
  return by;
}

// ------------------------------------------------------------------------------------------------ the stand-in itself

describe('the RBAC stand-in (test/support/storageRbac.ts)', () => {
  it('matches actions the way Azure RBAC wildcards do', () => {
    expect(actionMatches('Microsoft.Storage/storageAccounts/blobServices/containers/*', 'Microsoft.Storage/storageAccounts/blobServices/containers/write')).toBe(true);
    expect(actionMatches('Microsoft.EventHub/*/send/action', 'Microsoft.EventHub/namespaces/messages/send/action')).toBe(true);
    expect(actionMatches('Microsoft.EventHub/*/send/action', 'Microsoft.EventHub/namespaces/messages/receive/action')).toBe(false);
    expect(roleHolds('Storage Table Data Reader', 'Microsoft.Storage/storageAccounts/tableServices/tables/entities/read')).toBe(true);
    expect(roleHolds('Storage Table Data Reader', 'Microsoft.Storage/storageAccounts/tableServices/tables/write')).toBe(false);
    expect(roleHolds('Storage Queue Data Message Sender', 'Microsoft.Storage/storageAccounts/queueServices/queues/write')).toBe(false);
    expect(roleHolds('MDR Event Hubs pool manager', 'Microsoft.EventHub/namespaces/messages/send/action')).toBe(true);
    expect(roleHolds('MDR Event Hubs pool manager', 'Microsoft.EventHub/namespaces/delete')).toBe(false);
  });

  it('classifies the requests the SDKs make and refuses them as the service does, per role and scope', async () => {
    const az = await startAzurite();
    const log: RecordedRequest[] = [];
    const table = (name: string) => ({ kind: 'table' as const, name });
    const proxy = await startRbacProxy({
      identity: 'probe',
      azurite: az,
      log,
      grants: [
        { role: 'Storage Table Data Reader', scope: table('probeReader') },
        { role: 'Storage Table Data Contributor', scope: table('probeWriter') },
        { role: 'Storage Queue Data Message Sender', scope: { kind: 'queue', name: 'probe-q' } },
        { role: 'Storage Blob Data Contributor', scope: { kind: 'container', name: 'probe-c' } },
      ],
    });
    try {
      for (const t of ['probeReader', 'probeWriter']) await TableClient.fromConnectionString(az.connectionString, t, { allowInsecureConnection: true }).createTable();
      await new QueueClient(az.connectionString, 'probe-q').create();
      const status = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof RestError ? `${e.statusCode} ${String((e.details as { errorCode?: string } | undefined)?.errorCode ?? e.code ?? '')}` : String(e)));
      const reader = TableClient.fromConnectionString(proxy.connectionString, 'probeReader', { allowInsecureConnection: true });
      const writer = TableClient.fromConnectionString(proxy.connectionString, 'probeWriter', { allowInsecureConnection: true });
      const q = new QueueClient(proxy.connectionString, 'probe-q');
      const c = BlobServiceClient.fromConnectionString(proxy.connectionString).getContainerClient('probe-c');
      const results = {
        readerCreateTable: await status(reader.createTable()),
        readerQuery: await status(reader.getEntity('p', 'r')),
        readerInsert: await status(reader.createEntity({ partitionKey: 'p', rowKey: 'r' })),
        writerInsert: await status(writer.createEntity({ partitionKey: 'p', rowKey: 'r', v: 1 })),
        writerUpdate: await status(writer.updateEntity({ partitionKey: 'p', rowKey: 'r', v: 2 }, 'Replace', { etag: '*' })),
        writerUpsert: await status(writer.upsertEntity({ partitionKey: 'p', rowKey: 'r', v: 3 }, 'Merge')),
        writerBatch: await status(writer.submitTransaction([['upsert', { partitionKey: 'p', rowKey: 's' }, 'Replace'], ['delete', { partitionKey: 'p', rowKey: 'r' }]])),
        senderCreateQueue: await status(q.createIfNotExists()),
        senderSend: await status(q.sendMessage('aGk=')),
        senderReceive: await status(q.receiveMessages()),
        blobCreateContainer: await status(c.createIfNotExists()),
        blobUpload: await status(c.getBlockBlobClient('x/y.json').uploadData(Buffer.from('{}'))),
        otherContainer: await status(BlobServiceClient.fromConnectionString(proxy.connectionString).getContainerClient('other').createIfNotExists()),
      };
      expect(results).toEqual({
        readerCreateTable: '403 AuthorizationPermissionMismatch',
        readerQuery: '404 ResourceNotFound',
        readerInsert: '403 AuthorizationPermissionMismatch',
        writerInsert: 'ok',
        writerUpdate: 'ok',
        writerUpsert: 'ok',
        writerBatch: 'ok',
        senderCreateQueue: '403 AuthorizationPermissionMismatch',
        senderSend: 'ok',
        senderReceive: '403 AuthorizationPermissionMismatch',
        blobCreateContainer: 'ok',
        blobUpload: 'ok',
        otherContainer: '403 AuthorizationPermissionMismatch',
      });
      expect(log.map((r) => `${r.operation} ${resourceText(r.resource)}`)).toEqual([
        'Create Table table probeReader',
        'Query Entities table probeReader',
        'Insert Entity table probeReader',
        'Insert Entity table probeWriter',
        'Update Entity table probeWriter',
        'Insert Or Merge Entity table probeWriter',
        'Insert Or Replace Entity table probeWriter',
        'Delete Entity table probeWriter',
        'Create Queue queue probe-q',
        'Put Message queue probe-q',
        'Get Messages queue probe-q',
        'Create Container container probe-c',
        'Put Blob container probe-c',
        'Create Container container other',
      ]);
      expect(classifyStorageRequest('blob', 'PUT', new URL('http://h/acct/c/b?comp=tier'), {}, Buffer.alloc(0))[0]?.operation).toMatch(/^unclassified /);
    } finally {
      await proxy.stop();
      await az.stop();
    }
  }, 120_000);
});
