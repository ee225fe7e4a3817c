import { afterEach, describe, expect, it } from 'vitest';
import { convergedWorld, type EventDrivenWorld } from './eventDrivenWorld.js';
import { reconcileTenant } from '../../../src/lib/reconcile/reconcileTenant.js';
import { ACME, S1 } from '../reconcile/simHarness.js';

const RG = `/subscriptions/${S1}/resourceGroups/app/providers`;
const KV = `${RG}/Microsoft.KeyVault/vaults/acme-kv`;
let w0: EventDrivenWorld | undefined;
afterEach(async () => {
  await w0?.h.stop();
  w0 = undefined;
});
const world = async () => (w0 = await convergedWorld());

/**
 * Found in review (2026-12-03): when the targeted run's repair failed, the item completed and its evidence was gone;
 * the timer later repaired the setting and no finding was ever raised.
 */
describe('tamper evidence when the repair fails', () => {
  const deleteOurs = async (w: Awaited<ReturnType<typeof world>>) => {
    const cf = await import('../../../src/lib/azure/clientFactory.js');
    const monitor = await cf.createAzureClients({ armEndpoint: w.h.sim.url, credential: cf.staticTokenCredential('intruder'), tlsCa: w.h.sim.ca, retry: { retryDelayInMs: 5, maxRetryDelayInMs: 20 } }).monitor();
    await monitor.diagnosticSettings.delete(KV.slice(1), 'mdr-export');
  };
  const kvEntry = async (w: Awaited<ReturnType<typeof world>>) => (await w.h.registry.listCoverage(ACME)).find((e) => e.target === 'keyvault-diagnostics' && e.resourceId === KV);

  it('goes back on the queue once with its target, and the retry that repairs raises the finding', async () => {
    const w = await world();
    await deleteOurs(w);
    const items = await w.feed();
    w.h.sim.setFaults({ rate503: 1, only: 'write', paths: /acme-kv\/providers\/Microsoft.Insights\/diagnosticSettings\/mdr-export/i });
    const first = await w.run(items);
    expect(first).toEqual([]);
    expect((await kvEntry(w))?.state).toBe('failed');
    const retry = w.queued.slice(-1)[0] as { targeted: { attempt?: number; work: { evidence: { objectName: string }[] } } };
    expect(retry.targeted).toMatchObject({ attempt: 2 });
    expect(retry.targeted.work.evidence.map((e) => e.objectName)).toEqual(['mdr-export']);
    w.h.sim.setFaults(undefined as never);
    const second = await w.run([retry]);
    expect(second).toHaveLength(1);
    expect((await kvEntry(w))?.tamper?.object).toContain('mdr-export');
  });

  it('raises the finding on the retry even when the timer repaired the setting first', async () => {
    const w = await world();
    await deleteOurs(w);
    const items = await w.feed();
    w.h.sim.setFaults({ rate503: 1, only: 'write', paths: /acme-kv\/providers\/Microsoft.Insights\/diagnosticSettings\/mdr-export/i });
    await w.run(items);
    const retry = w.queued.slice(-1)[0]!;
    w.h.sim.setFaults(undefined as never);
    await reconcileTenant(ACME, w.h.deps);
    expect((await kvEntry(w))?.state).toBe('repaired'); // ours had been there: re-creating it is a repair
    expect(await w.run([retry])).toHaveLength(1);
  });
});
