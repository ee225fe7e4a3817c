import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/lib/errors.js';
import { parseTenantRequest } from '../../../src/lib/onboarding/tenantRequest.js';

const PROVIDER = '11111111-1111-1111-1111-111111111111';
const T = 'AAAAAAAA-0000-0000-0000-000000000001';

function problemsOf(id: string | undefined, body: unknown) {
  try {
    parseTenantRequest(id, body, PROVIDER);
  } catch (e) {
    if (e instanceof ValidationError) return e.problems;
    throw e;
  }
  throw new Error('expected a ValidationError');
}

describe('parseTenantRequest', () => {
  it('accepts a minimal body and lower-cases the tenant id and regions', () => {
    const r = parseTenantRequest(T, { displayName: ' Contoso ', regions: ['WestEurope', 'East US 2'] }, PROVIDER);
    expect(r.tenantId).toBe(T.toLowerCase());
    expect(r.request).toEqual({ displayName: 'Contoso', regions: ['westeurope', 'eastus2'] });
  });

  it('names every bad field at once', () => {
    const problems = problemsOf('not-a-guid', {
      displayName: '',
      regions: ['westeurope', 'moon-north-1'],
      entraWorkspaceIds: ['/subscriptions/x/workspaces/y'],
      options: { storage: 'yes', frobnicate: true },
      extra: 1,
    });
    const fields = problems.map((p) => p.field).sort();
    expect(fields).toEqual(['displayName', 'entraWorkspaceIds.0', 'extra', 'options.frobnicate', 'options.storage', 'regions.1', 'tenantId'].sort());
    expect(problems.find((p) => p.field === 'regions.1')?.message).toMatch(/unknown Azure region/);
    expect(problems.find((p) => p.field === 'extra')?.message).toBe('unknown field');
  });

  it('rejects a missing body and a missing display name', () => {
    expect(problemsOf(T, undefined).map((p) => p.field)).toEqual(['(body)']);
    expect(problemsOf(T, {}).map((p) => p.field)).toEqual(['displayName']);
  });

  it('rejects the provider tenant itself', () => {
    expect(problemsOf(PROVIDER, { displayName: 'Self' })).toEqual([{ field: 'tenantId', message: expect.stringMatching(/provider tenant/) }]);
  });

  it('rejects repeated regions and over-long names', () => {
    const fields = problemsOf(T, { displayName: 'x'.repeat(129), regions: ['westeurope', 'westeurope'] }).map((p) => p.field);
    expect(fields.sort()).toEqual(['displayName', 'regions']);
  });

  it('rejects one Entra workspace listed twice, however its id is cased (found in review: it broke every reconcile of the tenant)', () => {
    const ws = '/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/sec/providers/Microsoft.OperationalInsights/workspaces/ws-core';
    expect(problemsOf(T, { displayName: 'x', entraWorkspaceIds: [ws, ws.toLowerCase()] })).toEqual([{ field: 'entraWorkspaceIds', message: expect.stringContaining('must not repeat') }]);
  });
});

