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
  it('makes zero writes and at most ~1.1 ARM reads per export target once everything is covered', async () => {
    const scenario = generateScenario({ subscriptions, resources, tenants: 1, seed: 42 });
    const tenantId = scenario.tenants[0]!.tenantId;
    const h = await startHarness({ scenario, throttle: true });
    try {
      const first = await reconcileTenant(tenantId, h.deps);
      expect(first.errors).toEqual([]);
      h.sim.clearRequests();
      const second = await reconcileTenant(tenantId, h.deps);
      const c = h.sim.counts();
      const targets = second.plan.filter((a) => a.coverage === 'streaming').length;
      const cost = { targets, reads: c.reads, writes: c.writes + c.deletes, throttled: c.throttled, readsPerTarget: c.reads / targets, readsPerResource: c.reads / resources, durationMs: second.durationMs };
      process.stdout.write(`reconcile steady state: ${JSON.stringify(cost)}\n`);
      expect(second.counts.streaming).toBe(targets);
      expect(c.writes + c.deletes).toBe(0);
      expect(cost.readsPerTarget).toBeLessThanOrEqual(1.1);
    } finally {
      await h.stop();
    }
  }, 600_000);
});
