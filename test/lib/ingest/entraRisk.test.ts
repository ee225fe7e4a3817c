import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { OcsfEvent } from '../../../src/lib/ingest/types.js';
import { A, ingest } from './attributionFixtures.js';

/**
 * Identity Protection risk detections as the Entra workspace's data export sends them (Log Analytics rows of
 * AADUserRiskEvents / AADServicePrincipalRiskEvents, columns per the Azure Monitor table reference: the fixtures in
 * test/fixtures/entra-risk) become Detection Findings carrying the risk level, the detection type, the user or service
 * principal and the source IP — on the tenant's own hub, with the tenant decided by the hub.
 */
const fixture = (name: string) =>
  readFileSync(join(import.meta.dirname, '../../fixtures/entra-risk', name), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
const userRows = () => fixture('msdocs-azure-reference-other__aaduserriskevents.json');
const spRows = () => fixture('msdocs-azure-reference-other__aadserviceprincipalriskevents.json');
const evidence = (ev: OcsfEvent) => (ev.evidences as { user?: Record<string, unknown>; src_endpoint?: Record<string, unknown> }[])[0]!;

describe('Entra ID risk detections from the data export', () => {
  it("become Detection Findings on the tenant's hub with risk level, detection type, user and source IP", async () => {
    const { events, res } = await ingest(userRows(), []);
    expect(res.deadLetters).toBe(0);
    expect(events).toHaveLength(3);
    const [high, remediated, hidden] = events as OcsfEvent[];
    expect(high).toMatchObject({ class_uid: 2004, activity_id: 1, status: 'New', severity_id: 4, risk_level_id: 3, risk_level: 'High', finding_info: { types: ['unfamiliarFeatures'] } });
    expect(high!.metadata.tenant_uid).toBe(A);
    expect(evidence(high!)).toMatchObject({ user: { name: 'megan.bowen@contoso.com', uid: 'd3b07384-d9a0-4c9b-8e1a-2f4c6a8b0d2e' }, src_endpoint: { ip: '203.0.113.77', location: { country: 'NG' } } });
    // A remediated leaked-credentials detection is closed as resolved, and has no IP (it is about the user, offline).
    expect(remediated).toMatchObject({ activity_id: 3, status_id: 4, risk_level_id: 2, risk_details: 'userPerformedSecuredPasswordReset', finding_info: { types: ['leakedCredentials'] } });
    expect(evidence(remediated!).src_endpoint).toBeUndefined();
    // Without Entra ID P2 the level is "hidden": kept as Other, never guessed.
    expect(hidden).toMatchObject({ status: 'Suppressed', risk_level_id: 99, risk_level: 'hidden', severity_id: 0 });
    expect(evidence(hidden!).src_endpoint).toMatchObject({ ip: '2001:db8:85a3::8a2e:370:7334' });
  });

  it('name the service principal of a workload-identity detection', async () => {
    const { events } = await ingest(spRows(), []);
    expect(events.map((e) => evidence(e as OcsfEvent).user)).toMatchObject([
      { uid: 'e7a3c1f9-5b2d-4e8a-8c6f-1d3b5a7e9c0f', name: 'payroll-sync', type_id: 4 },
      { uid: '0d2f4b6a-8c1e-4a3b-9d5f-7b9d1f3a5c7e', name: 'ci-deployer', type_id: 4 },
    ]);
    expect((events[1] as OcsfEvent).status).toBe('In Progress'); // confirmedCompromised
  });

  it("do not take the row's TenantId, the workspace id, for the Entra tenant; an AADTenantId naming another tenant is refused", async () => {
    const [row] = userRows();
    expect(String(row!.TenantId)).not.toBe(A);
    expect((await ingest([row], [])).events).toHaveLength(1);
    const { events, res } = await ingest([{ ...row, AADTenantId: 'bbbbbbbb-0000-0000-0000-00000000000b' }], []);
    expect(events).toEqual([]);
    expect(res.byReason).toEqual({ 'tenant-mismatch': 1 });
  });
});
