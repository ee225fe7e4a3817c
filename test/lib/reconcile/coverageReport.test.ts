import { describe, expect, it } from 'vitest';
import { coverageReport, formatCoverageTable } from '../../../src/lib/reconcile/coverageReport.js';
import type { CoverageEntry } from '../../../src/lib/registry/types.js';

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

  it('prints one line per target with the reason and a totals line', () => {
    const text = formatCoverageTable(coverageReport('t', entries));
    expect(text.split('\n').filter((l) => /^(storage|activity|keyvault)/.test(l))).toHaveLength(4);
    expect(text).toContain('held by: a, b, c, d, e');
    expect(text).toContain('tenant t: 2/4 targets streaming');
  });
});
