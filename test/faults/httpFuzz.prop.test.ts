import azf from '@azure/functions';
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArmSimulator, type ArmSimulator } from '../../sim/armSimulator.js';
import { createAlertStateHttpHandler } from '../../src/lib/alerts/httpHandlers.js';
import { createAzureClients, staticTokenCredential } from '../../src/lib/azure/clientFactory.js';
import { memoryLogger } from '../../src/lib/log.js';
import {
  createDeleteTenantHandler,
  createGetOnboardingHandler,
  createGetTenantHandler,
  createListTenantsHandler,
  createPutTenantHandler,
  createTenantRouteHandler,
  MAX_TENANT_BODY_BYTES,
} from '../../src/lib/onboarding/httpHandlers.js';
import { createCoverageHttpHandler, createReconcileHttpHandler } from '../../src/lib/reconcile/httpHandlers.js';
import { createMemoryRegistry } from '../../src/lib/registry/memoryRegistry.js';
import type { TenantRegistry } from '../../src/lib/registry/tenantRegistry.js';
import { ACME, loadFixtureScenario, settingsFor, tenantRecord } from '../lib/reconcile/simHarness.js';

/**
 * Hostile input over the HTTP API: ids with traversal, injection and unicode, non-GUID tenants, bodies of the
 * wrong type, oversized, deeply nested or carrying `__proto__`. Every answer must be a 4xx problem document with a
 * message (never 5xx, never a throw), and nothing may be written: the registry is unchanged and the ARM
 * simulator saw no write.
 */
const { HttpRequest: Req, InvocationContext: Ctx } = azf;
const NUM_RUNS = process.env.FAULTS === 'long' ? 1500 : 120;
type Handler = (req: HttpRequest, ctx: InvocationContext) => Promise<HttpResponseInit>;

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HOSTILE_IDS = [
  '', ' ', '../', '..%2f..%2fetc%2fpasswd', '%2e%2e', '..\\..\\windows', "'; DROP TABLE tenants; --", '" OR 1=1 --', '<script>alert(1)</script>', '${jndi:ldap://x/a}',
  '{{7*7}}', '__proto__', 'constructor', 'prototype', 'null', 'undefined', 'NaN', '\u0000', '\u202e\u0041', 'ｔｅｎａｎｔ', '😀'.repeat(40), 'a'.repeat(10_000),
  'aaaaaaaa-0000-0000-0000-00000000000', 'aaaaaaaa-0000-0000-0000-0000000000012', 'gggggggg-0000-0000-0000-000000000001', '{aaaaaaaa-0000-0000-0000-000000000001}',
  'aaaaaaaa-0000-0000-0000-000000000001/../x', 'aaaaaaaa-0000-0000-0000-000000000001\n', ' aaaaaaaa-0000-0000-0000-000000000001', 'PartitionKey eq \'x\'',
];
const nonGuid = fc.oneof(fc.constantFrom(...HOSTILE_IDS), fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 })).filter((s) => !GUID_RE.test(s));
/** Well-formed GUIDs that are not registered (the handlers must answer 404/400, never create). */
const unknownGuid = fc.uuid().filter((u) => u.toLowerCase() !== ACME);

const deep = (n: number, open: string, close: string, inner = '1') => `${open.repeat(n)}${inner}${close.repeat(n)}`;
const HOSTILE_BODIES: string[] = [
  'null', 'true', '0', '-1e309', '"a string"', '[]', '[{"displayName":"x"}]', '{}', '{"displayName":123}', '{"displayName":null}', '{"displayName":["x"]}',
  '{"displayName":""}', '{"displayName":"   "}', '{"displayName":"x","extra":1}', '{"displayName":"x","regions":"westeurope"}', '{"displayName":"x","regions":["mars-north"]}',
  '{"displayName":"x","regions":["westeurope","westeurope"]}', '{"displayName":"x","options":{"storage":"yes"}}', '{"displayName":"x","options":[]}',
  '{"displayName":"x","managementGroupId":"../../root"}', '{"displayName":"x","entraWorkspaceIds":["/subscriptions/../x"]}',
  '{"__proto__":{"polluted":"yes"},"displayName":"x"}', '{"constructor":{"prototype":{"polluted":"yes"}},"displayName":"x"}', '{"displayName":"x","options":{"__proto__":{"storage":false}}}',
  '{"displayName":"<script>alert(1)</script>","regions":["\'; DROP TABLE x; --"]}', '{"displayName":"x"', '{displayName:"x"}', "{'displayName':'x'}", '\u0000', '\ufeff{}',
  deep(5000, '[', ']'), deep(5000, '{"a":', '}'), `{"displayName":"${'x'.repeat(200)}"}`,
  `{"displayName":"x","state":"Dismissed","subscriptionId":"${'1'.repeat(70_000)}"}`, // > 64 KiB
  `{"displayName":"${'y'.repeat(1_100_000)}"}`, // > 1 MB
];
const hostileBody = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_BODIES) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 4 }).filter((j) => !/"displayName"\s*:\s*"[^"]*[^\s"][^"]*"\s*}$/.test(j)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
);
const hostileQuery = fc.oneof(fc.constant(undefined), fc.constantFrom('maybe', 'TRUE ', '1;DROP', '<x>', '%00', 'yes', '2', '-1', 'a'.repeat(5000)), fc.string({ maxLength: 20 }));

function request(method: string, params: Record<string, string>, body: string | undefined, query: Record<string, string | undefined> = {}): HttpRequest {
  const url = new URL(`http://localhost/api/tenants/${encodeURIComponent(params.id ?? '')}`);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  return new Req({ method, url: url.toString(), params, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: { string: body } }) });
}
const ctx = () => new Ctx({ functionName: 'fuzz', invocationId: 'fuzz-1', logHandler: () => undefined });

let sim: ArmSimulator;
let registry: TenantRegistry;
let before: string;
const logger = memoryLogger();
const handlers: Record<string, Handler> = {};
const figures = { cases: 0, byStatus: {} as Record<number, number> };

async function registryView(r: TenantRegistry): Promise<string> {
  const tenants = await r.listTenants({ includeOffboarded: true });
  const rest = await Promise.all(tenants.map(async (t) => [await r.listHubs(t.tenantId), await r.listCoverage(t.tenantId)]));
  return JSON.stringify({ tenants, rest, ns: await r.listNamespaces('westeurope') });
}

/** The invariant every hostile request must meet. */
async function expectClean4xx(h: Handler, req: HttpRequest, allowed: readonly number[]): Promise<void> {
  let res: HttpResponseInit;
  try {
    res = await h(req, ctx());
  } catch (e) {
    throw new Error(`handler threw on ${req.method} ${req.url.slice(0, 200)}: ${(e as Error).message}`);
  }
  figures.cases++;
  figures.byStatus[res.status ?? 200] = (figures.byStatus[res.status ?? 200] ?? 0) + 1;
  expect(allowed, `status ${res.status} for ${req.method} ${req.url.slice(0, 200)} ${JSON.stringify(res.jsonBody).slice(0, 300)}`).toContain(res.status);
  const body = res.jsonBody as { detail?: unknown; title?: unknown } | undefined;
  expect(typeof body?.detail === 'string' && body.detail.length > 0 && typeof body.title === 'string').toBe(true);
  expect(String((res.headers as Record<string, string> | undefined)?.['content-type'])).toBe('application/problem+json');
}

beforeAll(async () => {
  const scenario = loadFixtureScenario('acme.scenario.json');
  sim = await startArmSimulator({ scenario });
  const settings = settingsFor(scenario);
  const clients = createAzureClients({ armEndpoint: sim.url, credential: staticTokenCredential(), tlsCa: sim.ca, retry: { maxRetries: 0 } });
  registry = createMemoryRegistry();
  await registry.putTenant(tenantRecord(ACME));
  before = await registryView(registry);
  const deps = { settings, registry, clients, logger, lroPollMs: 5, teardown: async () => { throw new Error('teardown must not run for hostile input'); } };
  Object.assign(handlers, {
    put: createPutTenantHandler(deps),
    get: createGetTenantHandler(deps),
    del: createDeleteTenantHandler(deps),
    list: createListTenantsHandler(deps),
    onboarding: createGetOnboardingHandler(deps),
    route: createTenantRouteHandler(deps),
    reconcile: createReconcileHttpHandler({ settings, registry, clients, logger }),
    coverage: createCoverageHttpHandler({ registry }),
    alert: createAlertStateHttpHandler({ clients, registry, logger }),
  });
  sim.clearRequests();
});

afterAll(async () => {
  console.log(`[faults] http fuzz: ${figures.cases} hostile requests, statuses ${JSON.stringify(figures.byStatus)}`);
  await sim?.stop();
});

describe('hostile input over the HTTP API', () => {
  it('PUT /tenants/{id} with a hostile id or body answers 400/413 and writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(nonGuid, unknownGuid), hostileBody, async (id, body) => {
        await expectClean4xx(handlers.put!, request('PUT', { id }, body), [400, 413]);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('refuses an oversized PUT body with 413 before parsing it, by length or by content-length', async () => {
    const big = `{"displayName":"${'z'.repeat(MAX_TENANT_BODY_BYTES)}"}`;
    await expectClean4xx(handlers.put!, request('PUT', { id: '12345678-1234-1234-1234-123456789012' }, big), [413]);
    const declared = new Req({ method: 'PUT', url: 'http://localhost/api/tenants/x', params: { id: '12345678-1234-1234-1234-123456789012' }, headers: { 'content-length': String(2 ** 31) }, body: { string: '{}' } });
    await expectClean4xx(handlers.put!, declared, [413]);
  });

  it('GET/DELETE/onboarding/coverage/reconcile with a non-GUID id answer 400, with an unknown GUID 404', async () => {
    const routes: [string, string, Record<string, string>][] = [
      ['get', 'GET', {}], ['del', 'DELETE', {}], ['onboarding', 'GET', {}], ['coverage', 'GET', {}], ['reconcile', 'POST', {}],
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.oneof(nonGuid, unknownGuid), hostileQuery, fc.option(hostileBody, { nil: undefined }), async ([name, method], id, q, body) => {
        const query = { dryRun: q, managementGroupId: q, includeOffboarded: q };
        // dryRun=false on an unknown tenant must still only read; on a hostile id nothing is reached.
        await expectClean4xx(handlers[name]!, request(method, { id }, body, query), GUID_RE.test(id) ? [400, 404] : [400]);
      }),
      { numRuns: NUM_RUNS * 2 },
    );
  });

  it('GET /tenants with a hostile includeOffboarded answers 400; other methods on /tenants/{id} answer 405', async () => {
    await fc.assert(
      fc.asyncProperty(hostileQuery.filter((q) => q !== undefined && !['true', 'false', '1', '0', ''].includes(q.toLowerCase())), async (q) => {
        await expectClean4xx(handlers.list!, request('GET', {}, undefined, { includeOffboarded: q }), [400]);
      }),
      { numRuns: Math.ceil(NUM_RUNS / 4) },
    );
    for (const m of ['POST', 'PATCH', 'OPTIONS', 'FOO']) await expectClean4xx(handlers.route!, request(m, { id: ACME }, '{}'), [405]);
  });

  it('POST alert state with hostile ids, alert names or bodies answers 400/404 and never reaches ARM', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(nonGuid, unknownGuid, fc.constant(ACME)), fc.oneof(fc.constantFrom(...HOSTILE_IDS), fc.string({ maxLength: 300 }), fc.constant('valid-alert_1')), hostileBody, async (id, alertName, body) => {
        const req = request('POST', { id, alertName }, body);
        await expectClean4xx(handlers.alert!, req, [400, 404]);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('after all of it: the registry is unchanged, no object was polluted and the ARM simulator saw no write', async () => {
    expect(await registryView(registry)).toBe(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(sim.requests.filter((r) => r.kind !== 'read')).toEqual([]);
    expect(figures.cases).toBeGreaterThan(NUM_RUNS * 4);
  });
});
