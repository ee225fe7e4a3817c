import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyDiagnosticSetting, diffDiagnosticSetting, observeDiagnosticSettings, type DesiredDiagnosticSetting } from '../../../src/lib/reconcile/diagnosticSetting.js';
import { diffDataExport, ENTRA_TABLES, type ObservedDataExport } from '../../../src/lib/reconcile/targets/entraDataExport.js';
import { fakeDiagnosticSettings } from './fakeDiagnosticSettings.js';

const RULES = ['/subscriptions/p/resourceGroups/r/providers/Microsoft.EventHub/namespaces/ns1/authorizationRules/mdr', '/subscriptions/p/resourceGroups/r/providers/Microsoft.EventHub/namespaces/ns2/authorizationRules/x'];
const CATS = ['AuditEvent', 'AzurePolicyEvaluationDetails', 'Other'];
const desired: DesiredDiagnosticSetting = { resourceId: '/subscriptions/s/vaults/kv', name: 'mdr-export', eventHubAuthorizationRuleId: RULES[0]!, eventHubName: 'hub', categories: ['AuditEvent', 'AzurePolicyEvaluationDetails'] };
const setting = (name: fc.Arbitrary<string>) =>
  fc.record({ name, eventHubAuthorizationRuleId: fc.constantFrom(...RULES), eventHubName: fc.constantFrom('hub', 'other'), logs: fc.subarray(CATS).map((cs) => cs.map((category) => ({ category, enabled: true }))) });

describe('applying a diff converges', () => {
  it('leaves no diagnostic-setting diff after one apply whenever a slot is free', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(setting(fc.constantFrom('c1', 'c2', 'c3', 'c4')), { selector: (s) => s.name, maxLength: 4 }),
        fc.uniqueArray(setting(fc.constantFrom('mdr-export', 'mdr-old', 'MDR-legacy')), { selector: (s) => s.name.toLowerCase(), maxLength: 3 }),
        async (foreign, ours) => {
          const fake = fakeDiagnosticSettings({ [desired.resourceId.slice(1)]: [...foreign, ...ours] });
          const before = (await observeDiagnosticSettings(fake.api, desired.resourceId))!;
          await applyDiagnosticSetting(fake.api, desired, diffDiagnosticSetting(desired, before, 'mdr'));
          const after = (await observeDiagnosticSettings(fake.api, desired.resourceId))!;
          expect(diffDiagnosticSetting(desired, after, 'mdr')).toEqual([]);
          // customer settings are byte-for-byte untouched
          expect(after.filter((s) => s.name.startsWith('c')).map((s) => s.name).sort()).toEqual(foreign.map((s) => s.name).sort());
          expect(fake.writes.every((w) => w.name.toLowerCase().startsWith('mdr-'))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('leaves no data-export diff once the changes are applied to the rule list', () => {
    const rule = fc.record({
      name: fc.constantFrom('mdr-entra-export', 'mdr-x', 'cust-a', 'cust-b'),
      destinationResourceId: fc.constantFrom('/ns1', '/NS1', '/ns2'),
      eventHubName: fc.option(fc.constantFrom('hub', 'HUB', 'x'), { nil: undefined }),
      tableNames: fc.subarray([...ENTRA_TABLES, 'Heartbeat']),
      enabled: fc.boolean(),
    });
    const d = { workspaceId: '/ws', name: 'mdr-entra-export', destinationResourceId: '/ns1', eventHubName: 'hub', tableNames: ENTRA_TABLES };
    fc.assert(
      fc.property(fc.uniqueArray(rule, { selector: (r) => r.name }), (rules: ObservedDataExport[]) => {
        let state = [...rules];
        for (const c of diffDataExport(d, state, 'mdr')) {
          if (c.kind === 'delete') state = state.filter((r) => r.name !== c.name);
          if (c.kind === 'create' || c.kind === 'update')
            state = [...state.filter((r) => r.name !== c.name), { name: c.name, destinationResourceId: d.destinationResourceId, eventHubName: d.eventHubName, tableNames: [...d.tableNames], enabled: true }];
        }
        expect(diffDataExport(d, state, 'mdr')).toEqual([]);
      }),
    );
  });
});
