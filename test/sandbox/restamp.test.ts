import { describe, expect, it } from 'vitest';
import { restamp } from '../../scripts/sandbox/restamp.js';

const T = '3e8a9c21-6d4b-4f70-b2e5-a1c9d8f07b35';
const S1 = '4a7e2c91-0b3d-4e6f-a58c-7d2e1f9b3c62';
const S2 = 'c2f9a4d7-8e1b-4c3a-9f6e-2b5d8a1c4e73';
const ids = { tenantId: T, subscriptionIds: [S1, S2] };
const OLD_T = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OLD_S = 'abcdef00-1111-2222-3333-44444444cafe';

describe('restamp', () => {
  it('replaces tenant id fields in any key casing and the same id everywhere else in the body', () => {
    const text = `{"tenantId":"${OLD_T}","AADTenantId":"${OLD_T}","identity":{"claims":{"http://schemas.microsoft.com/identity/claims/tenantid":"${OLD_T}"}},"note":"seen ${OLD_T}"}`;
    const out = restamp(text, ids);
    expect(out).not.toContain(OLD_T);
    expect(out.split(T)).toHaveLength(5);
    expect(JSON.parse(out)).toMatchObject({ tenantId: T, AADTenantId: T });
  });

  it('replaces subscription segments of resource ids and subscriptionId values, keeping upper case and the rest of the id', () => {
    const text = `{"resourceId":"/SUBSCRIPTIONS/${OLD_S.toUpperCase()}/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV","SubscriptionId":"${OLD_S}"}`;
    const out = JSON.parse(restamp(text, ids)) as Record<string, string>;
    expect(out.resourceId).toBe(`/SUBSCRIPTIONS/${S1.toUpperCase()}/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV`);
    expect(out.SubscriptionId).toBe(S1);
  });

  it('spreads distinct original subscriptions over the scenario subscriptions in order of first appearance', () => {
    const text = '/subscriptions/aaa/x /subscriptions/bbb/y /subscriptions/ccc/z /subscriptions/aaa/w';
    expect(restamp(text, ids)).toBe(`/subscriptions/${S1}/x /subscriptions/${S2}/y /subscriptions/${S1}/z /subscriptions/${S1}/w`);
  });

  it('rewrites ids inside JSON encoded as a string and non-GUID placeholder values', () => {
    const text = JSON.stringify({ properties: JSON.stringify({ tenantId: 'TENANT_ID-placeholder', scope: `/subscriptions/${OLD_S}` }), TenantId: '/TENANT_ID' });
    const outer = JSON.parse(restamp(text, ids)) as { properties: string; TenantId: string };
    expect(outer.TenantId).toBe(T);
    expect(JSON.parse(outer.properties)).toEqual({ tenantId: T, scope: `/subscriptions/${S1}` });
  });

  it('keeps the body byte-for-byte when it names no tenant or subscription, even when it is not valid JSON', () => {
    const text = "{'appName': 'func', \"time\": \"11/14/2025 1:48:53 AM\", truncated";
    expect(restamp(text, ids)).toBe(text);
  });

  it('replaces a /tenants/ path segment and leaves empty values alone', () => {
    const out = restamp(`{"resourceId":"/tenants/${OLD_T}/providers/microsoft.aadiam","tenantId":""}`, ids);
    expect(out).toBe(`{"resourceId":"/tenants/${T}/providers/microsoft.aadiam","tenantId":""}`);
  });

  it('rewrites tenant and subscription columns of Log Analytics query tables, which carry ids by position', () => {
    const text = JSON.stringify({ tables: [{ name: 'PrimaryResult', columns: [{ name: 'TenantId' }, { name: 'SubscriptionId' }, { name: 'Caller' }], rows: [['xxxxxxxx-xxxx', 'sub-a', 'someone'], ['', null, 'x']] }] });
    const out = JSON.parse(restamp(text, ids)) as { tables: { rows: unknown[][] }[] };
    expect(out.tables[0]!.rows).toEqual([[T, S1, 'someone'], ['', null, 'x']]);
  });
});

describe('yamlSampleBlocks', () => {
  it('takes each `- sample: |-` block of a test-definition YAML as one body', async () => {
    const { yamlSampleBlocks } = await import('../../scripts/sandbox/sandboxTelemetry.js');
    const yaml = ['id: "x"', 'tests:', '  - sample: |-', '      {', '        "a": 1', '      }', '    result:', '      custom: {}', '  - sample: |-', '      {"b": 2}', '    result: {}'].join('\n');
    expect(yamlSampleBlocks(yaml).map((b) => JSON.parse(b))).toEqual([{ a: 1 }, { b: 2 }]);
  });
});
