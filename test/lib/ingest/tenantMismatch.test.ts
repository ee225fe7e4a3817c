import { describe, expect, it } from 'vitest';
import { handleIngestBatch } from '../../../src/lib/ingest/handleIngestBatch.js';
import { createMemoryOutputs } from '../../../src/lib/ingest/outputs/memoryOutputs.js';

const TENANT = '4bbb79f7-5724-4c9e-95f3-de075f6ec090';
const OTHER = '11111111-2222-3333-4444-555555555555';
const SUB = 'c088dc46-d692-42ad-a4b6-9a542d28ad2a';

function signIn(tenantId: string): Record<string, unknown> {
  return {
    time: '2022-01-24T05:10:08.6816663Z',
    resourceId: `/tenants/${tenantId}/providers/Microsoft.aadiam`,
    operationName: 'Sign-in activity',
    category: 'SignInLogs',
    tenantId,
    resultType: '0',
    properties: { id: 'abc', userPrincipalName: 'u@contoso.com', userId: 'u1', ipAddress: '1.2.3.4', status: { errorCode: 0 } },
  };
}
function activity(sub: string, claimsTid?: string): Record<string, unknown> {
  return {
    time: '2018-03-07T14:23:51.991Z',
    resourceId: `/SUBSCRIPTIONS/${sub.toUpperCase()}/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.WEB/SITES/APP`,
    operationName: 'MICROSOFT.WEB/SITES/WRITE',
    category: 'Administrative',
    resultType: 'Success',
    callerIpAddress: '1.2.3.4',
    correlationId: 'c1',
    identity: { claims: { 'http://schemas.microsoft.com/identity/claims/tenantid': claimsTid ?? TENANT, name: 'op' } },
  };
}

async function run(records: Record<string, unknown>[], tenantId: string | undefined, subscriptionIds?: string[]) {
  const outputs = createMemoryOutputs();
  const res = await handleIngestBatch({ bodies: [{ records }], binding: { tenantId, hub: 'h' }, subscriptionIds, ingestTime: 0, outputs });
  return { res, outputs, events: outputs.batches.flatMap((b) => b.events) };
}

describe('tenant attribution', () => {
  it('emits a record whose tenantId matches the binding, attributed to the binding tenant', async () => {
    const { events } = await run([signIn(TENANT)], TENANT);
    expect(events).toHaveLength(1);
    expect(events[0]!.metadata.tenant_uid).toBe(TENANT);
    expect((events[0]!.cloud as { org: { uid: string } }).org.uid).toBe(TENANT);
    expect(events[0]!.metadata.labels).toBeUndefined();
  });

  it('dead-letters a record naming another tenant with reason tenant-mismatch and keeps its bytes', async () => {
    const { res, outputs, events } = await run([signIn(TENANT), signIn(OTHER)], TENANT);
    expect(events).toHaveLength(1);
    expect(res.byReason).toEqual({ 'tenant-mismatch': 1 });
    const dl = outputs.deadLetters[0]!;
    expect(dl.outcomes).toBe('.T');
    expect(dl.failures[0]).toMatchObject({ index: 1, reason: 'tenant-mismatch', detail: expect.stringContaining(OTHER) });
    // The host handed over parsed JSON here (a legacy path): the stored body is its serialization, holding the record.
    expect((JSON.parse(Buffer.from(dl.body).toString('utf8')) as { records: unknown[] }).records[1]).toEqual(signIn(OTHER));
  });

  it('dead-letters a record in a subscription the tenant does not own when subscriptions are known', async () => {
    const { res, events } = await run([activity(SUB), activity('99999999-9999-9999-9999-999999999999')], TENANT, [SUB]);
    expect(events).toHaveLength(1);
    expect(res.byReason['tenant-mismatch']).toBe(1);
  });

  it('refuses every record naming a subscription while the tenant has none on record (before discovery recorded any)', async () => {
    const { res, events, outputs } = await run([activity('99999999-9999-9999-9999-999999999999'), signIn(TENANT)], TENANT, []);
    expect(events).toHaveLength(1); // the sign-in names no subscription
    expect(res.byReason['tenant-mismatch']).toBe(1);
    expect(outputs.deadLetters[0]!.failures[0]!.detail).toContain('no subscription of tenant');
  });

  it('checks no subscription only when none is given at all (offline tools)', async () => {
    const { events } = await run([activity('99999999-9999-9999-9999-999999999999')], TENANT);
    expect(events).toHaveLength(1);
  });

  it('does not treat the caller token tid as the record tenant (Lighthouse operators carry their own tid)', async () => {
    const { events } = await run([activity(SUB, OTHER)], TENANT, [SUB]);
    expect(events).toHaveLength(1);
    expect(events[0]!.metadata.tenant_uid).toBe(TENANT);
    expect((events[0]!.actor as { idp: { tenant_uid: string } }).idp.tenant_uid).toBe(OTHER);
  });

  it('compares tenant ids case-insensitively (LA rows carry upper-case GUIDs)', async () => {
    const { events } = await run([signIn(TENANT.toUpperCase())], TENANT);
    expect(events).toHaveLength(1);
  });

  it('in offline mode takes the record tenant and labels the event attribution:unverified', async () => {
    const { events } = await run([signIn(OTHER)], undefined);
    expect(events[0]!.metadata.tenant_uid).toBe(OTHER);
    expect(events[0]!.metadata.labels).toContain('attribution:unverified');
  });
});
