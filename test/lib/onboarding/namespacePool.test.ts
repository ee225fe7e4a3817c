import { describe, expect, it } from 'vitest';
import { choosePoolSlot, maxHubsFor, namespaceNameFor } from '../../../src/lib/onboarding/namespacePool.js';
import type { NamespaceRecord } from '../../../src/lib/registry/types.js';
import { ingestBindingSchema } from '../../../src/lib/config/ingestBindings.js';

const pool = { resourceGroup: 'rg', namePrefix: 'mdr-ingest', tier: 'Standard' as const, capacity: 1, growth: true, regions: [], partitionCount: 4, retentionHours: 168, consumerGroup: 'cg' };
const ns = (n: number, tenants: string[], region = 'westeurope'): NamespaceRecord => ({ region, namespace: namespaceNameFor('mdr-ingest', region, n), namespaceId: `/ns/${n}`, tier: 'Standard', maxHubs: 10, hubCount: tenants.length, tenants, state: 'ready' });
const many = (k: number, p = 't') => Array.from({ length: k }, (_, i) => `${p}${i}`);
const id = (n: string) => `/id/${n}`;

describe('choosePoolSlot', () => {
  it('returns the slot a tenant already holds', () => {
    const d = choosePoolSlot([ns(1, many(10)), ns(2, ['me'])], 'me', 'westeurope', pool, id);
    expect(d).toMatchObject({ kind: 'already', namespace: { namespace: 'mdr-ingest-westeurope-02' } });
  });

  it('fills the first namespace by name that has room', () => {
    const d = choosePoolSlot([ns(2, many(3)), ns(1, many(10))], 'new', 'westeurope', pool, id);
    expect(d).toMatchObject({ kind: 'use', namespace: { namespace: 'mdr-ingest-westeurope-02', hubCount: 4 } });
  });

  it('grows with the next free index when every namespace is full, and ignores other regions', () => {
    const d = choosePoolSlot([ns(1, many(10)), ns(3, many(10, 'u')), ns(1, [], 'eastus')], 'new', 'westeurope', pool, id);
    expect(d).toMatchObject({ kind: 'grow', namespace: { namespace: 'mdr-ingest-westeurope-02', state: 'provisioning', tenants: ['new'], maxHubs: 10, namespaceId: '/id/mdr-ingest-westeurope-02' } });
  });

  it('reports a full pool when growth is disabled', () => {
    const d = choosePoolSlot([ns(1, many(10))], 'new', 'westeurope', { ...pool, growth: false }, id);
    expect(d.kind).toBe('full');
    expect(d.kind === 'full' && d.message).toMatch(/westeurope is full \(1 namespace\(s\), 10 hubs\)/);
  });
});

describe('namespaceNameFor and maxHubsFor', () => {
  it('keeps names valid for the longest prefix and region', () => {
    const name = namespaceNameFor('a'.repeat(31), 'southafricanorth', 12);
    expect(name.length).toBeLessThanOrEqual(50);
    expect(name.endsWith('-southafricanorth-12')).toBe(true);
    expect(ingestBindingSchema.shape.namespace.safeParse(name).success).toBe(true);
  });

  it('sizes namespaces by tier', () => {
    expect([maxHubsFor('Standard', 4), maxHubsFor('Premium', 2), maxHubsFor('Dedicated', 1)]).toEqual([10, 200, 1000]);
  });
});
