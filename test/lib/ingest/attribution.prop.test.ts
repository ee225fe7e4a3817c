import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { A_SUB, B_SUB, accountOf, ingest, restAlert, vm } from './attributionFixtures.js';

/** Where each record shape names a subscription, in the fields the mappers read. */
const SHAPES: Record<string, (subs: string[]) => Record<string, unknown>> = {
  activity: ([s1, s2]) => ({ time: '2026-01-01T00:00:00Z', category: 'Administrative', operationName: 'MICROSOFT.WEB/SITES/WRITE', resultType: 'Success', resourceId: vm(s1!), SubscriptionId: s2 }),
  storage: ([s1]) => ({ time: '2026-01-01T00:00:00Z', category: 'StorageRead', operationName: 'GetBlob', resourceId: `/subscriptions/${s1}/resourceGroups/r/providers/Microsoft.Storage/storageAccounts/sa/blobServices/default` }),
  'defender-rest': ([s1, s2, s3, s4]) =>
    restAlert(s1!, (p) => {
      p.AzureResourceId = vm(s2!);
      p.resourceIdentifiers = [{ type: 'AzureResource', azureResourceId: vm(s3!) }, { type: 'AzureResource', azureResourceId: vm(s4!) }];
    }),
  'defender-export': ([s1, s2]) => ({ SystemAlertId: 'x1', AlertType: 'VM_EICAR', Status: 'Active', TimeGenerated: '2026-01-01T00:00:00Z', AzureResourceId: vm(s1!), ResourceId: vm(s2!) }),
};

describe('ingest attribution as a property', () => {
  it("emits a record on A's hub only when every subscription it names is A's, and then only with A's subscription as cloud.account.uid", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(SHAPES)), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), async (shape, foreign) => {
        const rec = SHAPES[shape]!(foreign.map((f) => (f ? B_SUB : A_SUB)));
        const { events, res } = await ingest([rec], [A_SUB]);
        if (JSON.stringify(rec).includes(B_SUB)) expect(res.byReason['tenant-mismatch']).toBe(1);
        else expect(res.deadLetters).toBe(0);
        for (const ev of events) expect(accountOf(ev)).toBe(A_SUB);
      }),
      { numRuns: 200 },
    );
  });
});
