import { readFileSync } from 'node:fs';
import path from 'node:path';
import { format } from 'node:util';
import azf from '@azure/functions';
import type { Timer } from '@azure/functions';
import { QueueClient } from '@azure/storage-queue';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { activityLogMessages, simIdentity } from '../../sim/activityLogRecords.js';
import type { AppServices } from '../../src/lib/app/appServices.js';
import { createAzureClients, staticTokenCredential } from '../../src/lib/azure/clientFactory.js';
import { parseSettings } from '../../src/lib/config/settings.js';
import { createMemoryMarkerTable, createPendingWork } from '../../src/lib/eventDriven/pendingWork.js';
import { createSignalSink } from '../../src/lib/eventDriven/signalSink.js';
import type { TargetedRunExtras } from '../../src/lib/eventDriven/targetedRun.js';
import { hubKey } from '../../src/lib/fleet/ingestPool.js';
import { createHealthTimerHandler } from '../../src/lib/health/healthTimerHandler.js';
import { createMemoryPartitionInfo } from '../../src/lib/health/memoryPartitionInfo.js';
import { storageQueueDepth } from '../../src/lib/health/poisonQueues.js';
import { handleIngestBatch } from '../../src/lib/ingest/handleIngestBatch.js';
import { createIngestHandler } from '../../src/lib/ingest/ingestHandler.js';
import { createMemoryOutputs } from '../../src/lib/ingest/outputs/memoryOutputs.js';
import { createPutTenantHandler } from '../../src/lib/onboarding/httpHandlers.js';
import { createOnboardingQueueHandler } from '../../src/lib/onboarding/longOnboarding.js';
import { reconcileTenant } from '../../src/lib/reconcile/reconcileTenant.js';
import { createReconcileQueueHandler } from '../../src/lib/reconcile/triggerHandlers.js';
import { createMemoryRegistry } from '../../src/lib/registry/memoryRegistry.js';
import type { CoverageEntry, HubAssignment, TenantRecord } from '../../src/lib/registry/types.js';
import { storageTarget } from '../../src/lib/storage/storageClients.js';
import { useAzurite } from '../support/azurite.js';
import { analyzeKql, type QueryAnalysis } from '../support/kql.js';
import { bicepParams } from '../support/bicep.js';
import { ACME, S1, loadFixtureScenario, startHarness, type SimHarness } from '../lib/reconcile/simHarness.js';

/**
 * The contract between the code and the alert rules / workbook (infra/modules/monitoring): every event name and field
 * a query reads must be in the lines the code writes. The event names and fields are taken from the KQL itself
 * (test/support/kql.ts walks each query's syntax tree), and the lines from the real code paths that write them, each
 * through a real Functions InvocationContext: its log handler gets what `context.info/warn/error` pass the host, and
 * the message is formatted as @azure/functions does (util.format) before the host writes it to `traces.message`.
 * Editing a query to read a field the code does not write, or renaming a field the queries read, fails here.
 */

// ---- a forced accounting violation: a mapper that "maps" a record to no event (a bug ingest must refuse)
const forceNoEvents = { on: false };
vi.mock('../../src/lib/ingest/dispatch.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/lib/ingest/dispatch.js')>();
  return {
    ...real,
    mapRecord: (...args: Parameters<typeof real.mapRecord>) => {
      const out = real.mapRecord(...args);
      return forceNoEvents.on && out.ok ? { ...out, events: [] } : out;
    },
  };
});

const { HttpRequest, InvocationContext } = azf;
const root = path.resolve(import.meta.dirname, '../..');
const read = (rel: string) => readFileSync(path.join(root, rel), 'utf8');

// ---------------------------------------------------------------- the queries
interface AlertRule {
  name: string;
  description: string;
  runbook: string;
  dimensions: { name: string }[];
  query: string[];
}
const monitoringBicep = read('infra/modules/monitoring.bicep');
const mainBicep = read('infra/main.bicep');
const rules = (JSON.parse(read('infra/modules/monitoring/alertRules.json')) as { rules: AlertRule[] }).rules;
const workbook = JSON.parse(read('infra/modules/monitoring/workbook.json')) as { items: WorkbookItem[]; fallbackResourceIds: string[] };
interface WorkbookItem {
  type: number;
  name: string;
  content: { query?: string; items?: WorkbookItem[] };
}
const workbookQueries = (items: WorkbookItem[]): { name: string; query: string }[] =>
  items.flatMap((i) => [...(i.content.query !== undefined ? [{ name: i.name, query: i.content.query }] : []), ...workbookQueries(i.content.items ?? [])]);

/** A parameter's default in main.bicep (the value a deployment without it gets). */
function mainDefault(name: string): string {
  const m = new RegExp(`^param ${name} \\w+ = (.+)$`, 'm').exec(mainBicep);
  if (!m) throw new Error(`main.bicep has no parameter ${name} with a default`);
  return m[1]!.trim();
}
const placeholders = (text: string) => [...text.matchAll(/\{([A-Za-z]\w*)\}/g)].map((m) => m[1]!);
const fill = (text: string) => text.replace(/\{([A-Za-z]\w*)\}/g, (_, n: string) => mainDefault(n));

const queries = [
  ...rules.map((r) => ({ kind: 'rule' as const, name: r.name, text: fill(r.query.join('\n')), rule: r })),
  ...workbookQueries(workbook.items).map((q) => ({ kind: 'workbook' as const, name: q.name, text: q.query, rule: undefined })),
];
const analyses = new Map<string, QueryAnalysis>();
const analysis = (q: (typeof queries)[number]) => {
  const key = `${q.kind}:${q.name}`;
  if (!analyses.has(key)) analyses.set(key, analyzeKql(q.text));
  return analyses.get(key)!;
};

// ---------------------------------------------------------------- the lines the code writes
interface Line {
  level: string;
  event: string;
  fields: Record<string, unknown>;
  message: string;
}
const lines: Line[] = [];
let invocations = 0;
function ctx(functionName: string, init: { triggerMetadata?: Record<string, unknown>; retryContext?: { retryCount: number; maxRetryCount: number } } = {}) {
  return new InvocationContext({
    functionName,
    invocationId: `inv-${++invocations}`,
    ...init,
    // What the host receives: @azure/functions formats the arguments with util.format (InvocationModel userLog).
    logHandler: (level, ...args) => {
      const message = format(...args);
      const space = message.indexOf(' ');
      lines.push({ level, message, event: message.slice(0, space), fields: JSON.parse(message.slice(space + 1)) as Record<string, unknown> });
    },
  });
}
const timer: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };

/** The values a field path (`a.b`, `a[].b`: each item of an array or each value of an object) takes in one line. */
function valuesAt(value: unknown, segs: readonly string[]): unknown[] {
  if (segs.length === 0) return value === undefined ? [] : [value];
  const [head, ...rest] = segs;
  if (value === null || typeof value !== 'object') return [];
  if (head === '[]') {
    const items = Array.isArray(value) ? value : Object.values(value);
    return items.length === 0 ? [] : rest.length === 0 ? [value] : items.flatMap((v) => valuesAt(v, rest));
  }
  return valuesAt((value as Record<string, unknown>)[head!], rest);
}
const splitPath = (p: string) => p.replace(/\[\]/g, '.[]').split('.').filter(Boolean);
const TYPE_OF: Record<string, (v: unknown) => boolean> = {
  tostring: (v) => typeof v === 'string',
  tolong: (v) => typeof v === 'number' && Number.isFinite(v),
  toint: (v) => typeof v === 'number' && Number.isInteger(v),
  todouble: (v) => typeof v === 'number',
  toreal: (v) => typeof v === 'number',
  tobool: (v) => typeof v === 'boolean',
  todatetime: (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)),
};

/** Everything a query reads that the emitted lines do not have. */
function contractProblems(name: string, a: QueryAnalysis, emitted: readonly Line[]): string[] {
  const problems: string[] = [];
  const byEvent = new Map<string, Line[]>();
  for (const l of emitted) byEvent.set(l.event, [...(byEvent.get(l.event) ?? []), l]);
  for (const s of a.statements) {
    for (const e of s.events) if (!byEvent.has(e)) problems.push(`${name}: event ${e} was never written`);
    const events = a.eventsOf(s);
    if (s.fields.length > 0 && events.length === 0) problems.push(`${name}: ${s.name ?? 'the last statement'} reads ${s.fields.map((f) => f.path).join(', ')} without naming an event`);
    for (const e of events) {
      for (const f of s.fields) {
        const values = (byEvent.get(e) ?? []).flatMap((l) => valuesAt(l.fields, splitPath(f.path)));
        if (values.length === 0) problems.push(`${name}: ${e} lines never carry ${f.path}`);
        const check = f.conversion ? TYPE_OF[f.conversion] : undefined;
        if (f.conversion && !check) problems.push(`${name}: ${f.path} is read with ${f.conversion}, which this test cannot check`);
        const wrong = check ? values.filter((v) => !check(v)) : [];
        if (wrong.length > 0) problems.push(`${name}: ${e}.${f.path} is read with ${f.conversion} but was written as ${JSON.stringify(wrong[0])}`);
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------- the code paths
const T1 = '11111111-aaaa-4aaa-8aaa-000000000001';
const T2 = '11111111-aaaa-4aaa-8aaa-000000000002';
const T3 = '11111111-aaaa-4aaa-8aaa-000000000003';
const T4 = '11111111-aaaa-4aaa-8aaa-000000000004';
const SUB = '22222222-bbbb-4bbb-8bbb-000000000001';
const NOW = new Date('2026-11-26T12:00:00Z');
const OP = '0b0b0b0b-0000-4000-8000-000000000001';
const INGEST_APP = '/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/mdr-app/providers/Microsoft.Web/sites/mdr-ingest01';

const az = useAzurite();
let h: SimHarness | undefined;

beforeAll(async () => {
  await emitIngest();
  await emitHealth();
  await emitTamperAndCapacity();
  await emitReconcileFailures();
}, 600_000);
afterAll(async () => {
  await h?.stop();
});

/** Ingest of a batch with a mapped record and dead letters; a forced accounting violation; a partition stalled on its outputs. */
async function emitIngest(): Promise<void> {
  const binding = { tenantId: T1, region: 'westeurope', namespace: 'mdr-ingest-weu-01', hub: `mdr-${T1}`, consumerGroup: 'mdr-ingest', connection: 'INGEST_EH' };
  const good = Buffer.from(JSON.stringify({ records: [{ time: '2026-11-26T11:00:00Z', category: 'SignInLogs', tenantId: T1, resultType: '0', properties: { id: 's1', userId: 'u' } }] }));
  const junk = Buffer.from('not json at all');
  const meta = (seq: number[]) => ({ partitionContext: { partitionId: '0' }, sequenceNumberArray: seq, offsetArray: seq.map(String), enqueuedTimeUtcArray: seq.map(() => '2026-11-26T11:00:01') });
  const handler = (svc: BlobServiceClient) =>
    createIngestHandler({ binding, outputMode: 'blob', blobServiceClient: () => svc, eventsContainer: 'ocsf-contract', deadLetterContainer: 'dead-contract', subscriptionIds: () => [SUB], now: () => NOW.getTime() });
  const svc = BlobServiceClient.fromConnectionString(az.connectionString);
  await handler(svc)([good, junk], ctx(`ingest-${T1}`, { triggerMetadata: meta([1, 2]), retryContext: { retryCount: 0, maxRetryCount: -1 } }));

  forceNoEvents.on = true;
  try {
    await expect(handler(svc)([good], ctx(`ingest-${T1}`, { triggerMetadata: meta([3]), retryContext: { retryCount: 0, maxRetryCount: -1 } }))).rejects.toThrow(/accounting/);
  } finally {
    forceNoEvents.on = false;
  }

  // Outputs refuse every write (a wrong account key): the host's 8th retry of the batch reports the partition stalled.
  const refused = BlobServiceClient.fromConnectionString(az.connectionString.replace(/AccountKey=[^;]+/, `AccountKey=${Buffer.from('not the key').toString('base64')}`), { retryOptions: { maxTries: 1 } });
  await expect(handler(refused)([good], ctx(`ingest-${T1}`, { triggerMetadata: meta([4]), retryContext: { retryCount: 8, maxRetryCount: -1 } }))).rejects.toThrow();
}

/** One stream-health timer run: a silent source, a silent hub, a stalled partition, a full ingest fleet, the coverage snapshot, the poison queues. */
async function emitHealth(): Promise<void> {
  const registry = createMemoryRegistry();
  const partitionInfo = createMemoryPartitionInfo();
  const at = (mins: number) => new Date(NOW.getTime() + mins * 60_000);
  const tenant = (tenantId: string): TenantRecord => ({ tenantId, displayName: tenantId, regions: ['westeurope'], entraWorkspaceIds: [], options: { activityLog: true, storage: true, keyVault: true, entraDataExport: true, defenderAlerts: true, storageServices: ['blob'] }, status: 'active', createdAt: at(-10_000).toISOString(), updatedAt: at(-10_000).toISOString() });
  const hub = (tenantId: string): HubAssignment => ({ tenantId, region: 'westeurope', namespace: 'mdr-ingest-weu-01', namespaceId: 'nsid', hub: `mdr-${tenantId}`, consumerGroup: 'mdr-ingest', namespaceRuleId: 'r', sendRuleId: 's', state: 'ready', createdAt: at(-10_000).toISOString() });
  const cov = (tenantId: string, target: CoverageEntry['target'], resourceId: string, state: CoverageEntry['state'] = 'streaming'): CoverageEntry => ({ tenantId, resourceId, target, subscriptionId: SUB, region: 'westeurope', state, updatedAt: at(-300).toISOString() });
  for (const t of [T1, T2, T3, T4]) {
    await registry.putTenant(tenant(t));
    await registry.putHub(hub(t));
  }
  // T1: the hub gets data, but the activity log went quiet hours ago.
  await registry.putCoverage(T1, [cov(T1, 'activity-log', `/subscriptions/${SUB}`), cov(T1, 'keyvault-diagnostics', `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv`, 'forbidden')]);
  await registry.recordLastSeen([{ tenantId: T1, source: 'activity-log', category: 'Administrative', lastEventTime: at(-600).toISOString(), lastIngestTime: at(-599).toISOString(), count: 1 }]);
  partitionInfo.set('mdr-ingest-weu-01.servicebus.windows.net', `mdr-${T1}`, { partitions: [{ partitionId: '0', lastEnqueuedSequenceNumber: 9, lastEnqueuedOnUtc: at(-2), isEmpty: false }] });
  // T2: its hub has received nothing for ten hours; T4: nothing ever arrived in its hub.
  await registry.putCoverage(T2, [cov(T2, 'activity-log', `/subscriptions/${SUB}`)]);
  partitionInfo.set('mdr-ingest-weu-01.servicebus.windows.net', `mdr-${T2}`, { partitions: [{ partitionId: '0', lastEnqueuedSequenceNumber: 7, lastEnqueuedOnUtc: at(-600), isEmpty: false }] });
  await registry.putCoverage(T4, [cov(T4, 'activity-log', `/subscriptions/${SUB}`)]);
  partitionInfo.set('mdr-ingest-weu-01.servicebus.windows.net', `mdr-${T4}`, { partitions: [{ partitionId: '0', lastEnqueuedSequenceNumber: -1, isEmpty: true }] });
  // T3: events keep arriving in partition 1, ingest has not got it through for an hour.
  await registry.putCoverage(T3, [cov(T3, 'activity-log', `/subscriptions/${SUB}`)]);
  await registry.recordLastSeen([{ tenantId: T3, source: 'activity-log', category: 'Administrative', lastEventTime: at(-5).toISOString(), lastIngestTime: at(-4).toISOString(), count: 1 }]);
  await registry.recordPartitionProgress([{ tenantId: T3, namespace: 'mdr-ingest-weu-01', hub: `mdr-${T3}`, partitionId: '1', sequenceNumber: 40, at: at(-60).toISOString() }]);
  partitionInfo.set('mdr-ingest-weu-01.servicebus.windows.net', `mdr-${T3}`, { partitions: [{ partitionId: '1', lastEnqueuedSequenceNumber: 90, lastEnqueuedOnUtc: at(-1), isEmpty: false }] });
  // The fleet: one ingest app of one hub, full.
  await registry.putIngestApp({ name: 'mdr-ingest01', resourceId: INGEST_APP, hubs: [T1, T2, T3, T4].map((t) => hubKey(t, 'westeurope')), state: 'active' });

  // A reconcile work item the host gave up on, in the poison queue of this app's reconcile queue.
  const reconcileQueue = 'mdr-reconcile-contract';
  await new QueueClient(az.connectionString, `${reconcileQueue}-poison`).createIfNotExists();
  await new QueueClient(az.connectionString, `${reconcileQueue}-poison`).sendMessage(Buffer.from(JSON.stringify({ tenantId: T1 })).toString('base64'));
  const storage = storageTarget(parseSettings({ MDR_PROVIDER_TENANT_ID: T1, MDR_PROVIDER_SUBSCRIPTION_ID: SUB, MDR_INGEST_PRINCIPAL_ID: T2, AzureWebJobsStorage: az.connectionString }));
  // A second queue name the storage service refuses (uppercase): the check cannot read it and says so.
  const poison = { source: storageQueueDepth(storage), queues: [reconcileQueue, 'mdr-onboarding-contract', 'Unreadable_Queue'] };

  const settings = { health: { silenceThresholdMinutes: 120 }, cloud: { eventHubsSuffix: 'servicebus.windows.net' }, fleet: { maxHubsPerApp: 4 } };
  await createHealthTimerHandler({ registry, partitionInfo, settings, now: () => NOW, poison })(timer, ctx('stream-health'));
}

/** A tamper finding through an event-driven targeted run (queue handler), then onboardings refused for capacity. */
async function emitTamperAndCapacity(): Promise<void> {
  h = await startHarness({ scenario: loadFixtureScenario('acme.scenario.json') });
  const x = h;
  await reconcileTenant(ACME, x.deps);
  await reconcileTenant(ACME, x.deps);
  const known = [...new Set((await x.registry.listCoverage(ACME)).map((e) => e.subscriptionId))];
  const fed = new Set(x.sim.state.activityOfSubscription(S1).map((e) => e.eventDataId));
  // The customer deletes our Key Vault setting.
  const customer = createAzureClients({ armEndpoint: x.sim.url, credential: staticTokenCredential('customer-admin'), tlsCa: x.sim.ca, retry: { retryDelayInMs: 5, maxRetryDelayInMs: 20 } });
  await (await customer.monitor()).diagnosticSettings.delete(`subscriptions/${S1}/resourceGroups/app/providers/Microsoft.KeyVault/vaults/acme-kv`, 'mdr-export');
  // Its activity log arrives through ingest; the signal sink queues a targeted work item.
  const bodies = activityLogMessages(x.sim.state, [S1], 0, (e) => !fed.has(e.eventDataId));
  const outputs = createMemoryOutputs();
  await handleIngestBatch({ bodies: bodies.map((b) => b.body), messages: bodies.map((_, i) => ({ partitionId: '0', sequenceNumber: i })), binding: { tenantId: ACME, hub: 'h' }, subscriptionIds: known, ingestTime: Date.now(), outputs });
  const queued: object[] = [];
  const pending = createPendingWork(createMemoryMarkerTable(), { delayMs: 0 });
  const self = new Set([simIdentity(x.sim.state, 'simulator-token', S1).objectId]);
  await createSignalSink({ pending, queue: { send: async (m) => void queued.push(m) }, delaySeconds: 0 })(ACME, outputs.batches.flatMap((b) => b.events), { knownSubscriptions: new Set(known), self, automationResourceGroup: x.settings.provider.automationResourceGroup });
  expect(queued).toHaveLength(1);
  const services: AppServices = { settings: x.settings, registry: x.registry, clients: x.clients, storage: storageTarget(x.settings) };
  const extras = (): TargetedRunExtras => ({ pending, self, writeFindings: async () => undefined });
  for (const item of queued) await createReconcileQueueHandler(services, undefined, extras)(item, ctx('reconcile-tenant', { triggerMetadata: { dequeueCount: 1 } }));

  // Capacity: the one ingest app holds ACME's hub and may hold no more. An onboarding is refused (503 capacity), and
  // a long onboarding already queued fails for capacity.
  const settings = parseSettings({ MDR_PROVIDER_TENANT_ID: x.settings.provider.tenantId, MDR_PROVIDER_SUBSCRIPTION_ID: x.settings.provider.subscriptionId, MDR_INGEST_PRINCIPAL_ID: x.settings.provider.ingestPrincipalId, MDR_EH_POOL_RESOURCE_GROUP: x.settings.pool.resourceGroup, AzureWebJobsStorage: 'UseDevelopmentStorage=true', MDR_INGEST_APPS: INGEST_APP, MDR_INGEST_APP_MAX_HUBS: '1' });
  await x.registry.putIngestApp({ name: 'mdr-ingest01', resourceId: INGEST_APP, hubs: [hubKey(ACME, 'westeurope')], state: 'active' });
  const onboarding = { settings, registry: x.registry, clients: x.clients, lroPollMs: 5, onboardingQueue: { send: async () => undefined } };
  const refused = await createPutTenantHandler(onboarding)(new HttpRequest({ method: 'PUT', url: `http://localhost/api/tenants/${T2}`, params: { id: T2 }, body: { string: JSON.stringify({ displayName: 'Refused', regions: ['westeurope'] }) } }), ctx('tenant'));
  expect(refused.status).toBe(503);
  const op = { tenantId: T3, operationId: OP, requestHash: 'h', request: { displayName: 'Late', regions: ['westeurope'] }, status: 'NotStarted' as const, createdAt: NOW.toISOString(), updatedAt: NOW.toISOString(), attempts: 0 };
  await x.registry.putOperation(op);
  await createOnboardingQueueHandler(onboarding)({ tenantId: T3, operationId: OP }, ctx('onboarding-continue', { triggerMetadata: { dequeueCount: 1 } }));
}

/** Reconcile of a tenant failing: discovery throttled away (the invocation throws), then every write refused (partial runs). */
async function emitReconcileFailures(): Promise<void> {
  const x = await startHarness({ scenario: loadFixtureScenario('acme.scenario.json'), maxRetries: 0 });
  try {
    const services: AppServices = { settings: x.settings, registry: x.registry, clients: x.clients, storage: storageTarget(x.settings) };
    const handler = createReconcileQueueHandler(services);
    x.sim.setFaults({ rate503: 1, paths: /resourcegraph/i });
    await expect(handler({ tenantId: ACME }, ctx('reconcile-tenant', { triggerMetadata: { dequeueCount: 1 } }))).rejects.toThrow();
    x.sim.setFaults({ rate409: 1, only: 'write' });
    for (let run = 0; run < 3; run++) await handler({ tenantId: ACME }, ctx('reconcile-tenant', { triggerMetadata: { dequeueCount: 1 } }));
  } finally {
    await x.stop();
  }
}

// ---------------------------------------------------------------- the contract
describe('alert rules and workbook queries (infra/modules/monitoring)', () => {
  it.each(queries.map((q) => [`${q.kind} ${q.name}`, q] as const))('%s parses and binds against the Application Insights traces schema', (_, q) => {
    expect(analysis(q).errors).toEqual([]);
  });

  it.each(rules.map((r) => [r.name, r] as const))('rule %s returns a column for each of its dimensions', (_, r) => {
    const a = analysis(queries.find((q) => q.kind === 'rule' && q.name === r.name)!);
    for (const d of r.dimensions) expect([...a.columns.keys()], `${r.name} dimension ${d.name}`).toContain(d.name);
  });

  it('fill every {placeholder} from a template parameter that monitoring.bicep replaces and main.bicep passes through', () => {
    const used = new Set(rules.flatMap((r) => [...placeholders(r.query.join('\n')), ...placeholders(r.description)]));
    expect(used.size).toBeGreaterThan(0);
    const replaced = new Set([...monitoringBicep.matchAll(/'\{(\w+)\}', string\((\w+)\)/g)].filter((m) => m[1] === m[2]).map((m) => m[1]!));
    const moduleParams = bicepParams(monitoringBicep);
    for (const p of used) {
      expect(replaced, `monitoring.bicep replaces {${p}}`).toContain(p);
      expect(moduleParams.has(p), `monitoring.bicep declares ${p}`).toBe(true);
      expect(mainBicep, `main.bicep passes ${p} to the module`).toMatch(new RegExp(`^\\s+${p}: ${p}$`, 'm'));
      expect(mainDefault(p)).toMatch(/^\d+$/);
    }
  });

  it('cover every condition the on-call must act on (issue #18), each with a runbook line', () => {
    const events = new Set(queries.filter((q) => q.kind === 'rule').flatMap((q) => analysis(q).statements.flatMap((s) => s.events)));
    for (const e of ['health.silent', 'health.hub_silent', 'ingest.dead_lettered', 'ingest.batch', 'ingest.accounting_violation', 'reconcile.outcome', 'reconcile.failed', 'queue.poison', 'fleet.full', 'http.problem', 'onboarding.operation_failed', 'ingest.partition_stalled', 'eventDriven.tamper', 'health.run'])
      expect(events, e).toContain(e);
    for (const r of rules) expect(r.runbook.length, r.name).toBeGreaterThan(20);
  });

  it('workbook shows coverage, health, ingest per tenant and source, and reconcile duration and ARM calls', () => {
    const read = workbookQueries(workbook.items).flatMap((q) => analysis({ kind: 'workbook', name: q.name, text: q.query, rule: undefined }).statements.flatMap((s) => s.fields.map((f) => f.path)));
    for (const f of ['counts[].state', 'counts[].target', 'verdict', 'records', 'events', 'deadLetters', 'bySource[]', 'durationMs', 'armReads', 'armWrites']) expect(read, f).toContain(f);
    expect(workbook.fallbackResourceIds).toEqual(['{appInsightsId}']);
  });
});

describe('the log contract: what the queries read is what the code writes', () => {
  it('every line written through the Functions context is `<event> <json object>`, the form the queries parse', () => {
    expect(lines.length).toBeGreaterThan(20);
    for (const l of lines) {
      expect(l.message).toMatch(/^[a-z][A-Za-z]*\.[a-z][A-Za-z_]* \{/);
      expect(l.fields.invocationId).toMatch(/^inv-\d+$/);
    }
  });

  it.each(queries.map((q) => [`${q.kind} ${q.name}`, q] as const))('%s reads only events and fields the code writes, with the types it converts them to', (_, q) => {
    expect(contractProblems(`${q.kind} ${q.name}`, analysis(q), lines)).toEqual([]);
  });

  it('the code paths above reach each alert condition, not only its event name', () => {
    const of = (event: string) => lines.filter((l) => l.event === event).map((l) => l.fields);
    expect(of('health.silent').map((f) => [f.tenantId, f.source])).toContainEqual([T1, 'activity-log']);
    expect(of('health.hub_silent').map((f) => [f.tenantId, f.verdict]).sort()).toEqual([[T2, 'silent'], [T4, 'never-seen']]);
    expect(of('health.ingest_stalled')).toMatchObject([{ tenantId: T3, partitions: [{ partitionId: '1' }] }]);
    expect(of('fleet.full')).toHaveLength(1);
    expect(of('coverage.snapshot').map((f) => f.tenantId).sort()).toEqual([T1, T2, T3, T4]);
    expect(of('coverage.snapshot').find((f) => f.tenantId === T1)).toMatchObject({ targets: 2, counts: expect.arrayContaining([{ target: 'keyvault-diagnostics', state: 'forbidden', count: 1 }]) });
    expect(of('ingest.batch')[0]).toMatchObject({ tenantId: T1, records: 2, events: 1, deadLetters: 1, bySource: { 'sign-in': 1 } });
    expect(of('ingest.accounting_violation')).toMatchObject([{ tenantId: T1, records: 1, mapped: 1, events: 0 }]);
    expect(of('ingest.partition_stalled')).toMatchObject([{ tenantId: T1, partitionId: '0', retryCount: 8 }]);
    expect(of('reconcile.failed')).toMatchObject([{ tenantId: ACME, kind: 'transient' }]);
    const failingRuns = Number(mainDefault('reconcileFailingRuns'));
    expect(of('reconcile.outcome').filter((f) => f.tenantId === ACME && f.dryRun === false && f.result !== 'succeeded').length).toBeGreaterThanOrEqual(failingRuns);
    expect(of('eventDriven.tamper')).toMatchObject([{ tenantId: ACME, operation: 'microsoft.insights/diagnosticsettings/delete', repairedNow: true }]);
    expect(of('http.problem')).toMatchObject([{ kind: 'capacity', message: expect.stringMatching(/ingestAppCount=/) }]);
    expect(of('onboarding.operation_failed')).toMatchObject([{ tenantId: T3, kind: 'capacity' }]);
    expect(of('queue.poison_unreadable')).toMatchObject([{ queue: 'Unreadable_Queue' }]);
    expect(of('health.run')).toHaveLength(1);
  });

  it('alerting lines are written at the level an operator expects (errors page, warnings degrade)', () => {
    const level = (event: string) => new Set(lines.filter((l) => l.event === event).map((l) => l.level));
    expect(level('ingest.accounting_violation')).toEqual(new Set(['error']));
    expect(level('ingest.partition_stalled')).toEqual(new Set(['error']));
    expect(level('fleet.full')).toEqual(new Set(['error']));
    expect(level('reconcile.failed')).toEqual(new Set(['error']));
    expect(level('eventDriven.tamper')).toEqual(new Set(['warning']));
    expect(level('health.silent')).toEqual(new Set(['warning']));
    // A poison queue with messages is an error, an empty one a plain reading.
    const poison = lines.filter((l) => l.event === 'queue.poison');
    expect(poison.map((l) => [l.fields.poisonQueue, l.fields.approximateMessages, l.level])).toEqual([
      ['mdr-reconcile-contract-poison', 1, 'error'],
      ['mdr-onboarding-contract-poison', 0, 'information'],
    ]);
  });

  it('the contract check itself fails on a field the code does not write, a wrong type, or an unknown event', () => {
    const q = (text: string) => contractProblems('probe', analyzeKql(text), lines);
    expect(q('traces | where message startswith "ingest.batch " | extend d = parse_json(substring(message, indexof(message, " ") + 1)) | project tolong(d.recordz)')).toEqual(['probe: ingest.batch lines never carry recordz']);
    expect(q('traces | where message startswith "ingest.batch " | extend d = parse_json(substring(message, indexof(message, " ") + 1)) | project tolong(d.tenantId)')).toEqual([expect.stringMatching(/ingest\.batch\.tenantId is read with tolong but was written as "11111111/)]);
    expect(q('traces | where message startswith "ingest.batchez " | extend d = parse_json(substring(message, indexof(message, " ") + 1)) | project tostring(d.tenantId)')).toEqual(['probe: event ingest.batchez was never written', 'probe: ingest.batchez lines never carry tenantId']);
    expect(q('traces | where message startswith "coverage.snapshot " | extend d = parse_json(substring(message, indexof(message, " ") + 1)) | mv-expand c = d.counts | project tostring(c.targett)')).toEqual(['probe: coverage.snapshot lines never carry counts[].targett']);
  });
});
