import { describe, expect, it } from 'vitest';
import { normalizeRecord } from '../../../src/lib/ingest/dispatch.js';
import { defenderAlertMapper } from '../../../src/lib/ingest/mappers/defenderAlert.js';
import { A, A_SUB, B_SUB, accountOf, ingest, restAlert, vm } from './attributionFixtures.js';

/**
 * Issue #12, point 6: the tenant and subscription of a record are decided in one place (attribution.ts), from every
 * field a mapper reads, and the mappers take cloud.account.uid from that decision.
 */
describe('ingest attribution decides the subscription from every field a mapper reads', () => {
  it("emits a Defender alert on A's hub naming only A's subscription, with that subscription as cloud.account.uid", async () => {
    const { events, res } = await ingest([restAlert(A_SUB)], [A_SUB]);
    expect(res.deadLetters).toBe(0);
    expect(accountOf(events[0]!)).toBe(A_SUB);
  });

  it("dead-letters a Defender alert on A's hub whose properties.resourceIdentifiers[].azureResourceId names B's subscription", async () => {
    const alert = restAlert(A_SUB, (p) => {
      p.resourceIdentifiers[0]!.azureResourceId = vm(B_SUB);
    });
    const { events, res, outputs } = await ingest([alert], [A_SUB]);
    expect(events).toEqual([]);
    expect(res.byReason).toEqual({ 'tenant-mismatch': 1 });
    expect(outputs.deadLetters[0]!.failures[0]!.detail).toContain(B_SUB);
  });

  it("dead-letters a Defender alert on A's hub whose properties.AzureResourceId names B's subscription", async () => {
    const alert = restAlert(A_SUB, (p) => {
      p.AzureResourceId = vm(B_SUB);
    });
    const { events, res } = await ingest([alert], [A_SUB]);
    expect(events).toEqual([]);
    expect(res.byReason).toEqual({ 'tenant-mismatch': 1 });
  });

  it('refuses an alert naming any subscription when discovery has recorded none for the tenant yet', async () => {
    const { events, res } = await ingest([restAlert(A_SUB)], []);
    expect(events).toEqual([]);
    expect(res.byReason).toEqual({ 'tenant-mismatch': 1 });
  });

  it("lets no mapper pick its own subscription: the Defender mapper takes cloud.account.uid from attribution's decision", () => {
    const rec = restAlert(B_SUB);
    const r = normalizeRecord(rec, JSON.stringify(rec))!;
    const out = defenderAlertMapper.map(r, { tenantId: A, verified: true, subscriptionId: A_SUB, ingestTime: 0 });
    expect(out.ok && accountOf(out.events[0]!)).toBe(A_SUB);
  });
});
