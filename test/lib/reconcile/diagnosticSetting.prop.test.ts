import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyDiagnosticSetting, diffDiagnosticSetting, observeDiagnosticSettings, type DesiredDiagnosticSetting } from '../../../src/lib/reconcile/diagnosticSetting.js';
import { diffDataExport, ENTRA_TABLES, type ObservedDataExport } from '../../../src/lib/reconcile/targets/entraDataExport.js';
import { fakeDiagnosticSettings } from './fakeDiagnosticSettings.js';
import { CUSTOMER_NS, POOL_NS, own } from './ownershipFixture.js';

const POOL_RULE = `${POOL_NS}/authorizationRules/mdr-diagnostics`;
const RULES = [POOL_RULE, POOL_RULE.replace('-01/', '-02/'), `${CUSTOMER_NS}/authorizationRules/x`];
const CATS = ['AuditEvent', 'AzurePolicyEvaluationDetails', 'Other'];
const desired: DesiredDiagnosticSetting = { resourceId: '/subscriptions/s/vaults/kv', name: 'mdr-export', eventHubAuthorizationRuleId: POOL_RULE, eventHubName: 'hub', categories: ['AuditEvent', 'AzurePolicyEvaluationDetails'] };
const setting = (name: fc.Arbitrary<string>) =>
  fc.record({ name, eventHubAuthorizationRuleId: fc.constantFrom(...RULES), eventHubName: fc.constantFrom('hub', 'other'), logs: fc.subarray(CATS).map((cs) => cs.map((category) => ({ category, enabled: true }))) });

describe('applying a diff converges, and touches only what is provably ours', () => {
  it('leaves no diagnostic-setting diff after one apply whenever a slot is free, and never writes a setting that is not ours', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(setting(fc.constantFrom('c1', 'c2', 'c3')), { selector: (s) => s.name, maxLength: 3 }),
        fc.uniqueArray(setting(fc.constantFrom('mdr-export', 'mdr-old', 'MDR-legacy', 'mdr-export-2')), { selector: (s) => s.name.toLowerCase(), maxLength: 3 }),
        fc.subarray(['mdr-export', 'mdr-old', 'MDR-legacy', 'mdr-export-2']),
        async (customer, prefixed, written) => {
          const ownership = own(written);
          const isOurs = (s: { name: string; eventHubAuthorizationRuleId: string }) => written.some((w) => w.toLowerCase() === s.name.toLowerCase()) || !s.eventHubAuthorizationRuleId.includes(CUSTOMER_NS);
          const notOurs = [...customer, ...prefixed.filter((s) => !isOurs(s))];
          const fake = fakeDiagnosticSettings({ [desired.resourceId.slice(1)]: [...customer, ...prefixed] });
          const before = (await observeDiagnosticSettings(fake.api, desired.resourceId))!;
          const changes = diffDiagnosticSetting(desired, before, ownership);
          await applyDiagnosticSetting(fake.api, desired, changes);
          const after = (await observeDiagnosticSettings(fake.api, desired.resourceId))!;
          // a setting that is not ours is never written or deleted, and is still there as it was
          const foreignNames = new Set(notOurs.map((s) => s.name.toLowerCase()));
          expect(fake.writes.filter((w) => foreignNames.has(w.name.toLowerCase()))).toEqual([]);
          for (const s of notOurs) expect(after.find((a) => a.name === s.name)?.eventHubAuthorizationRuleId).toBe(s.eventHubAuthorizationRuleId);
          if (changes.some((c) => c.kind === 'blocked')) {
            expect(notOurs.length).toBeGreaterThanOrEqual(5);
            return;
          }
          // converged: what we created or kept is recognised as ours on the next read (it points at our pool)
          expect(diffDiagnosticSetting(desired, after, own(written))).toEqual([]);
          expect(after.filter((s) => !foreignNames.has(s.name.toLowerCase()))).toHaveLength(1);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('leaves no data-export diff once the changes are applied to the rule list', () => {
    const rule = fc.record({
      name: fc.constantFrom('mdr-entra-export', 'mdr-x', 'cust-a', 'cust-b'),
      destinationResourceId: fc.constantFrom(POOL_NS, POOL_NS.toUpperCase(), CUSTOMER_NS),
      eventHubName: fc.option(fc.constantFrom('hub', 'HUB', 'x'), { nil: undefined }),
      tableNames: fc.subarray([...ENTRA_TABLES, 'Heartbeat']),
      enabled: fc.boolean(),
    });
    const d = { workspaceId: '/ws', name: 'mdr-entra-export', destinationResourceId: POOL_NS, eventHubName: 'hub', tableNames: ENTRA_TABLES };
    fc.assert(
      fc.property(fc.uniqueArray(rule, { selector: (r) => r.name }), fc.subarray(['mdr-entra-export', 'mdr-x']), (rules: ObservedDataExport[], written) => {
        let state = [...rules];
        const ownership = own(written);
        for (const c of diffDataExport(d, state, ownership)) {
          if (c.kind === 'delete') state = state.filter((r) => r.name !== c.name);
          if (c.kind === 'create' || c.kind === 'update')
            state = [...state.filter((r) => r.name !== c.name), { name: c.name, destinationResourceId: d.destinationResourceId, eventHubName: d.eventHubName, tableNames: [...d.tableNames], enabled: true }];
        }
        expect(diffDataExport(d, state, ownership)).toEqual([]);
        // a rule that is neither written by us nor exporting to our pool is still exactly as it was
        for (const r of rules.filter((x) => x.destinationResourceId === CUSTOMER_NS && !written.includes(x.name))) expect(state).toContainEqual(r);
      }),
    );
  });
});
