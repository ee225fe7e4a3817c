import { describe, expect, it } from 'vitest';
import { ingestBindingsSchema } from '../../../src/lib/config/ingestBindings.js';
import { bindingsFromRegistry, connectionNameFor } from '../../../src/lib/registry/bindingsFromRegistry.js';
import type { HubAssignment, NamespaceRecord } from '../../../src/lib/registry/types.js';
import { mergeIngestSettings } from '../../../src/lib/onboarding/appSettingsSync.js';

const ns = (name: string, region = 'westeurope'): NamespaceRecord => ({ region, namespace: name, namespaceId: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.EventHub/namespaces/${name}`, tier: 'Standard', maxHubs: 10, hubCount: 1, tenants: [], state: 'ready' });
const hub = (tenantId: string, namespace: string, state: HubAssignment['state'] = 'ready', region = 'westeurope'): HubAssignment => ({
  tenantId, region, namespace, namespaceId: `/x/${namespace}`, hub: `mdr-${tenantId}`, consumerGroup: 'mdr-ingest', namespaceRuleId: 'r', sendRuleId: 's', state, createdAt: '2026-01-01T00:00:00Z',
});
const A = 'aaaaaaaa-0000-0000-0000-000000000001';
const B = 'bbbbbbbb-0000-0000-0000-000000000002';

describe('bindingsFromRegistry', () => {
  it('gives one binding per ready hub and one identity connection per namespace in use', () => {
    const w = bindingsFromRegistry([hub(B, 'mdr-ingest-westeurope-02'), hub(A, 'mdr-ingest-westeurope-01'), hub('cccccccc-0000-0000-0000-000000000003', 'mdr-ingest-westeurope-01', 'provisioning')], [ns('mdr-ingest-westeurope-01'), ns('mdr-ingest-westeurope-02')], 'servicebus.windows.net');
    expect(w.bindings.map((b) => b.tenantId)).toEqual([A, B]);
    expect(ingestBindingsSchema.parse(JSON.parse(w.appSettings.MDR_INGEST_BINDINGS!))).toEqual(w.bindings);
    expect(w.appSettings).toEqual({
      MDR_INGEST_BINDINGS: JSON.stringify(w.bindings),
      MDR_EHNS_MDR_INGEST_WESTEUROPE_01__fullyQualifiedNamespace: 'mdr-ingest-westeurope-01.servicebus.windows.net',
      MDR_EHNS_MDR_INGEST_WESTEUROPE_02__fullyQualifiedNamespace: 'mdr-ingest-westeurope-02.servicebus.windows.net',
    });
    expect(w.bindings[0]!.connection).toBe(connectionNameFor('mdr-ingest-westeurope-01'));
  });

  it('ignores hubs whose namespace is unknown, so a binding never lacks its connection', () => {
    const w = bindingsFromRegistry([hub(A, 'gone-namespace-01')], [], 'servicebus.windows.net');
    expect(w.bindings).toEqual([]);
    expect(Object.keys(w.appSettings)).toEqual(['MDR_INGEST_BINDINGS']);
  });
});

describe('mergeIngestSettings', () => {
  it('keeps foreign settings, replaces ours and drops our stale connections only', () => {
    const current = { AzureWebJobsStorage: 'keep', MDR_EH_POOL_TIER: 'Standard', MDR_INGEST_BINDINGS: '[]', MDR_EHNS_OLD__fullyQualifiedNamespace: 'old.servicebus.windows.net', OTHER__fullyQualifiedNamespace: 'x' };
    const r = mergeIngestSettings(current, { MDR_INGEST_BINDINGS: '[1]', MDR_EHNS_NEW__fullyQualifiedNamespace: 'new' });
    expect(r.next).toEqual({ AzureWebJobsStorage: 'keep', MDR_EH_POOL_TIER: 'Standard', OTHER__fullyQualifiedNamespace: 'x', MDR_INGEST_BINDINGS: '[1]', MDR_EHNS_NEW__fullyQualifiedNamespace: 'new' });
    expect(r).toMatchObject({ added: ['MDR_EHNS_NEW__fullyQualifiedNamespace'], changed: ['MDR_INGEST_BINDINGS'], removed: ['MDR_EHNS_OLD__fullyQualifiedNamespace'] });
  });

  it('reports no change when the settings already match', () => {
    const r = mergeIngestSettings({ a: '1', MDR_INGEST_BINDINGS: '[]' }, { MDR_INGEST_BINDINGS: '[]' });
    expect(r.added.length + r.changed.length + r.removed.length).toBe(0);
  });
});
