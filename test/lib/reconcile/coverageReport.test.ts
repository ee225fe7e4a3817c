import { describe, expect, it } from 'vitest';
import { coverageReport, formatCoverageTable } from '../../../src/lib/reconcile/coverageReport.js';
import type { CoverageEntry } from '../../../src/lib/registry/types.js';
import { carryOver } from '../../../src/lib/reconcile/reconcileTenant.js';

const entry = (target: CoverageEntry['target'], state: CoverageEntry['state'], resourceId: string, detail?: string): CoverageEntry => ({
  tenantId: 't',
  target,
  state,
  resourceId,
  subscriptionId: 's',
  region: 'westeurope',
  detail,
  updatedAt: '2026-11-26T00:00:00Z',
});

describe('coverageReport', () => {
  const entries = [
    entry('storage-diagnostics', 'streaming', '/subscriptions/s/x/b'),
    entry('storage-diagnostics', 'slots-exhausted', '/subscriptions/s/x/a', 'held by: a, b, c, d, e'),
    entry('activity-log', 'created', '/subscriptions/s'),
    entry('keyvault-diagnostics', 'forbidden', '/subscriptions/s/kv'),
  ];

  it('totals entries by state and by target and counts streaming, created and repaired as covered', () => {
    const r = coverageReport('t', entries);
    expect(r.totals).toEqual({
      targets: 4,
      covered: 2,
      byState: { streaming: 1, 'slots-exhausted': 1, created: 1, forbidden: 1 },
      byTarget: { 'storage-diagnostics': { streaming: 1, 'slots-exhausted': 1 }, 'activity-log': { created: 1 }, 'keyvault-diagnostics': { forbidden: 1 } },
    });
    expect(r.entries.map((e) => e.resourceId)).toEqual(['/subscriptions/s', '/subscriptions/s/kv', '/subscriptions/s/x/a', '/subscriptions/s/x/b']);
  });

  it('shows the last tamper of a target: when, by whom, from where and the finding', () => {
    const tampered: CoverageEntry = { ...entry('activity-log', 'repaired', '/subscriptions/s'), tamper: { at: '2026-12-01T10:00:00.000Z', operation: 'microsoft.insights/diagnosticsettings/delete', object: '/subscriptions/s/providers/microsoft.insights/diagnosticsettings/mdr-export', caller: 'mallory@acme.example', callerIp: '198.51.100.7', findingUid: 'f00d' } };
    const line = formatCoverageTable(coverageReport('t', [tampered])).split('\n').find((l) => l.startsWith('activity-log'));
    expect(line).toContain('TAMPERED 2026-12-01T10:00:00Z by mallory@acme.example from 198.51.100.7 (finding f00d)');
  });

  it('prints one line per target with the reason and a totals line', () => {
    const text = formatCoverageTable(coverageReport('t', entries));
    expect(text.split('\n').filter((l) => /^(storage|activity|keyvault)/.test(l))).toHaveLength(4);
    expect(text).toContain('held by: a, b, c, d, e');
    expect(text).toContain('tenant t: 2/4 targets streaming');
  });

  it('shows when each target was last read from ARM, or - when never', () => {
    const read = { ...entry('activity-log', 'streaming', '/subscriptions/s'), observedAt: '2026-11-27T09:41:12.345Z' };
    const lines = formatCoverageTable(coverageReport('t', [read, entry('storage-diagnostics', 'failed', '/subscriptions/s/x/a')])).split('\n');
    expect(lines[0]).toMatch(/^TARGET\s+STATE\s+REGION\s+READ AT\s+RESOURCE/);
    expect(lines.find((l) => l.startsWith('activity-log'))).toContain('2026-11-27 09:41Z');
    expect(lines.find((l) => l.startsWith('storage-diagnostics'))).toMatch(/westeurope\s+-\s/);
  });
});


describe('carryOver of ledger states the reconciler does not own', () => {
  const base: CoverageEntry = {
    tenantId: 't', resourceId: '/subscriptions/s', target: 'activity-log', subscriptionId: 's', region: 'global', state: 'streaming', updatedAt: '2026-11-26T12:00:00.000Z',
  };
  const now = new Date('2026-11-26T12:30:00.000Z');

  it('keeps silent on an in-sync target until stream health clears it', () => {
    const prev = { ...base, state: 'silent' as const, detail: 'no data for 3h', updatedAt: '2026-11-26T09:00:00.000Z' };
    expect(carryOver(prev, { ...base, updatedAt: now.toISOString() }, now)).toMatchObject({ state: 'silent', detail: 'no data for 3h', updatedAt: prev.updatedAt });
  });

  it('keeps a fresh created state and its time during the 90-minute grace, then reports streaming', () => {
    const prev = { ...base, state: 'created' as const, updatedAt: '2026-11-26T12:00:00.000Z' };
    expect(carryOver(prev, { ...base, updatedAt: now.toISOString() }, now)).toMatchObject({ state: 'created', updatedAt: prev.updatedAt });
    const later = new Date('2026-11-26T14:00:00.000Z');
    expect(carryOver(prev, { ...base, updatedAt: later.toISOString() }, later)).toMatchObject({ state: 'streaming', updatedAt: later.toISOString() });
  });

  it('never masks a new problem state', () => {
    const prev = { ...base, state: 'silent' as const };
    expect(carryOver(prev, { ...base, state: 'failed', detail: 'boom' }, now).state).toBe('failed');
  });
});
