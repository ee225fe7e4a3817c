import { describe, expect, it } from 'vitest';
import { choosePoolSlot, classifyPoolNamespace, maxHubsFor, namespaceNameFor, nextNamespaceName, type ArmNamespace } from '../../../src/lib/onboarding/namespacePool.js';
import type { NamespaceRecord } from '../../../src/lib/registry/types.js';
import { ingestBindingSchema } from '../../../src/lib/config/ingestBindings.js';
import { parseSettings } from '../../../src/lib/config/settings.js';

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

describe('classifyPoolNamespace (adopting a namespace that already exists in the pool resource group)', () => {
  const settings = parseSettings({
    MDR_PROVIDER_TENANT_ID: '11111111-1111-1111-1111-111111111111',
    MDR_PROVIDER_SUBSCRIPTION_ID: '22222222-2222-2222-2222-222222222222',
    MDR_INGEST_PRINCIPAL_ID: '33333333-3333-3333-3333-333333333333',
    MDR_EH_POOL_RESOURCE_GROUP: 'mdr-ingest',
    MDR_EH_POOL_NAME_PREFIX: 'mdr-ingest',
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  });
  const name = 'mdr-ingest-westeurope-01';
  const id = `/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/mdr-ingest/providers/Microsoft.EventHub/namespaces/${name}`;
  // Shape of GET …/namespaces/{name} (Azure/azure-rest-api-specs eventhub 2024-01-01 examples/NameSpaces/EHNameSpaceCreate.json:
  // location as a display name, sku {name, tier, capacity}, properties.provisioningState; the SDK flattens properties).
  const arm = (over: Partial<ArmNamespace> = {}): ArmNamespace => ({ id, name, location: 'West Europe', sku: { name: 'Standard', tier: 'Standard', capacity: 1 }, provisioningState: 'Succeeded', ...over });

  it('adopts a provisioned namespace with our id, name and location as ready, sized by its own tier, with no tenants yet', () => {
    expect(classifyPoolNamespace(settings, 'westeurope', name, arm())).toEqual({
      kind: 'ours',
      record: { region: 'westeurope', namespace: name, namespaceId: id, tier: 'Standard', maxHubs: 10, hubCount: 0, tenants: [], state: 'ready' },
    });
    const premium = classifyPoolNamespace(settings, 'westeurope', name, arm({ sku: { name: 'Premium', tier: 'Premium', capacity: 2 } }));
    expect(premium.kind === 'ours' && [premium.record.tier, premium.record.maxHubs]).toEqual(['Premium', 200]);
  });

  it('adopts one still being created as provisioning (to be waited for, not created again)', () => {
    const d = classifyPoolNamespace(settings, 'westeurope', name, arm({ provisioningState: 'Creating' }));
    expect(d.kind === 'ours' && d.record.state).toBe('provisioning');
  });

  it('refuses a namespace in another location, of the Basic tier, answered under another id, or not named for this region', () => {
    expect(classifyPoolNamespace(settings, 'westeurope', name, arm({ location: 'North Europe' }))).toMatchObject({ kind: 'not-ours', reason: expect.stringMatching(/is in North Europe, not westeurope/) });
    expect(classifyPoolNamespace(settings, 'westeurope', name, arm({ sku: { name: 'Basic', tier: 'Basic', capacity: 1 } }))).toMatchObject({ kind: 'not-ours', reason: expect.stringMatching(/tier Basic/) });
    expect(classifyPoolNamespace(settings, 'westeurope', name, arm({ id: id.replace('/mdr-ingest/', '/someone-else/') })).kind).toBe('not-ours');
    expect(classifyPoolNamespace(settings, 'northeurope', name, arm({ location: 'North Europe' })).kind).toBe('not-ours');
    expect(classifyPoolNamespace(settings, 'westeurope', 'other-westeurope-01', arm({ id: id.replace(name, 'other-westeurope-01'), name: 'other-westeurope-01' })).kind).toBe('not-ours');
  });

  it('names the namespace to adopt or create: the lowest index the registry does not hold in that region', () => {
    expect(nextNamespaceName([], 'westeurope', 'mdr-ingest')).toBe('mdr-ingest-westeurope-01');
    expect(nextNamespaceName([ns(1, []), ns(3, []), ns(2, [], 'eastus')], 'westeurope', 'mdr-ingest')).toBe('mdr-ingest-westeurope-02');
  });
});
