import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import azf from '@azure/functions';
import type { HttpResponseInit } from '@azure/functions';
import { BlobServiceClient } from '@azure/storage-blob';
import { startArmSimulator, type ArmSimulator } from '../../sim/armSimulator.js';
import { startAzurite, type AzuriteHandle } from '../../sim/azurite.js';
import { loadScenario, type Scenario } from '../../sim/scenario.js';
import { createAlertStateHttpHandler } from '../../src/lib/alerts/httpHandlers.js';
import type { AlertStateResult } from '../../src/lib/alerts/alertState.js';
import { readAlertStatus } from '../../src/lib/alerts/alertsApi2022.js';
import { createAzureClients, staticTokenCredential, type AzureClients } from '../../src/lib/azure/clientFactory.js';
import type { IngestBinding } from '../../src/lib/config/ingestBindings.js';
import { parseSettings, type Settings } from '../../src/lib/config/settings.js';
import { createMemoryPartitionInfo } from '../../src/lib/health/memoryPartitionInfo.js';
import { runHealthCheck, type HealthRunReport } from '../../src/lib/health/runHealthCheck.js';
import type { IngestBatchResult } from '../../src/lib/ingest/handleIngestBatch.js';
import { createIngestHandler } from '../../src/lib/ingest/ingestHandler.js';
import { ocsfClassName, validateOcsfEvent } from '../../src/lib/ingest/ocsf/validate.js';
import type { OcsfEvent } from '../../src/lib/ingest/types.js';
import { failedRecordsOf, parseDeadLetter, type StoredDeadLetter } from '../../src/lib/ingest/deadLetter.js';
import { memoryLogger, type Logger } from '../../src/lib/log.js';
import { syncIngestAppSettings, type AppSettingsSyncResult } from '../../src/lib/onboarding/appSettingsSync.js';
import { createGetOperationHandler, createGetTenantHandler, createPutTenantHandler } from '../../src/lib/onboarding/httpHandlers.js';
import { createOnboardingQueueHandler, storageOnboardingQueue } from '../../src/lib/onboarding/longOnboarding.js';
import { QueueClient } from '@azure/storage-queue';
import { ingestTriggers } from '../../src/lib/onboarding/ingestTriggers.js';
import { ensureTenantHub } from '../../src/lib/onboarding/onboardTenant.js';
import { coverageReport, type CoverageReport } from '../../src/lib/reconcile/coverageReport.js';
import { normalizeRegion } from '../../src/lib/reconcile/plan.js';
import { knownSubscriptionIds } from '../../src/lib/reconcile/knownSubscriptions.js';
import { reconcileTenant, type ReconcileDeps } from '../../src/lib/reconcile/reconcileTenant.js';
import { bindingsFromRegistry } from '../../src/lib/registry/bindingsFromRegistry.js';
import { createRegistry } from '../../src/lib/registry/createRegistry.js';
import type { CoverageState, HubAssignment, TenantRecord } from '../../src/lib/registry/types.js';
import type { AppServices } from '../../src/lib/app/appServices.js';
import { storageTarget } from '../../src/lib/storage/storageClients.js';
import { repoRoot } from '../bench/repoRoot.js';
import { sandboxReport } from './report.js';
import { sandboxTelemetry, type TelemetryMessage } from './sandboxTelemetry.js';
import { runEventDrivenDemo, sandboxAppPrincipalId, type EventDrivenResult } from './eventDrivenDemo.js';

const { HttpRequest, InvocationContext } = azf;

/**
 * The whole connector end to end on a scenario: Azurite + the ARM simulator, onboarding through the real HTTP
 * handler, the reconciler until it converges, the corpus (re-stamped with the scenario's ids) through the Event Hub
 * handler with blob outputs, stream health and an alert-state change; then the outputs read back from the blobs.
 * Everything started here is stopped before it returns, on success or failure.
 */
export interface SandboxOptions {
  scenarioPath: string;
  outDir: string;
  /** Progress lines (the CLI writes them to stderr). */
  log?: (line: string) => void;
  /** Repository root (fixtures); found from this module by default. */
  root?: string;
}

export const FINAL_STATES: ReadonlySet<CoverageState> = new Set<CoverageState>(['streaming', 'created', 'repaired', 'slots-exhausted', 'no-hub-in-region', 'unsupported', 'forbidden']);
export const MAX_RECONCILE_RUNS = 5;

export interface ArmCounts {
  reads: number;
  writes: number;
  deletes: number;
  throttled: number;
  /** Responses with status 429 (ARM throttling as the simulator enforces it, plus injected faults). */
  status429: number;
}

export interface ReconcileRun {
  run: number;
  result: 'succeeded' | 'partial' | 'failed';
  /** Planned create/update/delete actions: zero means converged. */
  plannedWrites: number;
  /** Targets taken from the ledger on the change feed's word (not read). */
  trusted: number;
  counts: Partial<Record<CoverageState, number>>;
  arm: ArmCounts;
}

export interface SandboxResult {
  scenarioPath: string;
  outDir: string;
  files: { events: string; deadLetters: string; coverage: string; report: string; eventDriven: string };
  startedAt: string;
  durationMs: number;
  tenant: TenantRecord;
  onboarding: { status: number; changed: boolean; appSettings: string; longPath: { accepted: number; operation: string; polls: number } };
  hubs: HubAssignment[];
  reconcile: { runs: ReconcileRun[]; converged: boolean };
  appSettings: AppSettingsSyncResult | undefined;
  coverage: CoverageReport;
  /** Every ledger entry is in one of FINAL_STATES. */
  coverageFinal: boolean;
  telemetry: {
    messages: number;
    fixtures: number;
    malformed: string[];
    /** What became of each broken body: its dead letters' reasons, or the events it still yielded. */
    malformedOutcomes: { label: string; outcome: string }[];
    batches: number;
    hubs: string[];
  };
  ingest: {
    /** Records the handler accounted for (sum over batches). */
    records: number;
    /** What the handler reported writing (sum over batches); the two below are what the blobs hold. */
    handlerEvents: number;
    handlerDeadLetters: number;
    events: number;
    deadLetters: number;
    eventsByClass: { classUid: number; className: string; count: number }[];
    deadLettersByReason: { reason: string; count: number; example: string }[];
    invalidEvents: { uid: string; errors: string[] }[];
  };
  health: HealthRunReport;
  alert: { status: number; alertName: string; subscriptionId: string; result?: AlertStateResult; confirmedStatus?: string; problem?: string } | { skipped: string };
  /** After convergence: a storage account created and our activity-log setting deleted, seen through ingest, covered again. */
  eventDriven: EventDrivenResult;
  arm: { total: ArmCounts; byPhase: { phase: string; counts: ArmCounts }[] };
  /** Checks that failed (empty on success). */
  problems: string[];
}

const SANDBOX_INGEST_PRINCIPAL = '5a4d0b0e-0000-4000-8000-000000000001';
const BATCH_SIZE = 8;

function armCounts(sim: ArmSimulator, from = 0): ArmCounts {
  const rs = sim.requests.slice(from);
  return {
    reads: rs.filter((r) => r.kind === 'read').length,
    writes: rs.filter((r) => r.kind === 'write').length,
    deletes: rs.filter((r) => r.kind === 'delete').length,
    throttled: rs.filter((r) => r.faulted === 'throttled').length,
    status429: rs.filter((r) => r.status === 429).length,
  };
}

/** Enqueued time as the Functions host hands it over: ISO without a zone (mechanics.md §3). */
const hostTime = (ms: number) => new Date(ms).toISOString().replace(/Z$/, '');

function invocationContext(functionName: string, triggerMetadata?: Record<string, unknown>) {
  const lines: string[] = [];
  const ctx = new InvocationContext({
    functionName,
    invocationId: `sandbox-${functionName}-${Math.random().toString(36).slice(2, 10)}`,
    logHandler: (level, ...args) => lines.push(`${level} ${args.map(String).join(' ')}`),
    ...(triggerMetadata ? { triggerMetadata } : {}),
  });
  return ctx;
}

function json(res: HttpResponseInit): Record<string, unknown> {
  return (res.jsonBody ?? {}) as Record<string, unknown>;
}

function problemText(res: HttpResponseInit): string {
  const b = json(res);
  return `HTTP ${res.status ?? '?'} ${String(b.title ?? '')}: ${String(b.detail ?? JSON.stringify(b))}`;
}

export async function runSandbox(opts: SandboxOptions): Promise<SandboxResult> {
  const started = Date.now();
  const say = opts.log ?? (() => {});
  const root = opts.root ?? repoRoot(import.meta.dirname);
  const scenarioPath = resolve(opts.scenarioPath);
  const outDir = resolve(opts.outDir);
  const files = {
    events: join(outDir, 'events.ocsf.ndjson'),
    deadLetters: join(outDir, 'dead-letters.ndjson'),
    coverage: join(outDir, 'coverage.json'),
    report: join(outDir, 'report.md'),
    eventDriven: join(outDir, 'event-driven.json'),
  };
  const STEPS = 8;
  let step = 0;
  const progress = (msg: string) => say(`[${++step}/${STEPS}] ${msg}`);
  const detail = (msg: string) => say(`      ${msg}`);

  progress(`loading ${scenarioPath} and starting Azurite…`);
  const scenario: Scenario = await loadScenario(scenarioPath);
  const customer = scenario.tenants[0];
  if (!customer) throw new Error(`scenario ${scenarioPath} has no tenant to onboard (tenants[] is empty)`);
  const tenantId = customer.tenantId.toLowerCase();
  const subscriptions = customer.subscriptions.filter((s) => s.delegated && s.state === 'Enabled');
  if (subscriptions.length === 0) throw new Error(`tenant ${tenantId} of the scenario has no delegated, enabled subscription: nothing to reconcile or ingest`);

  let azurite: AzuriteHandle | undefined;
  let sim: ArmSimulator | undefined;
  try {
    azurite = await startAzurite();
    progress('starting the ARM simulator…');
    sim = await startArmSimulator({ scenario, throttle: true, asyncOperationPolls: 1 });
    detail(`ARM simulator at ${sim.url}, Azurite blob at ${azurite.blobUrl}`);

    const region =
      scenario.eventHubNamespaces[0]?.location ??
      subscriptions.flatMap((s) => [...s.storageAccounts, ...s.keyVaults, ...s.workspaces].map((r) => r.location))[0] ??
      'westeurope';
    const functionAppId = scenario.provider.functionApp
      ? `/subscriptions/${scenario.provider.subscriptionId}/resourceGroups/${scenario.provider.functionApp.resourceGroup}/providers/Microsoft.Web/sites/${scenario.provider.functionApp.name}`
      : undefined;
    const env: Record<string, string> = {
      MDR_AZURE_CLOUD: 'Custom',
      MDR_ARM_ENDPOINT: sim.url,
      MDR_AUTHORITY_HOST: 'https://login.microsoftonline.com',
      MDR_PROVIDER_TENANT_ID: scenario.provider.tenantId,
      MDR_PROVIDER_SUBSCRIPTION_ID: scenario.provider.subscriptionId,
      MDR_INGEST_PRINCIPAL_ID: SANDBOX_INGEST_PRINCIPAL,
      MDR_EH_POOL_RESOURCE_GROUP: scenario.provider.poolResourceGroup,
      MDR_EH_POOL_REGIONS: region,
      AzureWebJobsStorage: azurite.connectionString,
      MDR_TABLE_PREFIX: 'sandbox',
      // Event-driven coverage: a short coalescing window, and the app's identity as the simulator's records name it.
      MDR_EVENT_DRIVEN_DELAY_SECONDS: '2',
      MDR_APP_PRINCIPAL_IDS: sandboxAppPrincipalId(sim, subscriptions[0]!.subscriptionId),
      ...(functionAppId ? { MDR_FUNCTION_APP_RESOURCE_ID: functionAppId } : {}),
    };
    const settings: Settings = parseSettings(env);
    const clients: AzureClients = createAzureClients({
      armEndpoint: sim.url,
      credential: staticTokenCredential(),
      tlsCa: sim.ca,
      retry: { maxRetries: 4, retryDelayInMs: 50, maxRetryDelayInMs: 1000 },
    });
    const services: AppServices = { settings, registry: createRegistry(settings), clients, storage: storageTarget(settings) };
    const { registry } = services;
    const logger: Logger = memoryLogger();
    const phases: { phase: string; counts: ArmCounts }[] = [];
    let mark = 0;
    const endPhase = (phase: string) => {
      phases.push({ phase, counts: armCounts(sim!, mark) });
      mark = sim!.requests.length;
    };

    // ---- onboarding through the HTTP handler
    progress(`onboarding tenant ${customer.displayName} (${tenantId}) through PUT /api/tenants/{id}…`);
    // Long path first: the pool is empty, so onboarding must create a namespace. The PUT answers 202, the work item
    // goes through the real storage queue (Azurite) to the queue handler, and the operation is polled until done.
    const onboardingQueue = settings.onboarding.queue;
    const onboardingDeps = { settings, registry, clients, logger, lroPollMs: 50, onboardingQueue: storageOnboardingQueue(services.storage, onboardingQueue) };
    const put = createPutTenantHandler(onboardingDeps);
    const putRequest = () =>
      new HttpRequest({
        method: 'PUT',
        url: `http://localhost/api/tenants/${tenantId}`,
        params: { id: tenantId },
        headers: { 'content-type': 'application/json' },
        body: { string: JSON.stringify({ displayName: customer.displayName }) },
      });
    const accepted = await put(putRequest(), invocationContext('putTenant'));
    if (accepted.status !== 202) throw new Error(`onboarding into an empty pool should take the long path (202), got ${problemText(accepted)}`);
    const operationId = String((json(accepted).operation as { id?: unknown } | undefined)?.id ?? '');
    detail(`HTTP 202: operation ${operationId} (${String((accepted.headers as Record<string, string> | undefined)?.['operation-location'] ?? '')})`);
    const queue = new QueueClient(azurite.connectionString, onboardingQueue);
    const continueOnboarding = createOnboardingQueueHandler(onboardingDeps);
    const getOperation = createGetOperationHandler(onboardingDeps);
    let operation = 'NotStarted';
    let polls = 0;
    while ((operation === 'NotStarted' || operation === 'Running') && polls < 20) {
      polls++;
      const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 8 });
      for (const m of receivedMessageItems) {
        await continueOnboarding(JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')), invocationContext('onboarding-continue', { dequeueCount: m.dequeueCount }));
        await queue.deleteMessage(m.messageId, m.popReceipt);
      }
      const st = await getOperation(new HttpRequest({ method: 'GET', url: `http://localhost/api/tenants/${tenantId}/operations/${operationId}`, params: { id: tenantId, operationId } }), invocationContext('getOperation'));
      operation = String(json(st).status ?? 'unknown');
    }
    if (operation !== 'Succeeded') throw new Error(`onboarding operation ${operationId} ended ${operation}`);
    detail(`operation ${operationId}: ${operation} after ${polls} poll(s)`);
    // Quick path: the namespace is ready now, so the same PUT (a client retry) runs within the request.
    const putRes = await put(putRequest(), invocationContext('putTenant'));
    if (putRes.status !== 201 && putRes.status !== 200) throw new Error(`onboarding failed: ${problemText(putRes)}`);
    const putBody = json(putRes);
    detail(`HTTP ${putRes.status}: hubs ${((putBody.hubs as HubAssignment[] | undefined) ?? []).map((h) => `${h.region}→${h.namespace}/${h.hub}`).join(', ')}`);
    endPhase('onboarding');

    // ---- reconcile until a run plans no write
    progress('reconciling until converged…');
    const deps: ReconcileDeps = {
      settings,
      registry,
      clients,
      logger,
      ensureHub: async (t, r) => (await ensureTenantHub(onboardingDeps, t.tenantId, r)).hub,
    };
    const runs: ReconcileRun[] = [];
    let converged = false;
    for (let run = 1; run <= MAX_RECONCILE_RUNS && !converged; run++) {
      const before = sim.requests.length;
      const r = await reconcileTenant(tenantId, deps);
      const plannedWrites = r.plan.filter((a) => a.kind === 'create' || a.kind === 'update' || a.kind === 'delete').length;
      runs.push({ run, result: r.result, plannedWrites, trusted: r.trusted, counts: r.counts, arm: armCounts(sim, before) });
      detail(`run ${run}: ${r.result}, ${plannedWrites} write(s) planned, ${r.plan.length} target(s)`);
      if (r.result === 'failed') throw new Error(`reconcile failed: ${r.errors.map((e) => e.message).join('; ') || 'no detail'}`);
      converged = plannedWrites === 0;
    }
    // Hubs provisioned lazily by the reconciler reach the app's ingest settings the way onboarding does it.
    const appSettings = functionAppId ? await syncIngestAppSettings({ settings, registry, clients, logger }) : undefined;
    endPhase('reconcile');

    // ---- ingest through the Event Hub handler, per hub binding
    const hubs = (await registry.listHubs(tenantId)).filter((h) => h.state === 'ready').sort((a, b) => a.region.localeCompare(b.region));
    // With a function app in the scenario it is the (only) ingest app: its triggers are what the settings the control
    // plane wrote into it register (docs/fleet.md); without one, the bindings come straight from the registry.
    const ingestAppSettings = functionAppId ? (sim.state.appSettings.get(functionAppId.toLowerCase()) ?? {}) : undefined;
    const bindings: IngestBinding[] = (
      ingestAppSettings ? ingestTriggers(parseSettings({ ...env, ...ingestAppSettings }), ingestAppSettings).map((t) => t.binding) : bindingsFromRegistry(hubs, await registry.listNamespaces(), settings.cloud.eventHubsSuffix).bindings
    ).filter((b) => b.tenantId === tenantId);
    const unbound = hubs.filter((h) => !bindings.some((b) => b.region === h.region && b.hub === h.hub));
    if (bindings.length === 0) throw new Error(`tenant ${tenantId} has no ready Event Hub after onboarding: nothing to ingest into`);
    const messages = sandboxTelemetry(join(root, 'test', 'fixtures'), { tenantId, subscriptionIds: subscriptions.map((s) => s.subscriptionId) });
    progress(`ingesting ${messages.length} messages through the Event Hub handler into ${bindings.length} hub(s)…`);
    const blobClient = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const batchResults: IngestBatchResult[] = [];
    const partitionCount = settings.pool.partitionCount;
    // hub → partition → last enqueued (sequence number, time), for the health check's partition runtime.
    const enqueued = new Map<string, Map<string, { seq: number; at: number }>>();
    let batches = 0;
    // message → where it was enqueued, to trace what became of each broken body.
    const placed = new Map<TelemetryMessage, { namespace: string; partitionId: string; seq: number }>();
    const baseTime = Date.now();
    let clock = 0;
    for (const [bi, binding] of bindings.entries()) {
      const handler = createIngestHandler({
        binding,
        outputMode: 'blob',
        blobServiceClient: () => blobClient,
        eventsContainer: settings.ingest.outputContainer,
        deadLetterContainer: settings.ingest.deadLetterContainer,
        // As the registrations do: the tenant's subscriptions are those of its coverage ledger.
        subscriptionIds: (t) => knownSubscriptionIds(registry, t),
        onBatch: async (result) => {
          batchResults.push(result);
          const now = new Date().toISOString();
          await registry.recordLastSeen(
            result.lastSeen.map((s) => ({ ...s, tenantId: s.tenantId ?? binding.tenantId, lastEventTime: Number.isFinite(s.lastEventTime) ? new Date(s.lastEventTime).toISOString() : now, lastIngestTime: now })),
          );
        },
      });
      const mine = messages.filter((_, i) => i % bindings.length === bi);
      const byPartition = new Map<string, TelemetryMessage[]>();
      mine.forEach((m, i) => {
        const p = String(i % partitionCount);
        byPartition.set(p, [...(byPartition.get(p) ?? []), m]);
      });
      const parts = new Map<string, { seq: number; at: number }>();
      enqueued.set(`${binding.namespace}/${binding.hub}`, parts);
      for (const [partitionId, list] of byPartition) {
        for (let i = 0; i < list.length; i += BATCH_SIZE) {
          const batch = list.slice(i, i + BATCH_SIZE);
          const seqs = batch.map((_, k) => i + k);
          const times = batch.map(() => baseTime + clock++ * 7);
          const metadata = {
            partitionContext: { fullyQualifiedNamespace: `${binding.namespace}.${settings.cloud.eventHubsSuffix}`, eventHubName: binding.hub, consumerGroup: binding.consumerGroup, partitionId },
            sequenceNumberArray: seqs,
            offsetArray: seqs.map((s) => String(s * 4096)),
            enqueuedTimeUtcArray: times.map(hostTime),
            partitionKeyArray: batch.map(() => null),
            propertiesArray: batch.map(() => ({})),
            systemPropertiesArray: batch.map((_, k) => ({ sequenceNumber: seqs[k], offset: String(seqs[k]! * 4096), enqueuedTimeUtc: hostTime(times[k]!), partitionKey: null })),
          };
          await handler(
            batch.map((m) => m.body),
            invocationContext(`ingest-${binding.region}`, metadata),
          );
          batches++;
          batch.forEach((m, k) => placed.set(m, { namespace: binding.namespace, partitionId, seq: seqs[k]! }));
          parts.set(partitionId, { seq: seqs[seqs.length - 1]!, at: times[times.length - 1]! });
        }
      }
    }
    const records = batchResults.reduce((s, r) => s + r.records, 0);
    detail(`${batches} batches, ${records} records accounted for by the handler`);

    // ---- read the outputs back from the blobs
    const events: OcsfEvent[] = [];
    const eventsContainer = blobClient.getContainerClient(settings.ingest.outputContainer);
    if (await eventsContainer.exists()) {
      for await (const b of eventsContainer.listBlobsFlat({ prefix: `${tenantId}/` })) {
        const buf = await eventsContainer.getBlobClient(b.name).downloadToBuffer();
        const text = gunzipSync(buf).toString('utf8');
        for (const line of text.split('\n')) if (line.trim() !== '') events.push(JSON.parse(line) as OcsfEvent);
      }
    }
    // One dead letter per message with failed records; `deadLetters` lists those records one by one.
    const deadLetterLines: string[] = [];
    const deadLetters: { dl: StoredDeadLetter & { version: 2 }; index: number; reason: string; detail: string }[] = [];
    const dlContainer = blobClient.getContainerClient(settings.ingest.deadLetterContainer);
    if (await dlContainer.exists()) {
      for await (const b of dlContainer.listBlobsFlat({ prefix: `${tenantId}/` })) {
        const text = (await dlContainer.getBlobClient(b.name).downloadToBuffer()).toString('utf8');
        for (const line of text.split('\n')) {
          if (line.trim() === '') continue;
          const dl = parseDeadLetter(line);
          if (dl.version !== 2) throw new Error(`dead letter ${b.name} is not in the current format`);
          deadLetterLines.push(line);
          for (const f of failedRecordsOf({ outcomes: dl.outcomes, failures: dl.failures })) deadLetters.push({ dl, index: f.index, reason: f.reason, detail: f.listed?.detail ?? '' });
        }
      }
    }
    const malformedOutcomes = messages
      .filter((m) => m.kind === 'malformed')
      .map((m) => {
        const at = placed.get(m);
        const mine = deadLetters.filter(({ dl: d }) => at && d.namespace === at.namespace && d.partitionId === at.partitionId && d.sequenceNumber === at.seq);
        const reasons = [...new Set(mine.map((d) => d.reason))];
        return { label: m.label, outcome: mine.length === 0 ? 'mapped to event(s): decoding was lossy but the record was complete' : `${mine.length} dead letter(s): ${reasons.join(', ')}` };
      });
    events.sort((a, b) => a.time - b.time || a.metadata.uid.localeCompare(b.metadata.uid));
    endPhase('ingest');

    // ---- stream health (partition runtime from what was sent) and alert-state sync
    progress('stream health and Defender alert-state sync…');
    const partitionInfo = createMemoryPartitionInfo();
    for (const b of bindings) {
      const parts = enqueued.get(`${b.namespace}/${b.hub}`) ?? new Map<string, { seq: number; at: number }>();
      partitionInfo.set(`${b.namespace}.${settings.cloud.eventHubsSuffix}`, b.hub, {
        partitions: Array.from({ length: partitionCount }, (_, i) => {
          const p = parts.get(String(i));
          return p
            ? { partitionId: String(i), lastEnqueuedSequenceNumber: p.seq, lastEnqueuedOnUtc: new Date(p.at), isEmpty: false }
            : { partitionId: String(i), lastEnqueuedSequenceNumber: -1, isEmpty: true };
        }),
      });
    }
    // Dry run: report what health would write, so coverage.json shows the reconciler's final ledger.
    const health = await runHealthCheck({ registry, partitionInfo, settings, logger }, { tenantId, dryRun: true });

    let alert: SandboxResult['alert'];
    const alertSub = subscriptions.find((s) => s.alerts.length > 0);
    const theAlert = alertSub?.alerts[0];
    if (!alertSub || !theAlert) alert = { skipped: 'the scenario has no Defender alert in a delegated subscription of the tenant' };
    else {
      const handler = createAlertStateHttpHandler({ clients, registry, logger });
      const body = { state: 'InProgress', subscriptionId: alertSub.subscriptionId, location: theAlert.location, ...(theAlert.resourceGroup ? { resourceGroup: theAlert.resourceGroup } : {}) };
      const res = await handler(
        new HttpRequest({
          method: 'POST',
          url: `http://localhost/api/tenants/${tenantId}/alerts/${theAlert.name}/state`,
          params: { id: tenantId, alertName: theAlert.name },
          headers: { 'content-type': 'application/json', 'x-ms-client-principal-name': 'sandbox-analyst@mdr.example' },
          body: { string: JSON.stringify(body) },
        }),
        invocationContext('alertState'),
      );
      if (res.status === 200) {
        const security = await clients.security(alertSub.subscriptionId);
        // Read back at 2022-01-01 (the SDK's 2021-11-01 alert has no InProgress status).
        const after = await readAlertStatus(security, theAlert.location, theAlert.name, theAlert.resourceGroup);
        alert = { status: 200, alertName: theAlert.name, subscriptionId: alertSub.subscriptionId, result: json(res) as unknown as AlertStateResult, confirmedStatus: after };
      } else alert = { status: res.status ?? 0, alertName: theAlert.name, subscriptionId: alertSub.subscriptionId, problem: problemText(res) };
    }
    endPhase('health and alert state');

    // ---- event-driven coverage and tamper response
    progress('event-driven coverage: a new storage account and a deleted setting of ours, through the activity log…');
    const demoSub = subscriptions[0]!;
    const demoRg = demoSub.resourceGroups.find((g) => normalizeRegion(g.location) === normalizeRegion(region) && g.name.toLowerCase() !== settings.provider.automationResourceGroup.toLowerCase()) ?? demoSub.resourceGroups[0];
    const eventDriven = await runEventDrivenDemo({
      root,
      sim,
      services,
      ensureHub: deps.ensureHub!,
      tenantId,
      subscriptionId: demoSub.subscriptionId,
      resourceGroup: demoRg?.name ?? 'rg-sandbox',
      region: demoRg?.location ?? region,
      binding: bindings.find((b) => normalizeRegion(b.region) === normalizeRegion(region)) ?? bindings[0]!,
      blobClient,
      connectionString: azurite.connectionString,
      say: detail,
    });
    endPhase('event-driven coverage');

    // The tenant as the API shows it after all of this.
    const getRes = await createGetTenantHandler(onboardingDeps)(new HttpRequest({ method: 'GET', url: `http://localhost/api/tenants/${tenantId}`, params: { id: tenantId } }), invocationContext('getTenant'));
    const tenant = (await registry.getTenant(tenantId))!;
    if (getRes.status !== 200) throw new Error(`GET /api/tenants/${tenantId} failed: ${problemText(getRes)}`);
    const coverage = coverageReport(tenantId, await registry.listCoverage(tenantId));

    // ---- outputs and the checks the issue asks for
    progress(`writing outputs to ${outDir}…`);
    const invalidEvents: { uid: string; errors: string[] }[] = [];
    const byClass = new Map<number, number>();
    for (const ev of events) {
      const v = validateOcsfEvent(ev);
      if (v.errors.length > 0) invalidEvents.push({ uid: ev.metadata.uid, errors: v.errors.map(String) });
      byClass.set(ev.class_uid, (byClass.get(ev.class_uid) ?? 0) + 1);
    }
    const byReason = new Map<string, { count: number; example: string }>();
    for (const d of deadLetters) {
      const cur = byReason.get(d.reason);
      if (cur) cur.count++;
      else byReason.set(d.reason, { count: 1, example: d.detail });
    }
    const problems: string[] = [];
    if (!converged) problems.push(`the reconciler still planned writes after ${MAX_RECONCILE_RUNS} runs`);
    if (unbound.length > 0) problems.push(`${unbound.length} ready hub(s) have no trigger in the ingest app's settings (${unbound.map((h) => `${h.region}/${h.hub}`).join(', ')})`);
    const notFinal = coverage.entries.filter((e) => !FINAL_STATES.has(e.state));
    if (notFinal.length > 0) problems.push(`${notFinal.length} coverage entr${notFinal.length === 1 ? 'y is' : 'ies are'} not in a final state (${notFinal.map((e) => `${e.target} ${e.resourceId}: ${e.state}`).slice(0, 3).join('; ')})`);
    if (invalidEvents.length > 0) problems.push(`${invalidEvents.length} event(s) are not valid OCSF (first: ${invalidEvents[0]!.uid}: ${invalidEvents[0]!.errors.slice(0, 2).join(', ')})`);
    if (records !== events.length + deadLetters.length) problems.push(`accounting: ${records} records in, but ${events.length} events + ${deadLetters.length} dead letters were written`);
    if ('problem' in alert && alert.problem) problems.push(`alert-state sync failed: ${alert.problem}`);
    problems.push(...eventDriven.problems);

    const result: SandboxResult = {
      scenarioPath,
      outDir,
      files,
      startedAt: new Date(started).toISOString(),
      durationMs: 0,
      tenant,
      onboarding: { status: putRes.status ?? 0, changed: Boolean(putBody.changed), appSettings: String(putBody.appSettings ?? ''), longPath: { accepted: accepted.status ?? 0, operation, polls } },
      hubs,
      reconcile: { runs, converged },
      appSettings,
      coverage,
      coverageFinal: notFinal.length === 0,
      telemetry: {
        messages: messages.length,
        fixtures: messages.filter((m) => m.kind === 'fixture').length,
        malformed: messages.filter((m) => m.kind === 'malformed').map((m) => m.label),
        malformedOutcomes,
        batches,
        hubs: bindings.map((b) => `${b.namespace}/${b.hub}`),
      },
      ingest: {
        records,
        handlerEvents: batchResults.reduce((s, r) => s + r.events, 0),
        handlerDeadLetters: batchResults.reduce((s, r) => s + r.deadLetters, 0),
        events: events.length,
        deadLetters: deadLetters.length,
        eventsByClass: [...byClass].map(([classUid, count]) => ({ classUid, className: ocsfClassName(classUid), count })).sort((a, b) => b.count - a.count || a.classUid - b.classUid),
        deadLettersByReason: [...byReason].map(([reason, v]) => ({ reason, ...v })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
        invalidEvents,
      },
      health,
      alert,
      eventDriven,
      arm: { total: armCounts(sim), byPhase: phases },
      problems,
    };
    result.durationMs = Date.now() - started;

    await mkdir(outDir, { recursive: true });
    await writeFile(files.events, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
    await writeFile(files.deadLetters, deadLetterLines.map((l) => `${l}\n`).join(''));
    await writeFile(files.coverage, `${JSON.stringify(coverage, null, 2)}\n`);
    await writeFile(files.eventDriven, `${JSON.stringify(eventDriven, null, 2)}\n`);
    await writeFile(files.report, sandboxReport(result));
    return result;
  } finally {
    await sim?.stop().catch(() => undefined);
    await azurite?.stop().catch(() => undefined);
  }
}
