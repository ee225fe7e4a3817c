import { Worker } from 'node:worker_threads';
import type { RecordedRequest } from '../../sim/armSimulator.js';
import type { Scenario } from '../../sim/scenario.js';
import { reconcileBound, type Bound, type BucketCalls } from './reconcileBound.js';

/**
 * Reconcile at scale: the real reconciler (src/lib/reconcile/reconcileTenant) against the ARM simulator with 50 ms
 * latency and ARM token-bucket throttling, on a generated scenario (100 subscriptions / 10,000 resources, one tenant).
 * Run 1 creates everything; run 2 is the steady state (no drift: the change feed vouches for the diagnostic
 * settings); run 3 is a resync (the clock moved past MDR_RECONCILE_RESYNC_HOURS, so every target is read again).
 * Counts come from what the simulator recorded.
 * Modules are imported lazily so the other sections still run if the reconciler or simulator is broken.
 */
export interface ReconcileRunStats extends Bound {
  wallSeconds: number;
  reads: number;
  writes: number;
  deletes: number;
  readsPerResource: number;
  writesPerResource: number;
  /** Export targets the run covered (a storage account has one per service): reads per target is the per-item cost. */
  targets: number;
  readsPerTarget: number;
  throttled429: number;
  /** Targets taken from the ledger because the activity log showed no change to them. */
  trusted: number;
  /** Calls the simulator answered (429s excluded): what the bound is computed over. */
  answeredCalls: number;
  ratioToBound: number;
  errors: number;
  result: string;
}

export interface ReconcileBenchResult {
  subscriptions: number;
  resources: number;
  latencyMs: number;
  concurrency: number;
  perSubscriptionConcurrency: number;
  firstRun: ReconcileRunStats;
  steadyState: ReconcileRunStats;
  /** Every target re-read (resync period over): what any run cost before the change feed. */
  resyncRun: ReconcileRunStats;
  resyncHours: number;
  /**
   * Derived, not measured: reads per resource averaged over runs every 15 minutes, when each target is re-read once
   * per 0.75 × resyncHours on average (resyncs spread over half to all of the period).
   */
  amortizedReadsPerResource: number;
  /** Both runs together: their bounds added, and the wall time of both over that (the issue's `reconcile.*` fields). */
  boundSeconds: number;
  ratioToBound: number;
  boundFormula: string;
}

export type ReconcileBenchOutcome = { ok: true; result: ReconcileBenchResult } | { ok: false; reason: string };

export const BOUND_FORMULA =
  'bound = max(calls×latency/concurrency, max over subscriptions of calls_sub×latency/perSubscriptionConcurrency, max over token buckets (principal, subscription|tenant, kind) of (calls_bucket − bucketSize)/refillPerSec); calls = requests the simulator answered (429s excluded)';

const round = (n: number, d = 3): number => Math.round(n * 10 ** d) / 10 ** d;

function statsOf(reqs: readonly RecordedRequest[], wallSeconds: number, resources: number, latencyMs: number, concurrency: number, perSub: number, report: { errors: unknown[]; result: string; plan: { coverage: string }[]; trusted: number }): ReconcileRunStats {
  const answered = reqs.filter((r) => r.faulted !== 'throttled');
  const buckets = new Map<string, BucketCalls>();
  const perSubCalls = new Map<string, number>();
  for (const r of answered) {
    const sub = /^\/subscriptions\/([^/]+)/i.exec(r.path)?.[1]?.toLowerCase();
    const tenantScoped = !sub || /^\/subscriptions\/?$/i.test(r.path);
    const key = `${r.principal}|${tenantScoped ? 'tenant' : sub}`;
    const kind = r.kind === 'read' ? 'read' : 'write';
    const b = buckets.get(`${kind}|${key}`) ?? { key, kind, calls: 0 };
    b.calls++;
    buckets.set(`${kind}|${key}`, b);
    if (!tenantScoped) perSubCalls.set(sub!, (perSubCalls.get(sub!) ?? 0) + 1);
  }
  const ARM = { readBucket: 250, readRefillPerSec: 25, writeBucket: 200, writeRefillPerSec: 10 };
  const bound = reconcileBound([...buckets.values()], latencyMs, concurrency, ARM);
  const subBound = Math.max(0, ...[...perSubCalls.values()].map((n) => (n * latencyMs) / 1000 / perSub));
  const boundSeconds = Math.max(bound.boundSeconds, subBound);
  const reads = reqs.filter((r) => r.kind === 'read' && r.faulted !== 'throttled').length;
  const writes = reqs.filter((r) => r.kind === 'write' && r.faulted !== 'throttled').length;
  const deletes = reqs.filter((r) => r.kind === 'delete' && r.faulted !== 'throttled').length;
  return {
    wallSeconds: round(wallSeconds, 2),
    reads,
    writes,
    deletes,
    readsPerResource: round(reads / resources),
    writesPerResource: round((writes + deletes) / resources),
    targets: report.plan.length,
    readsPerTarget: report.plan.length > 0 ? round(reads / report.plan.length) : 0,
    throttled429: reqs.filter((r) => r.status === 429).length,
    trusted: report.trusted,
    answeredCalls: answered.length,
    boundSeconds: round(boundSeconds, 2),
    latencyBoundSeconds: round(Math.max(bound.latencyBoundSeconds, subBound), 2),
    throttleBoundSeconds: round(bound.throttleBoundSeconds, 2),
    busiestBucket: bound.busiestBucket,
    boundBy: bound.throttleBoundSeconds > Math.max(bound.latencyBoundSeconds, subBound) ? 'throttle' : 'latency',
    ratioToBound: boundSeconds > 0 ? round(wallSeconds / boundSeconds) : 0,
    errors: report.errors.length,
    result: report.result,
  };
}

export async function runReconcileBench(_root: string, quick: boolean): Promise<ReconcileBenchOutcome> {
  let mods;
  try {
    mods = await Promise.all([
      import('../../sim/generateScenario.js'),
      import('../../src/lib/azure/clientFactory.js'),
      import('../../src/lib/config/settings.js'),
      import('../../src/lib/onboarding/onboardTenant.js'),
      import('../../src/lib/reconcile/reconcileTenant.js'),
      import('../../src/lib/registry/memoryRegistry.js'),
      import('../../src/lib/registry/types.js'),
    ]);
  } catch (e) {
    return { ok: false, reason: `reconciler or ARM simulator not loadable: ${(e as Error).message.slice(0, 300)}` };
  }
  const [{ generateScenario }, { createAzureClients, staticTokenCredential }, { parseSettings }, { ensureTenantHub }, { reconcileTenant }, { createMemoryRegistry }, { tenantOptionsSchema }] = mods;
  const subscriptions = quick ? 2 : 100;
  const resources = quick ? 20 : 10_000;
  const latencyMs = quick ? 5 : 50;
  const scenario = generateScenario({ subscriptions, resources, tenants: 1, seed: 42 });
  const tenantId = scenario.tenants[0]!.tenantId;
  let sim: WorkerSim | undefined;
  try {
    sim = await startSimWorker(scenario);
    const settings = parseSettings({
      MDR_PROVIDER_TENANT_ID: scenario.provider.tenantId,
      MDR_PROVIDER_SUBSCRIPTION_ID: scenario.provider.subscriptionId,
      MDR_INGEST_PRINCIPAL_ID: 'dddddddd-0000-0000-0000-000000000001',
      MDR_EH_POOL_RESOURCE_GROUP: scenario.provider.poolResourceGroup,
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    });
    const clients = createAzureClients({ armEndpoint: sim.url, credential: staticTokenCredential(), tlsCa: sim.ca, retry: { retryDelayInMs: 50, maxRetryDelayInMs: 2000 } });
    const registry = createMemoryRegistry();
    await registry.putTenant({
      tenantId,
      displayName: 'Bench',
      regions: ['westeurope'],
      entraWorkspaceIds: [],
      options: tenantOptionsSchema.parse({}), // the defaults: every source, every storage service
      status: 'active',
      createdAt: '2026-11-01T00:00:00Z',
      updatedAt: '2026-11-01T00:00:00Z',
    });
    const onboarding = { settings, registry, clients, lroPollMs: 5 };
    // Hubs are onboarding's job, provisioned before the measured runs (and without latency).
    for (const region of ['westeurope', 'northeurope']) await ensureTenantHub(onboarding, tenantId, region);
    const deps = { settings, registry, clients, ensureHub: async (t: { tenantId: string }, region: string) => (await ensureTenantHub(onboarding, t.tenantId, region)).hub };
    await sim.setLatency(latencyMs);
    const concurrency = settings.reconcile.concurrency;
    const perSub = settings.reconcile.perSubscriptionConcurrency;
    const run = async (now?: () => Date): Promise<ReconcileRunStats> => {
      await sim!.clearRequests();
      const t0 = process.hrtime.bigint();
      const report = await reconcileTenant(tenantId, now ? { ...deps, now } : deps);
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      return statsOf(await sim!.requests(), wall, resources, latencyMs, concurrency, perSub, report);
    };
    const firstRun = await run();
    const steadyState = await run();
    const resyncHours = settings.reconcile.resyncHours;
    const resyncRun = await run(() => new Date(Date.now() + (resyncHours + 1) * 3_600_000));
    const boundSeconds = Math.round((firstRun.boundSeconds + steadyState.boundSeconds) * 100) / 100;
    const ratioToBound = Math.round(((firstRun.wallSeconds + steadyState.wallSeconds) / boundSeconds) * 1000) / 1000;
    const runsPerResync = resyncHours > 0 ? (0.75 * resyncHours * 60) / 15 : 1;
    const amortizedReadsPerResource = round(steadyState.readsPerResource + (resyncRun.readsPerResource - steadyState.readsPerResource) / runsPerResync);
    return {
      ok: true,
      result: { subscriptions, resources, latencyMs, concurrency, perSubscriptionConcurrency: perSub, firstRun, steadyState, resyncRun, resyncHours, amortizedReadsPerResource, boundSeconds, ratioToBound, boundFormula: BOUND_FORMULA },
    };
  } catch (e) {
    return { ok: false, reason: `reconcile bench failed: ${(e as Error).message.slice(0, 300)}` };
  } finally {
    await sim?.stop();
  }
}

/** The simulator in a worker thread (simWorker.ts), driven by messages; one command at a time. */
export interface WorkerSim {
  url: string;
  ca: string;
  setLatency(ms: number): Promise<void>;
  clearRequests(): Promise<void>;
  requests(): Promise<RecordedRequest[]>;
  /** Worker commands beyond these (simWorker.ts), answered with one message. */
  call<T>(command: object): Promise<T>;
  stop(): Promise<void>;
}

export async function startSimWorker(scenario: Scenario): Promise<WorkerSim> {
  const worker = new Worker(new URL('./simWorker.js', import.meta.url), { workerData: { scenario } });
  // The worker answers each message with exactly one reply, in order: one queue of waiters, one listener each.
  const waiting: { resolve: (m: unknown) => void; reject: (e: Error) => void }[] = [];
  worker.on('message', (m: unknown) => waiting.shift()?.resolve(m));
  worker.on('error', (e: Error) => {
    for (const w of waiting.splice(0)) w.reject(e);
  });
  const reply = <T>(): Promise<T> => new Promise<T>((resolve, reject) => waiting.push({ resolve: resolve as (m: unknown) => void, reject }));
  const ready = await reply<{ url: string; ca: string }>();
  const call = <T>(command: object): Promise<T> => {
    const r = reply<T>();
    worker.postMessage(command);
    return r;
  };
  return {
    url: ready.url,
    ca: ready.ca,
    setLatency: async (ms) => void (await call({ op: 'setLatency', ms })),
    clearRequests: async () => void (await call({ op: 'clearRequests' })),
    requests: async () => (await call<{ requests: RecordedRequest[] }>({ op: 'requests' })).requests,
    call,
    stop: async () => {
      await call({ op: 'stop' });
      await worker.terminate();
    },
  };
}
