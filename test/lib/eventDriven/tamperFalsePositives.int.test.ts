import { afterEach, describe, expect, it } from 'vitest';
import { convergedWorld, type EventDrivenWorld } from './eventDrivenWorld.js';
import { newActivityEvent } from '../../../sim/routes/activityLog.js';
import { createStorageAccountAs } from '../../../sim/customerActions.js';
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
 * Found in review (2026-12-03): records a customer can put into their own hub raised High findings blaming a person
 * of their choosing for changes that never happened. Each case raised one before its fix.
 */
describe('no tamper finding without a change of ours to undo', () => {
  it('a delete record naming a setting on a target we never covered: our first creation undoes nothing', async () => {
    const w = await world();
    const acct = createStorageAccountAs(w.h.sim, 'customer-admin', S1, { name: 'acmenew', resourceGroup: 'app', location: 'westeurope' });
    const blob = `${acct.id}/blobServices/default`;
    w.h.sim.state.recordActivity(newActivityEvent(S1, 'victim', w.h.sim.now(), { resourceId: `${blob}/providers/Microsoft.Insights/diagnosticSettings/mdr-export`, operationName: 'Microsoft.Insights/diagnosticSettings/delete', resourceProviderName: 'Microsoft.Insights' }));
    const findings = await w.run(await w.feed());
    expect(findings).toEqual([]);
    const entry = (await w.h.registry.listCoverage(ACME)).find((e) => e.resourceId.toLowerCase() === blob.toLowerCase());
    expect(entry).toMatchObject({ state: 'created' });
    expect(entry?.tamper).toBeUndefined();
  });

  it('a back-dated delete record against a setting we wrote recently and that is in sync', async () => {
    const w = await world();
    w.h.sim.state.recordActivity(newActivityEvent(S1, 'victim', Date.parse('2020-01-01T00:00:00Z'), { resourceId: `${KV}/providers/Microsoft.Insights/diagnosticSettings/mdr-export`, operationName: 'Microsoft.Insights/diagnosticSettings/delete', resourceProviderName: 'Microsoft.Insights' }));
    w.h.sim.clearRequests();
    const findings = await w.run(await w.feed());
    expect(w.h.sim.requests.filter((r) => r.kind !== 'read' && r.principal === 'simulator-token')).toEqual([]);
    expect(findings).toEqual([]);
    expect((await w.h.registry.listCoverage(ACME)).find((e) => e.target === 'keyvault-diagnostics' && e.resourceId === KV)?.tamper).toBeUndefined();
  });

  it('a delete record dated just before our first write of a setting (state created): nothing of ours was undone', async () => {
    const w = await world();
    const kv = (await w.h.registry.listCoverage(ACME)).find((e) => e.target === 'keyvault-diagnostics' && e.resourceId === KV)!;
    expect(kv.state).toBe('created');
    w.h.sim.state.recordActivity(newActivityEvent(S1, 'victim', Date.parse(kv.wroteAt!) - 60_000, { resourceId: `${KV}/providers/Microsoft.Insights/diagnosticSettings/mdr-export`, operationName: 'Microsoft.Insights/diagnosticSettings/delete', resourceProviderName: 'Microsoft.Insights' }));
    const findings = await w.run(await w.feed());
    expect(findings).toEqual([]);
  });
});
