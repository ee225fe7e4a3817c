import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArmSimulator, FaultConfig } from '../../sim/armSimulator.js';
import { parseScenario, type Scenario } from '../../sim/scenario.js';
import { reconcileTenant, type ReconcileReport } from '../../src/lib/reconcile/reconcileTenant.js';
import { ACME, S1, S2, loadFixtureScenario, startHarness, type SimHarness } from '../lib/reconcile/simHarness.js';

/**
 * Fault injection against the ARM simulator: a reconcile that meets 429s (with and without Retry-After), 500/503,
 * connection resets, responses slower than the per-try timeout, resources deleted mid-run and a delegation revoked
 * mid-run must, once faults stop, converge to the end state of a clean run: same settings, exports and
 * automations, never two of ours on one resource, customer-owned settings untouched.
 * `FAULTS=long` (npm run test:faults) uses more seeds and higher rates.
 */
const LONG = process.env.FAULTS === 'long';
const SEEDS = LONG ? [11, 23, 37, 41, 59] : [11];
const MAX_RUNS = 8;
/** Runs with faults on before they are switched off. */
const FAULTY_RUNS = LONG ? 3 : 2;
/**
 * Per-try ARM timeout of the faulted clients. Well above how long the simulator takes to answer on a loaded machine:
 * at 250 ms, requests with no fault on them timed out with both cores busy. Slow faults hold the answer far longer.
 */
const TIMEOUT_MS = 2_000;
const rate = (fast: number, long: number) => (LONG ? long : fast);

const OUR_TYPES = new Set(
  ['Microsoft.Insights/diagnosticSettings', 'Microsoft.OperationalInsights/workspaces/dataExports', 'Microsoft.Security/automations', 'Microsoft.EventHub/Namespaces',
    'Microsoft.EventHub/Namespaces/EventHubs', 'Microsoft.EventHub/Namespaces/EventHubs/ConsumerGroups', 'Microsoft.EventHub/Namespaces/AuthorizationRules',
    'Microsoft.EventHub/Namespaces/EventHubs/AuthorizationRules'].map((t) => t.toLowerCase()),
);
/** Server-generated values that differ between two simulators (timestamps, random ids). */
const VOLATILE = new Set(['dataExportId', 'createdDate', 'lastModifiedDate', 'createdAt', 'updatedAt']);

function stable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stable);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.keys(v).filter((k) => !VOLATILE.has(k)).sort().map((k) => [k, stable((v as Record<string, unknown>)[k])]));
  return v;
}

/** Canonical view of everything reconcile and onboarding write, optionally limited to some subscriptions. */
function snapshot(sim: ArmSimulator, subs?: readonly string[]): string[] {
  const only = subs && new Set(subs.map((s) => s.toLowerCase()));
  const rows: string[] = [];
  for (const r of sim.state.all()) {
    if (!OUR_TYPES.has(r.type.toLowerCase())) continue;
    if (only && !only.has(r.subscriptionId.toLowerCase())) continue;
    rows.push(`${r.id.toLowerCase()} ${JSON.stringify(stable({ location: r.location, properties: r.properties }))}`);
  }
  for (const [id, secrets] of sim.state.automationSecrets) if (!only || [...only].some((s) => id.includes(s))) rows.push(`${id} secrets=${secrets.length}`);
  return rows.sort();
}

const settingRe = /^(.*)\/providers\/microsoft\.insights\/diagnosticsettings\/([^/]+)$/i;

/** Customer-owned settings (not our prefix), byte for byte. */
function customerSettings(sim: ArmSimulator, prefix: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of sim.state.all())
    if (r.type === 'Microsoft.Insights/diagnosticSettings' && !r.name.toLowerCase().startsWith(`${prefix.toLowerCase()}-`)) out.set(r.id.toLowerCase(), JSON.stringify(r));
  return out;
}

/** Per target resource: how many of ours, and whether any two names collide case-insensitively. */
function duplicates(sim: ArmSimulator, prefix: string): string[] {
  const byTarget = new Map<string, string[]>();
  for (const r of sim.state.all()) {
    const m = settingRe.exec(r.id);
    if (r.type !== 'Microsoft.Insights/diagnosticSettings' || !m) continue;
    const key = m[1]!.toLowerCase();
    byTarget.set(key, [...(byTarget.get(key) ?? []), r.name.toLowerCase()]);
  }
  const bad: string[] = [];
  for (const [target, names] of byTarget) {
    if (new Set(names).size !== names.length) bad.push(`${target}: repeated names ${names.join(',')}`);
    if (names.filter((n) => n.startsWith(`${prefix.toLowerCase()}-`)).length > 1) bad.push(`${target}: more than one of ours (${names.join(',')})`);
  }
  for (const ws of new Set([...sim.state.all()].filter((r) => r.type === 'Microsoft.OperationalInsights/workspaces/dataExports').map((r) => r.id.slice(0, r.id.lastIndexOf('/')).toLowerCase()))) {
    const ours = sim.state.list(ws).filter((r) => r.name.toLowerCase().startsWith(`${prefix.toLowerCase()}`));
    if (ours.length > 1) bad.push(`${ws}: ${ours.length} of our data exports`);
  }
  return bad;
}

const WRITES = new Set(['create', 'update', 'delete']);
interface Convergence {
  runs: number;
  faults: number;
  thrown: number;
  last: ReconcileReport;
}

/** Reconcile until a run plans no writes and has no failed target; faults on for the first FAULTY_RUNS runs. */
async function converge(h: SimHarness, faults: FaultConfig | undefined, hooks: { onFirstProgress?: () => void } = {}): Promise<Convergence> {
  let thrown = 0;
  let injected = 0;
  let hooked = false;
  for (let run = 1; run <= MAX_RUNS; run++) {
    h.sim.setFaults(run <= FAULTY_RUNS ? faults : undefined);
    const before = h.sim.counts().faults;
    let report: ReconcileReport | undefined;
    try {
      report = await reconcileTenant(ACME, h.deps, {
        onProgress: () => {
          if (!hooked && hooks.onFirstProgress) {
            hooked = true;
            hooks.onFirstProgress();
          }
        },
      });
    } catch {
      thrown++; // a transient discovery failure: the queue host would retry the item
    }
    injected += h.sim.counts().faults - before;

    const clean = report && run > FAULTY_RUNS && !report.plan.some((a) => WRITES.has(a.kind) || a.coverage === 'failed');
    if (report && clean) return { runs: run, faults: injected, thrown, last: report };
  }
  throw new Error(`did not converge within ${MAX_RUNS} runs (faults ${JSON.stringify(faults)})`);
}

const kinds: [string, FaultConfig][] = [
  ['429 with Retry-After 0', { rate429: rate(0.3, 0.5), retryAfterSeconds: 0 }],
  ['429 without Retry-After', { rate429NoRetryAfter: rate(0.2, 0.4) }],
  ['500', { rate500: rate(0.3, 0.5) }],
  ['503 with Retry-After 0', { rate503: rate(0.3, 0.5), retryAfterSeconds: 0 }],
  ['connection reset', { rateReset: rate(0.2, 0.4) }],
  ['slow beyond the per-try timeout', { rateSlow: rate(0.1, 0.25), slowMs: TIMEOUT_MS * 3 }],
  ['all kinds mixed, writes only', { rate429: 0.1, rate429NoRetryAfter: 0.1, rate500: 0.1, rate503: 0.1, rateReset: 0.1, rateSlow: rate(0.05, 0.1), slowMs: TIMEOUT_MS * 3, only: 'write' }],
];

const figures: string[] = [];
const tally = { faults: 0, scenarios: 0, maxRuns: 0, cleanRuns: 0, thrown: 0 };
function note(name: string, seed: number, c: Convergence): void {
  tally.faults += c.faults;
  tally.scenarios++;
  tally.maxRuns = Math.max(tally.maxRuns, c.runs);
  tally.thrown += c.thrown;
  figures.push(`${name}/seed${seed}: faults=${c.faults} runs=${c.runs}${c.thrown ? ` thrown=${c.thrown}` : ''}`);
  tally.cleanRuns = Math.max(tally.cleanRuns, c.runs - FAULTY_RUNS);
}

function assertEndState(h: SimHarness, expected: string[], customer: Map<string, string>, subs?: readonly string[]): void {
  expect(snapshot(h.sim, subs)).toEqual(expected);
  expect(duplicates(h.sim, h.settings.prefix)).toEqual([]);
  const after = customerSettings(h.sim, h.settings.prefix);
  for (const [id, json] of customer) expect(after.get(id), id).toBe(json);
}

let scenario: Scenario;
let expected: string[];
let expectedS1: string[];
let customer: Map<string, string>;

beforeAll(async () => {
  scenario = loadFixtureScenario('acme.scenario.json');
  const clean = await startHarness({ scenario });
  try {
    customer = customerSettings(clean.sim, clean.settings.prefix);
    const c = await converge(clean, undefined);
    expect(c.runs).toBe(FAULTY_RUNS + 1); // first run writes, later runs are no-ops
    expected = snapshot(clean.sim);
    expectedS1 = snapshot(clean.sim, [S1, scenario.provider.subscriptionId]);
    expect(expected.some((r) => r.includes('/diagnosticsettings/'))).toBe(true);
  } finally {
    await clean.stop();
  }
});

afterAll(() => {
  // One line with the figures, so they can be quoted from the test output.
  console.log(`[faults] ${LONG ? 'long' : 'fast'}: ${tally.scenarios} fault scenarios, ${tally.faults} faults injected, max ${tally.maxRuns} runs to converge (the first ${FAULTY_RUNS} with faults on; at most ${tally.cleanRuns} clean run(s) after), ${tally.thrown} runs thrown | ${figures.join('; ')}`);
});

describe('reconcile under injected ARM faults converges to the clean end state', () => {
  for (const [name, faults] of kinds)
    for (const seed of SEEDS)
      it(`converges under ${name} (seed ${seed}) without duplicates and without touching customer settings`, async () => {
        const h = await startHarness({ scenario, seed, timeoutMs: TIMEOUT_MS });
        try {
          const c = await converge(h, faults);
          expect(c.faults).toBeGreaterThan(0);
          assertEndState(h, expected, customer);
          note(name, seed, c);
        } finally {
          await h.stop();
        }
      });

  it('treats a resource deleted mid-run (404) as gone and converges to the clean state without it', async () => {
    // Two storage accounts vanish while the run is under way (one with four services, one with one).
    const gone = ['acmefiles', 'acmegpv2'].map((n) => `/subscriptions/${S1}/resourceGroups/app/providers/Microsoft.Storage/storageAccounts/${n}`);
    const deleteAll = (sim: ArmSimulator) => gone.forEach((id) => sim.state.delete(id));
    // Expected: a clean run on a world where the accounts never existed.
    const ref = await startHarness({ scenario });
    const h = await startHarness({ scenario, timeoutMs: TIMEOUT_MS });
    try {
      deleteAll(ref.sim);
      await converge(ref, undefined);
      h.sim.setLatency(10); // keep requests in flight when the accounts disappear
      const c = await converge(h, { rate500: 0.1 }, { onFirstProgress: () => deleteAll(h.sim) });
      const notFound = h.sim.requests.filter((r) => r.status === 404 && /\/(acmefiles|acmegpv2)\//i.test(r.path)).length;
      expect(notFound).toBeGreaterThan(0); // the reconciler did meet the deleted accounts
      expect(c.last.plan.some((a) => gone.some((id) => a.resourceId.toLowerCase().startsWith(id.toLowerCase())))).toBe(false);
      assertEndState(h, snapshot(ref.sim), customer);
      note(`deleted mid-run (404s served ${notFound})`, 0, c);
    } finally {
      await Promise.all([ref.stop(), h.stop()]);
    }
  });

  it('marks a subscription whose delegation is revoked mid-run forbidden or drops it, and leaves the other subscription as in a clean run', async () => {
    // Variant of acme where S2 is delegated at the start (it has a storage account to cover).
    const raw = structuredClone(scenario) as unknown as { tenants: { subscriptions: { subscriptionId: string; delegated?: boolean }[] }[] };
    for (const s of raw.tenants[0]!.subscriptions) if (s.subscriptionId === S2) s.delegated = true;
    const twoSubs = parseScenario(raw);
    const h = await startHarness({ scenario: twoSubs, seed: 5, timeoutMs: TIMEOUT_MS });
    try {
      h.sim.setLatency(10);
      const revokedRun = await reconcileTenant(ACME, h.deps, { onProgress: (p) => (p.done === 1 ? h.sim.state.revokeDelegation(S2) : undefined) });
      const forbidden = h.sim.requests.filter((r) => r.status === 403 && r.path.toLowerCase().includes(S2)).length;
      expect(forbidden).toBeGreaterThan(0); // the revocation hit requests in flight
      expect(revokedRun.plan.filter((a) => a.subscriptionId === S2 && a.coverage === 'failed').map((a) => a.detail)).toEqual([]);
      const c = await converge(h, { rate429: 0.1, retryAfterSeconds: 0 });
      // After revocation S2 is invisible: its targets are gone from the plan (or forbidden), never failed.
      expect(c.last.plan.filter((a) => a.subscriptionId === S2 && a.coverage !== 'forbidden')).toEqual([]);
      expect(c.last.plan.some((a) => a.subscriptionId === S1)).toBe(true);
      assertEndState(h, expectedS1, customer, [S1, twoSubs.provider.subscriptionId]);
      note(`delegation revoked mid-run (403s served ${forbidden})`, 5, { ...c, runs: c.runs + 1, faults: h.sim.counts().faults });
    } finally {
      await h.stop();
    }
  });
});

describe('per-try ARM timeout (clientFactory timeoutMs)', () => {
  it('abandons a response slower than the timeout and retries it as a transport error', async () => {
    const h = await startHarness({ scenario, timeoutMs: TIMEOUT_MS, maxRetries: 2 });
    try {
      const sub = await (await h.clients.subscriptions()).subscriptions.get(S1);
      expect(sub.subscriptionId).toBe(S1); // baseline without faults
      h.sim.clearRequests();
      h.sim.setFaults({ rateSlow: 1, slowMs: TIMEOUT_MS * 10 });
      const started = Date.now();
      const err = await (await h.clients.subscriptions()).subscriptions.get(S1).then(() => undefined, (e: unknown) => e as { code?: string; message?: string });
      const elapsed = Date.now() - started;
      expect(err?.code).toBe('ETIMEDOUT');
      expect(err?.message).toContain(`timed out after ${TIMEOUT_MS} ms`);
      expect(h.sim.requests.filter((r) => r.faulted === 'slow')).toHaveLength(3); // 1 try + 2 retries
      expect(elapsed).toBeLessThan(TIMEOUT_MS * 10);
    } finally {
      await h.stop();
    }
  });
});
