import { describe, expect, it } from 'vitest';
import { generateScenario } from '../../../sim/generateScenario.js';
import { reconcileTenant } from '../../../src/lib/reconcile/reconcileTenant.js';
import { startHarness } from './simHarness.js';

// `npm test` runs a tenth of the benchmark's scale (the full 100 / 10,000 run is `npm run bench`, or SCALE=full here):
// the cost model is per target, so the ratio is the same at both sizes.
const full = process.env.SCALE === 'full';
const subscriptions = full ? 100 : 10;
const resources = full ? 10_000 : 1_000;

describe(`steady-state cost at scale (${subscriptions} subscriptions / ${resources} resources, ARM throttling on)`, () => {
  it('makes zero writes and at most ~1.1 ARM reads per resource once everything is covered, and none on a resync either', async () => {
    const scenario = generateScenario({ subscriptions, resources, tenants: 1, seed: 42 });
    const tenantId = scenario.tenants[0]!.tenantId;
    const h = await startHarness({ scenario, throttle: true });
    try {
      const first = await reconcileTenant(tenantId, h.deps);
      expect(first.errors).toEqual([]);
      const measure = async (deps = h.deps) => {
        h.sim.clearRequests();
        const r = await reconcileTenant(tenantId, deps);
        const c = h.sim.counts();
        const targets = r.plan.filter((a) => a.coverage === 'streaming').length;
        return { r, targets, reads: c.reads, writes: c.writes + c.deletes, throttled: c.throttled, trusted: r.trusted, readsPerTarget: c.reads / targets, readsPerResource: c.reads / resources, durationMs: r.durationMs };
      };
      const steady = await measure();
      process.stdout.write(`reconcile steady state: ${JSON.stringify({ ...steady, r: undefined })}\n`);
      expect(steady.r.counts.streaming).toBe(steady.targets);
      expect(steady.writes).toBe(0);
      expect(steady.readsPerResource).toBeLessThanOrEqual(1.1);
      // every diagnostic-setting target came from the ledger on the change feed's word
      expect(steady.trusted).toBe(steady.r.plan.filter((a) => ['activity-log', 'storage-diagnostics', 'keyvault-diagnostics'].includes(a.target)).length);

      // a day later every target is due for its resync: all read again, still nothing to write
      const resync = await measure({ ...h.deps, now: () => new Date(Date.now() + 25 * 3_600_000) });
      process.stdout.write(`reconcile resync: ${JSON.stringify({ ...resync, r: undefined })}\n`);
      expect(resync.trusted).toBe(0);
      expect(resync.writes).toBe(0);
      expect(resync.readsPerTarget).toBeLessThanOrEqual(1.1);
      expect(resync.r.counts.streaming).toBe(resync.targets);
    } finally {
      await h.stop();
    }
  }, 600_000);
});
