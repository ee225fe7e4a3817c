import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { changeSignals } from '../../../src/lib/eventDriven/changeSignals.js';
import { mapRecord } from '../../../src/lib/ingest/dispatch.js';
import type { OcsfEvent } from '../../../src/lib/ingest/types.js';

/**
 * Activity-log records come from the customer's side: any operation, any resource id, any casing, any claims. Whatever
 * they hold, the signals never leave the hub's tenant and its known subscriptions, and extraction never throws.
 */
const TENANT = 'aaaaaaaa-0000-0000-0000-000000000001';
const KNOWN = ['aaaaaaaa-1111-0000-0000-000000000001', 'aaaaaaaa-2222-0000-0000-000000000002'];
const FOREIGN = 'cccccccc-1111-0000-0000-000000000001';

const segment = fc.oneof(fc.constantFrom('resourceGroups', 'providers', 'Microsoft.Storage', 'storageAccounts', 'Microsoft.Insights', 'diagnosticSettings', 'mdr-export', 'blobServices', 'default', 'Microsoft.Security', 'automations', '..', '%2F', ''), fc.string({ maxLength: 12 }));
const wellFormed = fc.tuple(fc.constantFrom(...KNOWN, FOREIGN), fc.constantFrom('/resourceGroups/app/providers/Microsoft.Storage/storageAccounts/a', '/providers/Microsoft.Insights/diagnosticSettings/mdr-export', '/resourceGroups/app/providers/Microsoft.KeyVault/vaults/v/providers/Microsoft.Insights/diagnosticSettings/x')).map(([sub, rest]) => `/subscriptions/${sub}${rest}`);
const anyId = fc.tuple(fc.constantFrom(...KNOWN, FOREIGN, 'not-a-guid'), fc.array(segment, { maxLength: 10 }), fc.boolean()).map(([sub, segs, upper]) => {
  const id = `/subscriptions/${sub}/${segs.join('/')}`;
  return upper ? id.toUpperCase() : id;
});
const resourceId = fc.oneof(wellFormed, anyId);
const operation = fc.oneof(
  fc.constantFrom('Microsoft.Storage/storageAccounts/write', 'Microsoft.Insights/diagnosticSettings/delete', 'Microsoft.Insights/diagnosticSettings/write', 'Microsoft.Security/automations/delete', 'Microsoft.OperationalInsights/workspaces/dataExports/write', 'Microsoft.ManagedServices/registrationAssignments/write', 'Microsoft.Resources/subscriptions/resourceGroups/write'),
  fc.string({ maxLength: 60 }),
);
const record = fc.record({
  time: fc.constantFrom('2026-12-01T10:00:00Z', 'garbage', ''),
  resourceId,
  operationName: operation,
  category: fc.constantFrom('Administrative', 'Write', 'Delete', 'Policy'),
  resultType: fc.constantFrom('Success', 'Succeeded', 'Start', 'Failure', ''),
  callerIpAddress: fc.oneof(fc.constantFrom('198.51.100.7', 'XX.XX.XX.XX'), fc.string({ maxLength: 40 })),
  identity: fc.oneof(fc.constant(undefined), fc.record({ claims: fc.dictionary(fc.constantFrom('appid', 'name', 'http://schemas.microsoft.com/identity/claims/objectidentifier', 'http://schemas.microsoft.com/identity/claims/tenantid', 'idtyp'), fc.string({ maxLength: 300 })) })),
  tenantId: fc.constantFrom(TENANT, TENANT.toUpperCase(), undefined),
});

describe('change signals from hostile activity-log records', () => {
  it('stay within the hub tenant and its known subscriptions, and never throw', () => {
    let produced = 0;
    fc.assert(
      fc.property(fc.array(record, { maxLength: 8 }), (records) => {
        // Attribution unchecked (no known set): the signals' own subscription check is what is under test.
        const events: OcsfEvent[] = [];
        for (const r of records) {
          const out = mapRecord(JSON.parse(JSON.stringify(r)), JSON.stringify(r), { tenantId: TENANT, subscriptionIds: undefined, ingestTime: 0 });
          if (out.ok) events.push(...out.events);
        }
        const signals = changeSignals(events, { tenantId: TENANT, knownSubscriptions: new Set(KNOWN), self: new Set(), automationResourceGroup: 'MDRAutomation' });
        produced += signals.length;
        for (const s of signals) {
          expect(KNOWN).toContain(s.subscriptionId);
          if (s.resourceId !== undefined) {
            expect(s.resourceId.startsWith(`/subscriptions/${s.subscriptionId}`)).toBe(true);
            expect(s.resourceId).toBe(s.resourceId.toLowerCase());
            expect(s.resourceId).not.toMatch(/\/\/|[?#]/);
          }
          if (s.evidence) expect(s.evidence.on).toBe(s.resourceId);
        }
      }),
      { numRuns: 400 },
    );
    // The generator reaches the signal paths, so the checks above were exercised.
    expect(produced).toBeGreaterThan(20);
  });
});
