import { describe, expect, it } from 'vitest';
import type { TamperEvidence } from '../../../src/lib/eventDriven/changeSignals.js';
import { tamperFinding, tamperFindingUid, type TamperRepair } from '../../../src/lib/eventDriven/tamperFinding.js';
import { validateOcsfEvent } from '../../../src/lib/ingest/ocsf/validate.js';

const T = 'aaaaaaaa-0000-0000-0000-000000000001';
const S1 = 'aaaaaaaa-1111-0000-0000-000000000001';
const WS = `/subscriptions/${S1}/resourcegroups/app/providers/microsoft.operationalinsights/workspaces/acme-entra`;
const full: TamperEvidence = {
  uid: 'e'.repeat(32), at: Date.parse('2026-12-01T10:00:00Z'), operation: 'microsoft.operationalinsights/workspaces/dataexports/delete', kind: 'delete', objectType: 'data-export',
  objectId: `${WS}/dataexports/mdr-entra-export`, objectName: 'mdr-entra-export', on: WS,
  caller: { name: 'mallory@acme.example', uid: '123abc45-8211-44e3-95aa-85137af64708', appId: '11112222-bbbb-3333-cccc-4444dddd5555', tenantId: T, role: 'Owner' },
  callerIp: '198.51.100.7', correlationId: 'corr-1', originalUid: 'ev-1',
};
const repair: TamperRepair = { target: 'entra-data-export', resourceId: WS, subscriptionId: S1, name: 'mdr-entra-export', reason: 'no export rule of ours', at: Date.parse('2026-12-01T10:01:00Z'), now: true };

describe('tamper Detection Finding', () => {
  it('is valid OCSF 1.8 with who, what, when and from where, and ATT&CK T1562.008', () => {
    const f = tamperFinding(T, full, repair, Date.parse('2026-12-01T10:01:00Z'));
    expect(validateOcsfEvent(f)).toEqual({ ok: true, errors: [] });
    expect(f).toMatchObject({
      class_uid: 2004, type_uid: 200401, severity_id: 4, status_id: 1,
      metadata: { uid: tamperFindingUid(T, full.uid), tenant_uid: T, profiles: ['cloud', 'host'] },
      cloud: { account: { uid: S1 }, org: { uid: T } },
      actor: { user: { name: 'mallory@acme.example', uid: full.caller!.uid }, app_uid: full.caller!.appId, idp: { tenant_uid: T } },
      finding_info: { first_seen_time: full.at, attacks: [{ technique: { uid: 'T1562' }, sub_technique: { uid: 'T1562.008', name: 'Disable or Modify Cloud Logs' }, tactic: { uid: 'TA0005' } }], related_events: [{ uid: full.uid }] },
      evidences: [{ src_endpoint: { ip: '198.51.100.7' }, uid: 'ev-1' }],
      resources: [{ uid: full.objectId, type: 'Microsoft.OperationalInsights/workspaces/dataExports' }, { uid: WS }],
    });
    expect(String(f.message)).toContain('deleted by mallory@acme.example');
  });

  it('stays valid when the record named no caller and no IP, and says the repair came from an earlier run', () => {
    const bare: TamperEvidence = { ...full, caller: undefined, callerIp: undefined, correlationId: undefined, originalUid: undefined, kind: 'write', operation: 'microsoft.operationalinsights/workspaces/dataexports/write' };
    const f = tamperFinding(T, bare, { ...repair, now: false }, 0);
    expect(validateOcsfEvent(f)).toEqual({ ok: true, errors: [] });
    expect(f.actor).toBeUndefined();
    expect(f.metadata.profiles).toEqual(['cloud']);
    expect(f).toMatchObject({ confidence_id: 2, remediation: { desc: expect.stringContaining('had already put') } });
  });

  it('gets the same uid for the same change and tenant, another for another tenant', () => {
    expect(tamperFinding(T, full, repair, 1).metadata.uid).toBe(tamperFinding(T, full, repair, 2).metadata.uid);
    expect(tamperFindingUid('bbbbbbbb-0000-0000-0000-000000000002', full.uid)).not.toBe(tamperFindingUid(T, full.uid));
  });
});
