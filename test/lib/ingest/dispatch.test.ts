import { describe, expect, it } from 'vitest';
import { mapRecord, mappers, normalizeRecord } from '../../../src/lib/ingest/dispatch.js';
import type { Mapper } from '../../../src/lib/ingest/types.js';

const ctx = { tenantId: undefined, subscriptionIds: undefined, ingestTime: 0 };

describe('dispatch', () => {
  it('routes each Azure category to its mapper and OCSF class', () => {
    const cases: [Record<string, unknown>, string, number][] = [
      [{ category: 'SignInLogs', time: '2024-01-01T00:00:00Z' }, 'sign-in', 3002],
      [{ category: 'ManagedIdentitySignInLogs', time: '2024-01-01T00:00:00Z' }, 'sign-in', 3002],
      [{ category: 'AuditLogs', time: '2024-01-01T00:00:00Z', properties: { activityDisplayName: 'Add member to group', targetResources: [{ type: 'Group', id: 'g' }, { type: 'User', id: 'u' }] } }, 'entra-audit', 3006],
      [{ category: 'AuditLogs', time: '2024-01-01T00:00:00Z', properties: { activityDisplayName: 'Reset password (by admin)', targetResources: [{ type: 'User', id: 'u' }] } }, 'entra-audit', 3001],
      [{ category: 'AuditLogs', time: '2024-01-01T00:00:00Z', properties: { activityDisplayName: 'Add service principal', operationType: 'Add', targetResources: [{ type: 'ServicePrincipal', id: 'sp' }] } }, 'entra-audit', 3004],
      [{ category: 'Administrative', time: '2024-01-01T00:00:00Z', operationName: 'MICROSOFT.COMPUTE/VIRTUALMACHINES/DELETE' }, 'activity-log', 6003],
      [{ category: 'Security', time: '2024-01-01T00:00:00Z' }, 'activity-log', 2004],
      [{ category: 'ServiceHealth', time: '2024-01-01T00:00:00Z' }, 'activity-log', 0],
      [{ category: 'StorageDelete', time: '2024-01-01T00:00:00Z', operationName: 'DeleteBlob' }, 'storage', 6003],
      [{ category: 'AuditEvent', time: '2024-01-01T00:00:00Z', operationName: 'SecretGet' }, 'key-vault', 6003],
      [{ SystemAlertId: 'a1', AlertType: 'X', TimeGenerated: '2024-01-01T00:00:00Z' }, 'defender-alert', 2004],
      [{ Type: 'SecurityAlert', TimeGenerated: '2024-01-01T00:00:00Z', SystemAlertId: 'a2' }, 'defender-alert', 2004],
      [{ Type: 'SigninLogs', TimeGenerated: '2024-01-01T00:00:00Z' }, 'sign-in', 3002],
      [{ category: 'FunctionAppLogs', time: '2024-01-01T00:00:00Z' }, 'azure-other', 0],
    ];
    for (const [rec, source, cls] of cases) {
      const out = mapRecord(rec, JSON.stringify(rec), ctx);
      expect(out.ok && { source: out.source, cls: out.events[0]!.class_uid }, JSON.stringify(rec)).toEqual({ source, cls });
    }
  });

  it('maps a failed sign-in to Logon with status Failure, never Logoff', () => {
    const out = mapRecord({ category: 'SignInLogs', time: '2024-01-01T00:00:00Z', resultType: '50126', properties: { id: 'x', status: { errorCode: 50126, failureReason: 'Invalid username or password' } } }, '{}', ctx);
    expect(out.ok && out.events[0]).toMatchObject({ activity_id: 1, type_uid: 300201, status_id: 2, status_code: '50126', status_detail: 'Invalid username or password' });
  });

  it('dead-letters non-objects and unrecognisable objects as unknown-shape', () => {
    expect(mapRecord(42, '42', ctx)).toMatchObject({ ok: false, reason: 'unknown-shape' });
    expect(mapRecord({ expected: [] }, '{}', ctx)).toMatchObject({ ok: false, reason: 'unknown-shape' });
  });

  it('turns a mapper exception into a mapping-error dead letter instead of throwing', () => {
    const boom: Mapper = { source: 'storage', matches: () => true, map: () => { throw new TypeError('bad shape'); } };
    expect(mapRecord({ category: 'StorageRead' }, '{}', ctx, undefined, [boom])).toEqual({ ok: false, reason: 'mapping-error', detail: 'storage mapper failed: bad shape', source: 'storage' });
  });

  it('parses `properties` sent as a JSON string, including single-quoted pseudo-JSON', () => {
    expect(normalizeRecord({ category: 'X', properties: '{"a":1}' }, '')!.props).toEqual({ a: 1 });
    expect(normalizeRecord({ category: 'X', properties: "{'a':'b'}" }, '')!.props).toEqual({ a: 'b' });
    expect(mappers.at(-1)!.source).toBe('azure-other');
  });
});
