import { describe, expect, it } from 'vitest';
import { parseWorkItem, planWorkItems } from '../../../src/lib/reconcile/fanOut.js';
import { ValidationError } from '../../../src/lib/errors.js';
import type { TenantRecord } from '../../../src/lib/registry/types.js';

const T1 = '11111111-1111-1111-1111-111111111111';
const T2 = '22222222-2222-2222-2222-222222222222';
const tenant = (tenantId: string, status: TenantRecord['status'] = 'active') => ({ tenantId, status }) as TenantRecord;
const subs = (n: number) => Array.from({ length: n }, (_, i) => `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`);

describe('planWorkItems', () => {
  it('gives a small tenant one whole-tenant item', () => {
    expect(planWorkItems([tenant(T1)], new Map([[T1, subs(3)]]), 50)).toEqual([{ tenantId: T1 }]);
  });

  it('splits a tenant above the threshold into per-subscription batches covering every subscription once', () => {
    const items = planWorkItems([tenant(T1)], new Map([[T1, subs(120)]]), 50);
    expect(items.map((i) => i.subscriptionIds?.length)).toEqual([50, 50, 20]);
    expect(new Set(items.flatMap((i) => i.subscriptionIds ?? [])).size).toBe(120);
  });

  it('skips tenants that are not active and keeps the others', () => {
    const items = planWorkItems([tenant(T1, 'offboarding'), tenant(T2)], new Map(), 50);
    expect(items).toEqual([{ tenantId: T2 }]);
  });
});

describe('parseWorkItem', () => {
  it('accepts an object, a JSON string and a base64 JSON string', () => {
    const json = JSON.stringify({ tenantId: T1 });
    expect(parseWorkItem({ tenantId: T1 })).toEqual({ tenantId: T1 });
    expect(parseWorkItem(json)).toEqual({ tenantId: T1 });
    expect(parseWorkItem(Buffer.from(json).toString('base64'))).toEqual({ tenantId: T1 });
  });

  it('rejects a message without a tenant GUID with a reason naming the field', () => {
    expect(() => parseWorkItem({ tenantId: 'acme' })).toThrow(ValidationError);
    expect(() => parseWorkItem({ tenantId: 'acme' })).toThrow(/tenantId: tenantId must be a tenant GUID/);
  });

  it('rejects unknown fields and non-JSON text', () => {
    expect(() => parseWorkItem({ tenantId: T1, extra: 1 })).toThrow(/invalid reconcile work item/);
    expect(() => parseWorkItem('{not json')).toThrow(/not JSON/);
  });
});
