import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { simulatorCertificate } from './cert.js';
import { drawFault, seededRandom, type Fault, type FaultConfig } from './faults.js';
import { armError, Router, type Reply, type RouteOptions } from './http.js';
import { registerResourceGraph } from './resourceGraph.js';
import { activityOf, newActivityEvent, registerActivityLog } from './routes/activityLog.js';
import { registerDiagnosticSettings } from './routes/diagnosticSettings.js';
import { registerEventHub } from './routes/eventHub.js';
import { registerManagedServices } from './routes/managedServices.js';
import { registerOperationalInsights } from './routes/operationalInsights.js';
import { registerResources } from './routes/resources.js';
import { registerSecurity } from './routes/security.js';
import { registerSubscriptions } from './routes/subscriptions.js';
import { registerWeb } from './routes/web.js';
import type { Scenario } from './scenario.js';
import { buildState, type SimState } from './state.js';
import { ARM_LIMITS, TokenBuckets, WindowQuota, type OperationKind, type ThrottleLimits } from './throttle.js';

export type { FaultConfig } from './faults.js';
export type { SimState } from './state.js';

export interface ArmSimulatorOptions {
  scenario: Scenario;
  /** Added to every response (default 0). */
  latencyMs?: number;
  /** true = ARM's 250/25 reads and 200/10 writes and deletes per (principal, subscription, kind). Default off. */
  throttle?: boolean | ThrottleLimits;
  /** Resource Graph per-principal quota when throttling is on (default 15 queries per 5 s); false disables it. */
  resourceGraphQuota?: { queries: number; windowSeconds: number } | false;
  faults?: FaultConfig;
  /** Seed for fault draws, so a run is reproducible (default 1). */
  seed?: number;
  /** InProgress polls before an LRO reports Succeeded (default 1). */
  asyncOperationPolls?: number;
  /** Page size of LIST responses that page with nextLink (default 50). */
  pageSize?: number;
  /** Resource Graph rows per page, at most 1000 (default 1000). */
  resourceGraphPageSize?: number;
  /** Keep each response's headers and body on its RecordedRequest (spec conformance tests). Default off: the bench sends thousands. */
  recordResponses?: boolean;
  /**
   * The clock the simulator runs on, ms since epoch (default Date.now): activity-log timestamps, throttling buckets and
   * the Resource Graph quota window. A test that counts 429s passes a fixed one and moves it with advanceClock, so the
   * outcome does not depend on how fast the machine answers.
   */
  clock?: () => number;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string, as sent. */
  path: string;
  apiVersion: string;
  status: number;
  /** The bearer token: the simulator treats it as the caller's identity. */
  principal: string;
  kind: OperationKind;
  faulted?: Fault | 'throttled';
  /** Parsed JSON request body, when there was one. */
  body?: unknown;
  at: number;
  /** The query string as sent, without `?` (with `recordResponses`). */
  query?: string;
  /**
   * What the simulator answered (with `recordResponses`). `origin` tells ARM's own answers (authentication,
   * throttling, unknown subscription or route, injected faults: ARM's error envelope) from the resource provider's.
   */
  response?: { headers: Record<string, string>; body?: unknown; origin: 'arm' | 'provider' };
}

export interface ArmSimulator {
  url: string;
  ca: string;
  requests: RecordedRequest[];
  state: SimState;
  setFaults(f: FaultConfig | undefined): void;
  setLatency(ms: number): void;
  clearRequests(): void;
  /** Moves the simulator's clock (activity-log timestamps, throttling refill) forward, as if that much time had passed. */
  advanceClock(ms: number): void;
  /** The simulator's clock, ms since epoch. */
  now(): number;
  counts(): { reads: number; writes: number; deletes: number; throttled: number; faults: number };
  /**
   * Holds the next request matching `match` before it is handled (it stays in flight) until `release()`: tests
   * order a race deterministically, e.g. a write that lands after something else happened. One-shot.
   */
  hold(match: (method: string, path: string) => boolean): RequestHold;
  stop(): Promise<void>;
}

export interface RequestHold {
  /** Resolves with the held request once it arrives. */
  reached: Promise<RecordedRequest>;
  release(): void;
}

const TENANT_PATHS = [/^\/subscriptions\/?$/i, /^\/providers\/Microsoft\.ResourceGraph\/resources$/i];
const delay = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));

function kindOf(method: string, path: string): OperationKind {
  if (method === 'GET' || method === 'HEAD') return 'read';
  if (method === 'DELETE') return 'delete';
  // A Resource Graph query reads; other POSTs (listKeys, state changes) are actions and count as writes.
  return /\/providers\/Microsoft\.ResourceGraph\/resources$/i.test(path) ? 'read' : 'write';
}

function buildRouter(): Router {
  const r = new Router();
  registerDiagnosticSettings(r);
  registerActivityLog(r);
  registerSubscriptions(r);
  registerResourceGraph(r);
  registerResources(r);
  registerEventHub(r);
  registerOperationalInsights(r);
  registerSecurity(r);
  registerWeb(r);
  registerManagedServices(r);
  return r;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts an HTTPS fake of the ARM surface the connector uses, seeded from a scenario (see docs/scenario.md). */
export async function startArmSimulator(opts: ArmSimulatorOptions): Promise<ArmSimulator> {
  const { key, cert } = await simulatorCertificate();
  const state = buildState(opts.scenario);
  const router = buildRouter();
  const requests: RecordedRequest[] = [];
  const random = seededRandom(opts.seed ?? 1);
  let faults = opts.faults;
  let latencyMs = opts.latencyMs ?? 0;
  let clockOffsetMs = 0;
  const baseClock = opts.clock ?? Date.now;
  const now = () => baseClock() + clockOffsetMs;
  state.clock = now;
  const limits = opts.throttle === true ? ARM_LIMITS : opts.throttle || undefined;
  const buckets = limits ? new TokenBuckets(limits, now) : undefined;
  const rgq = opts.resourceGraphQuota ?? { queries: 15, windowSeconds: 5 };
  const graphQuota = limits && rgq ? new WindowQuota(rgq.queries, rgq.windowSeconds, now) : undefined;
  const routeOptions: RouteOptions = {
    pageSize: opts.pageSize ?? 50,
    resourceGraphPageSize: Math.min(1000, opts.resourceGraphPageSize ?? 1000),
    asyncOperationPolls: opts.asyncOperationPolls ?? 1,
  };
  let baseUrl = '';
  const holds: { match: (method: string, path: string) => boolean; arrived: (r: RecordedRequest) => void; released: Promise<void> }[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    let path = url.pathname;
    try {
      path = decodeURIComponent(path); // e.g. `%24Default`: lookups compare decoded names
    } catch {
      /* keep the raw path; it will simply not match */
    }
    const apiVersion = url.searchParams.get('api-version') ?? '';
    const auth = req.headers.authorization ?? '';
    const principal = /^Bearer\s+(.+)$/i.exec(auth)?.[1] ?? '';
    const kind = kindOf(method, path);
    const text = await readBody(req);
    let body: unknown;
    let bodyError = false;
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        bodyError = true;
      }
    }
    const rec: RecordedRequest = { method, path, apiVersion, status: 0, principal, kind, at: Date.now(), ...(body !== undefined ? { body } : {}) };
    if (opts.recordResponses) rec.query = url.search.replace(/^\?/, '');
    requests.push(rec);
    const held = holds.findIndex((h) => h.match(method, path));
    if (held >= 0) {
      const [h] = holds.splice(held, 1);
      h!.arrived(rec);
      await h!.released;
    }

    const send = async (reply: Reply, extraDelay = 0, origin: 'arm' | 'provider' = 'arm'): Promise<void> => {
      if (latencyMs + extraDelay > 0) await delay(latencyMs + extraDelay);
      rec.status = reply.status;
      const headers: Record<string, string> = { 'x-ms-request-id': randomUUID(), ...reply.headers };
      if (reply.body !== undefined) headers['content-type'] = 'application/json; charset=utf-8';
      const sent = reply.body === undefined ? undefined : JSON.stringify(reply.body);
      // Parsed back from what was sent: route bodies share objects with the state, which later requests change.
      if (opts.recordResponses) rec.response = { headers, origin, ...(sent !== undefined ? { body: JSON.parse(sent) as unknown } : {}) };
      res.writeHead(reply.status, headers);
      res.end(sent);
    };

    const fault = drawFault(faults, kind, random, path);
    let slow = 0;
    if (fault) {
      rec.faulted = fault;
      const ra = String(faults?.retryAfterSeconds ?? 0);
      if (fault === 'reset') {
        req.socket.destroy();
        return;
      }
      if (fault === 'slow') slow = faults?.slowMs ?? 1000;
      else if (fault === '429') return send({ ...armError(429, 'TooManyRequests', 'Injected fault: too many requests.'), headers: { 'retry-after': ra } });
      else if (fault === '429-no-retry-after') return send(armError(429, 'TooManyRequests', 'Injected fault: too many requests (no Retry-After).'));
      else if (fault === '409') return send(armError(409, 'AnotherOperationInProgress', 'Injected fault: another operation is in progress on this resource.'));
      else if (fault === '500') return send(armError(500, 'InternalServerError', 'Injected fault: internal server error.'));
      else return send({ ...armError(503, 'ServiceUnavailable', 'Injected fault: service unavailable.'), headers: { 'retry-after': ra } });
    }

    if (!principal) return send(armError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing."), slow);
    const subId = /^\/subscriptions\/([^/]+)/i.exec(path)?.[1];
    const tenantScoped = TENANT_PATHS.some((re) => re.test(path)) || !subId;
    const quotaHeaders: Record<string, string> = {};
    if (buckets) {
      const scope = tenantScoped ? 'tenant' : 'subscription';
      const t = buckets.take(`${principal}|${tenantScoped ? 'tenant' : subId?.toLowerCase()}`, kind);
      const header = `x-ms-ratelimit-remaining-${scope}-${kind === 'read' ? 'reads' : kind === 'delete' ? 'deletes' : 'writes'}`;
      quotaHeaders[header] = String(t.remaining);
      let limited = t.ok ? undefined : t.retryAfterSeconds;
      if (limited === undefined && graphQuota && /ResourceGraph/i.test(path)) {
        const q = graphQuota.take(principal);
        quotaHeaders['x-ms-user-quota-remaining'] = String(q.remaining);
        if (!q.ok) limited = q.retryAfterSeconds;
      }
      if (limited !== undefined) {
        rec.faulted = 'throttled';
        return send({ ...armError(429, 'TooManyRequests', `Number of '${kind}' requests for ${scope} '${subId ?? 'tenant'}' actor '${principal}' exceeded. Please try again after '${limited}' seconds.`),
          headers: { ...quotaHeaders, 'retry-after': String(limited) } }, slow);
      }
    }
    if (bodyError) return send(armError(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized.'), slow);
    if (subId) {
      const sub = state.subscription(subId);
      if (!sub) return send(armError(404, 'SubscriptionNotFound', `The subscription '${subId}' could not be found.`), slow);
      if (!state.accessible(subId))
        return send(armError(403, 'AuthorizationFailed', `The client '${principal}' does not have authorization to perform action '${method}' over scope '/subscriptions/${subId}' or the scope is invalid.`), slow);
    }
    const m = router.match(method, path);
    let reply: Reply;
    const routed = !!m && m !== 'method';
    if (m && m !== 'method') {
      try {
        reply = await m.handler({ method, path, params: m.params, query: url.searchParams, body, state, baseUrl, apiVersion, options: routeOptions });
      } catch (e) {
        reply = armError(500, 'SimulatorBug', `The simulator failed: ${(e as Error).message}`);
      }
    } else {
      const ns = /\/providers\/([^/]+)\//i.exec(path)?.[1];
      reply = ns && !/^Microsoft\.(EventHub|Insights|Storage|KeyVault|OperationalInsights|Security|Web|ResourceGraph|ManagedServices)$/i.test(ns)
        ? armError(404, 'NoRegisteredProviderFound', `No registered resource provider found for location and API version '${apiVersion}' for type under '${ns}'.`)
        : armError(404, 'ResourceNotFound', `The resource '${path}' (${method}) was not found.`);
    }
    // ARM logs every successful change under a subscription; the reconciler reads that log as its change feed.
    if (subId && kind !== 'read' && reply.status < 300) {
      const a = activityOf(method, path);
      if (a) state.recordActivity(newActivityEvent(state.subscription(subId)?.subscriptionId ?? subId, principal, now(), a));
    }
    return send({ ...reply, headers: { ...quotaHeaders, ...reply.headers } }, slow, routed ? 'provider' : 'arm');
  };

  const server: Server = createServer({ key, cert }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'SimulatorBug', message: String(e) } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    ca: cert,
    requests,
    state,
    setFaults: (f) => (faults = f),
    setLatency: (ms) => (latencyMs = ms),
    clearRequests: () => void requests.splice(0, requests.length),
    advanceClock: (ms) => void (clockOffsetMs += ms),
    now,
    hold: (match) => {
      let arrived!: (r: RecordedRequest) => void;
      let release!: () => void;
      const reached = new Promise<RecordedRequest>((res) => (arrived = res));
      const released = new Promise<void>((res) => (release = res));
      holds.push({ match, arrived, released });
      return { reached, release };
    },
    counts: () => ({
      reads: requests.filter((r) => r.kind === 'read').length,
      writes: requests.filter((r) => r.kind === 'write').length,
      deletes: requests.filter((r) => r.kind === 'delete').length,
      throttled: requests.filter((r) => r.faulted === 'throttled').length,
      faults: requests.filter((r) => r.faulted !== undefined && r.faulted !== 'throttled').length,
    }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
