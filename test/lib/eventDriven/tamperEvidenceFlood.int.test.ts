import { afterEach, describe, expect, it } from 'vitest';
import { convergedWorld, type EventDrivenWorld } from './eventDrivenWorld.js';
import { newActivityEvent } from '../../../sim/routes/activityLog.js';
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
 * Found in review (2026-12-03): twenty records about anything else, dated after the real one, pushed the evidence of
 * our deleted setting out of the work item: the run repaired it and raised no finding.
 */
describe('tamper evidence under a flood of other records', () => {
  it('keeps the evidence about our object first: the repair raises its finding', async () => {
    const w = await world();
    const { createAzureClients, staticTokenCredential } = await import('../../../src/lib/azure/clientFactory.js');
    const monitor = await createAzureClients({ armEndpoint: w.h.sim.url, credential: staticTokenCredential('intruder'), tlsCa: w.h.sim.ca, retry: { retryDelayInMs: 5, maxRetryDelayInMs: 20 } }).monitor();
    await monitor.diagnosticSettings.delete(KV.slice(1), 'mdr-export');
    for (let i = 0; i < 25; i++)
      w.h.sim.state.recordActivity(newActivityEvent(S1, 'someone', w.h.sim.now() + 1000 + i, { resourceId: `/subscriptions/${S1}/providers/Microsoft.Insights/diagnosticSettings/noise${i}`, operationName: 'Microsoft.Insights/diagnosticSettings/delete', resourceProviderName: 'Microsoft.Insights' }));
    const items = await w.feed();
    const evidence = (items[0] as { targeted: { work: { evidence: { objectName: string }[] } } }).targeted.work.evidence;
    expect(evidence).toHaveLength(20);
    expect(evidence[0]?.objectName).toBe('mdr-export');
    const findings = await w.run(items);
    expect(findings).toHaveLength(1);
    expect((await w.h.registry.listCoverage(ACME)).find((e) => e.target === 'keyvault-diagnostics' && e.resourceId === KV)?.tamper?.object).toContain('mdr-export');
  });
});
