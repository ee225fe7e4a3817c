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

/** Found in review (2026-12-03): each of these reached A's output with B's tenant or subscription in it before. */
describe('attribution checks every place a record names a tenant or subscription', () => {
  const B = 'bbbbbbbb-0000-0000-0000-00000000000b';
  const exportAlert = (extra: Record<string, unknown>) => ({ SystemAlertId: 'sa-1', AlertType: 'VM_Test', TimeGenerated: '2026-11-26T10:00:00Z', AzureResourceId: vm(A_SUB), ...extra });
  const refused = async (record: unknown, needle: string) => {
    const { events, res, outputs } = await ingest([record], [A_SUB]);
    expect(events).toEqual([]);
    expect(res.byReason).toEqual({ 'tenant-mismatch': 1 });
    expect(outputs.deadLetters[0]!.failures[0]!.detail).toContain(needle);
  };

  it('a continuous-export alert (its own properties object) with resourceIdentifiers naming B', async () => {
    const { events } = await ingest([exportAlert({ resourceIdentifiers: [{ azureResourceId: vm(A_SUB) }] })], [A_SUB]);
    expect(events).toHaveLength(1);
    await refused(exportAlert({ resourceIdentifiers: [{ azureResourceId: vm(B_SUB) }] }), B_SUB);
  });

  it("a REST alert whose properties.AzureResourceId is a /tenants/<B>/ id", async () => {
    await refused(restAlert(A_SUB, (p) => void (p.AzureResourceId = `/tenants/${B}/providers/Microsoft.aadiam/diagnosticSettings/x`)), B);
  });

  it("an alert's azure-resource entity in B's subscription", async () => {
    await refused(exportAlert({ Entities: [{ Type: 'azure-resource', ResourceId: vm(B_SUB) }] }), B_SUB);
  });

  it('a Log Analytics-shaped row (Type plus a marker) still has its tenantId checked; only TenantId is the workspace', async () => {
    const row = { Type: 'SigninLogs', SourceSystem: 'Azure AD', TimeGenerated: '2026-11-26T10:00:00Z', TenantId: '0b0b0b0b-0000-0000-0000-000000000000', AADTenantId: A };
    expect((await ingest([row], [A_SUB])).res.byReason['tenant-mismatch']).toBeUndefined();
    await refused({ ...row, tenantId: B }, B);
  });

  it('a tenant or subscription field holding an array or object', async () => {
    const kv = { time: '2026-11-26T10:00:00Z', category: 'AuditEvent', operationName: 'SecretGet', resourceId: vm(A_SUB) };
    await refused({ ...kv, tenantId: [B] }, 'tenantId holds an array');
    await refused({ ...kv, subscriptionId: { id: B_SUB } }, 'subscriptionId holds an object');
  });

  it('an empty subscription column names no subscription (Log Analytics rows of tenant-level events carry one)', async () => {
    const kv = { time: '2026-11-26T10:00:00Z', category: 'AuditEvent', operationName: 'SecretGet', resourceId: vm(A_SUB), SubscriptionId: '' };
    const { events, res } = await ingest([kv], [A_SUB]);
    expect(res.deadLetters).toBe(0);
    expect(events).toHaveLength(1);
  });

  it('both spellings of the subscription column are checked', async () => {
    const kv = { time: '2026-11-26T10:00:00Z', category: 'AuditEvent', operationName: 'SecretGet', resourceId: vm(A_SUB) };
    await refused({ ...kv, SubscriptionId: A_SUB, subscriptionId: B_SUB }, B_SUB);
  });
});

