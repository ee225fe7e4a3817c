import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerSim } from './reconcileBench.js';

/**
 * Event-driven coverage at scale: after a tenant of 100 subscriptions converged, 1,000 storage accounts are created
 * (10 per subscription) and their activity-log records reach ingest over 60 s. Everything after arrival is the real
 * code: the Event Hub handler of two ingest instances → change signals → pending work (Azurite table) → targeted work
 * items on the reconcile queue (Azurite) → a stand-in of the Functions queue trigger using host.json's queue settings
 * → the reconcile queue handler → the ARM simulator with 50 ms latency and ARM's token-bucket throttling.
 * Latency per account = the simulator's time of the last of our four diagnostic-setting PUTs on its services − the
 * arrival of its record at ingest. Target: p99 ≤ 60 s. Azure's own activity-log delivery comes before arrival.
 */
export interface EventDrivenBenchResult {
  subscriptions: number;
  events: number;
  /** Window over which the records arrived at ingest, and in how many ingest batches. */
  arrivalSeconds: number;
  ingestBatches: number;
  latencyMs: number;
  delaySeconds: number;
  maxPollingSeconds: number;
  covered: number;
  p50Seconds: number;
  p99Seconds: number;
  maxSeconds: number;
  /** Targeted work items the queue handler ran (events ÷ this = coalescing). */
  workItems: number;
  armReads: number;
  armWrites: number;
  throttled429: number;
  /** Microsoft's documented activity-log latency, which comes before a record can reach ingest. */
  azureActivityLogDelivery: string;
}

export type EventDrivenBenchOutcome = { ok: true; result: EventDrivenBenchResult } | { ok: false; reason: string };

export const AZURE_ACTIVITY_LOG_DELIVERY =
  'Activity logs are available for analysis and alerting in 3 to 20 minutes (Azure Monitor, "Log data ingestion time": learn.microsoft.com/azure/azure-monitor/logs/data-ingestion-time; MicrosoftDocs/azure-monitor-docs articles/azure-monitor/logs/data-ingestion-time.md, ms.date 02/27/2026)';

const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
/** Nearest-rank percentile. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export async function runEventDrivenBench(root: string, quick: boolean): Promise<EventDrivenBenchOutcome> {
  let mods;
  try {
    mods = await Promise.all([
      import('../../sim/generateScenario.js'),
      import('../../sim/azurite.js'),
      import('../../sim/queueHost.js'),
      import('../../sim/activityLogRecords.js'),
      import('../../src/lib/azure/clientFactory.js'),
      import('../../src/lib/config/settings.js'),
      import('../../src/lib/onboarding/onboardTenant.js'),
      import('../../src/lib/reconcile/reconcileTenant.js'),
      import('../../src/lib/reconcile/triggerHandlers.js'),
      import('../../src/lib/registry/memoryRegistry.js'),
      import('../../src/lib/registry/types.js'),
      import('../../src/lib/storage/storageClients.js'),
      import('../../src/lib/eventDriven/eventDrivenServices.js'),
      import('../../src/lib/ingest/ingestHandler.js'),
      import('./reconcileBench.js'),
      import('@azure/storage-queue'),
      import('@azure/storage-blob'),
      import('@azure/functions'),
    ]);
  } catch (e) {
    return { ok: false, reason: `event-driven path not loadable: ${(e as Error).message.slice(0, 300)}` };
  }
  const [
    { generateScenario },
    { startAzurite },
    { queueHostSettings, startQueueHost },
    { simObjectId },
    { createAzureClients, staticTokenCredential },
    { parseSettings },
    { ensureTenantHub },
    { reconcileTenant },
    { createReconcileQueueHandler },
    { createMemoryRegistry },
    { tenantOptionsSchema },
    { storageTarget },
    { eventDrivenStores, ingestChangeHook, reconcileQueueExtras },
    { createIngestHandler },
    { startSimWorker },
    { QueueClient },
    { BlobServiceClient },
    azf,
  ] = mods;
  const { InvocationContext } = azf.default;
  const subscriptions = quick ? 2 : 100;
  const perSubscription = quick ? 5 : 10;
  const events = subscriptions * perSubscription;
  const ingestBatches = quick ? 2 : 20;
  const arrivalSeconds = quick ? 1 : 60;
  const latencyMs = quick ? 5 : 50;
  const scenario = generateScenario({ subscriptions, resources: quick ? 10 : 1000, tenants: 1, seed: 7 });
  const tenantId = scenario.tenants[0]!.tenantId.toLowerCase();
  const subs = scenario.tenants[0]!.subscriptions.map((s) => s.subscriptionId.toLowerCase());
  let sim: WorkerSim | undefined;
  let azurite: Awaited<ReturnType<typeof startAzurite>> | undefined;
  const hosts: { stop(): Promise<void>; done: number }[] = [];
  try {
    [sim, azurite] = await Promise.all([startSimWorker(scenario), startAzurite()]);
    const settings = parseSettings({
      MDR_PROVIDER_TENANT_ID: scenario.provider.tenantId,
      MDR_PROVIDER_SUBSCRIPTION_ID: scenario.provider.subscriptionId,
      MDR_INGEST_PRINCIPAL_ID: 'dddddddd-0000-0000-0000-000000000001',
      MDR_EH_POOL_RESOURCE_GROUP: scenario.provider.poolResourceGroup,
      AzureWebJobsStorage: azurite.connectionString,
      MDR_TABLE_PREFIX: 'bench',
      // The simulator names the app's token `simulator-token` in the records of its own writes.
      MDR_APP_PRINCIPAL_IDS: simObjectId('simulator-token'),
      // Quick sizes prove the path works; they keep the smoke test short. A full run uses the default window.
      ...(quick ? { MDR_EVENT_DRIVEN_DELAY_SECONDS: '1' } : {}),
    });
    const clients = createAzureClients({ armEndpoint: sim.url, credential: staticTokenCredential(), tlsCa: sim.ca, retry: { retryDelayInMs: 50, maxRetryDelayInMs: 2000 } });
    const registry = createMemoryRegistry();
    await registry.putTenant({ tenantId, displayName: 'Bench', regions: ['westeurope'], entraWorkspaceIds: [], options: tenantOptionsSchema.parse({}), status: 'active', createdAt: '2026-11-01T00:00:00Z', updatedAt: '2026-11-01T00:00:00Z' });
    const onboarding = { settings, registry, clients, lroPollMs: 5 };
    for (const region of ['westeurope', 'northeurope']) await ensureTenantHub(onboarding, tenantId, region);
    const ensureHub = async (t: { tenantId: string }, region: string) => (await ensureTenantHub(onboarding, t.tenantId, region)).hub;
    const services = { settings, registry, clients, storage: storageTarget(settings) };
    // Converged first (not measured), then ARM latency for the measured part.
    await reconcileTenant(tenantId, { settings, registry, clients, ensureHub });
    await sim.setLatency(latencyMs);

    // ---- the queue trigger (one Functions instance, host.json's queue settings)
    const host = queueHostSettings(JSON.parse(readFileSync(join(root, 'host.json'), 'utf8')) as Parameters<typeof queueHostSettings>[0]);
    const queue = new QueueClient(azurite.connectionString, settings.reconcile.queue);
    await queue.createIfNotExists();
    const handler = createReconcileQueueHandler(services, ensureHub, reconcileQueueExtras(services, eventDrivenStores(services)));
    let q = 0;
    hosts.push(startQueueHost({ queue, ...host, handler: (m) => handler(m, new InvocationContext({ functionName: 'reconcile-tenant', invocationId: `q${++q}`, logHandler: () => {} })) }));

    // ---- two ingest instances (partitions of the tenant's hub), each with its own event-driven stores
    const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const known = [...new Set((await registry.listCoverage(tenantId)).map((e) => e.subscriptionId))];
    const binding = { tenantId, region: 'westeurope', namespace: 'bench-ns', hub: `mdr-${tenantId}`, consumerGroup: 'mdr-ingest', connection: 'X' };
    const ingest = [0, 1].map(() =>
      createIngestHandler({ binding, blobServiceClient: () => blobs, eventsContainer: 'bench-events', deadLetterContainer: 'bench-dead', subscriptionIds: () => known, onEvents: ingestChangeHook(services, eventDrivenStores(services), tenantId) }),
    );

    // ---- 1,000 creations arriving over the window
    await sim.call({ op: 'clearRequests' });
    const arrival = new Map<string, number>(); // lower-cased account id → arrival at ingest
    const accounts = subs.flatMap((sub, si) => Array.from({ length: perSubscription }, (_, k) => ({ subscriptionId: sub, name: `stev${si.toString(36)}x${k}`, resourceGroup: 'rg-workload', location: 'westeurope' })));
    // Interleaved, so each batch holds creations from many subscriptions, as a tenant-wide deployment streams them.
    accounts.sort((a, b) => a.name.slice(-1).localeCompare(b.name.slice(-1)) || a.subscriptionId.localeCompare(b.subscriptionId));
    const per = Math.ceil(accounts.length / ingestBatches);
    const start = Date.now();
    let seq = 0;
    for (let b = 0; b < ingestBatches; b++) {
      const slot = start + (b * arrivalSeconds * 1000) / ingestBatches;
      if (slot > Date.now()) await new Promise((r) => setTimeout(r, slot - Date.now()));
      const chunk = accounts.slice(b * per, (b + 1) * per);
      if (chunk.length === 0) continue;
      const { created } = await sim.call<{ created: { subscriptionId: string; id: string; record: Record<string, unknown> }[] }>({ op: 'createStorageAccounts', principal: 'customer-deployer', accounts: chunk });
      // One message per subscription: each subscription's activity-log setting sends its own records.
      const bySub = new Map<string, Record<string, unknown>[]>();
      for (const c of created) bySub.set(c.subscriptionId, [...(bySub.get(c.subscriptionId) ?? []), c.record]);
      const bodies = [...bySub.values()].map((records) => JSON.stringify({ records }));
      const at = Date.now();
      for (const c of created) arrival.set(c.id.toLowerCase(), at);
      await ingest[b % 2]!(bodies, new InvocationContext({ functionName: 'ingest', invocationId: `i${b}`, triggerMetadata: { partitionContext: { partitionId: String(b % 2) }, sequenceNumberArray: bodies.map(() => seq++) }, logHandler: () => {} }));
    }

    // ---- wait for coverage: the last of the four setting PUTs on each account's services
    const covered = new Map<string, number>(); // account id → latest PUT time seen
    const puts = new Map<string, Set<string>>();
    let from = 0;
    const deadline = Date.now() + (quick ? 60_000 : 300_000);
    while (Date.now() < deadline) {
      const r = await sim.call<{ puts: { path: string; at: number; principal: string }[]; next: number }>({ op: 'settingPuts', from });
      from = r.next;
      for (const p of r.puts) {
        if (p.principal !== 'simulator-token') continue;
        const m = /^(.*\/storageaccounts\/[^/]+)\/(blob|queue|table|file)services\/default\/providers\/microsoft\.insights\/diagnosticsettings\/[^/]+$/i.exec(p.path);
        if (!m) continue;
        const acct = m[1]!.toLowerCase();
        if (!arrival.has(acct)) continue;
        const set = puts.get(acct) ?? new Set<string>();
        if (set.has(m[2]!.toLowerCase())) continue;
        set.add(m[2]!.toLowerCase());
        puts.set(acct, set);
        covered.set(acct, Math.max(covered.get(acct) ?? 0, p.at));
      }
      if ([...arrival.keys()].every((a) => (puts.get(a)?.size ?? 0) >= 4)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const latencies = [...arrival].filter(([a]) => (puts.get(a)?.size ?? 0) >= 4).map(([a, t]) => (covered.get(a)! - t) / 1000).sort((x, y) => x - y);
    const reqs = await sim.requests();
    for (const h of hosts.splice(0)) await h.stop();
    return {
      ok: true,
      result: {
        subscriptions,
        events,
        arrivalSeconds,
        ingestBatches,
        latencyMs,
        delaySeconds: settings.eventDriven.delaySeconds,
        maxPollingSeconds: host.maxPollingIntervalMs / 1000,
        covered: latencies.length,
        p50Seconds: round(percentile(latencies, 50)),
        p99Seconds: round(percentile(latencies, 99)),
        maxSeconds: round(latencies.at(-1) ?? NaN),
        workItems: q,
        armReads: reqs.filter((r) => r.kind === 'read' && r.faulted !== 'throttled').length,
        armWrites: reqs.filter((r) => r.kind !== 'read' && r.faulted !== 'throttled').length,
        throttled429: reqs.filter((r) => r.status === 429).length,
        azureActivityLogDelivery: AZURE_ACTIVITY_LOG_DELIVERY,
      },
    };
  } catch (e) {
    return { ok: false, reason: `event-driven bench failed: ${(e as Error).message.slice(0, 300)}` };
  } finally {
    for (const h of hosts) await h.stop().catch(() => undefined);
    await sim?.stop();
    await azurite?.stop();
  }
}
