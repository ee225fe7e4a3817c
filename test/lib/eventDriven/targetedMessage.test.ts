import { describe, expect, it } from 'vitest';
import { targetedMessage } from '../../../src/lib/eventDriven/signalSink.js';
import { emptyScope, inScope, SCOPE_LIMITS } from '../../../src/lib/eventDriven/targetScope.js';
import { MAX_MESSAGE_JSON_BYTES } from '../../../src/lib/eventDriven/workQueue.js';
import { parseWorkItem } from '../../../src/lib/reconcile/fanOut.js';

const T = 'aaaaaaaa-0000-0000-0000-000000000001';
const sub = (i: number) => `aaaaaaaa-${String(i).padStart(4, '0')}-0000-0000-000000000001`;

describe('targeted work item messages', () => {
  it('carry the work as the queue handler validates it', () => {
    const m = targetedMessage(T, { itemId: 'abc', work: { scope: { ...emptyScope(), resourceIds: [`/subscriptions/${sub(1)}`] }, evidence: [] } });
    expect(parseWorkItem(JSON.stringify(m))).toEqual(m);
    expect(parseWorkItem(Buffer.from(JSON.stringify(m)).toString('base64'))).toEqual(m);
  });

  it('fit a queue message when the scope is at its limit, still covering every named resource', () => {
    const ids = Array.from({ length: SCOPE_LIMITS.resourceIds }, (_, i) => `/subscriptions/${sub(i % 40)}/resourcegroups/a-rather-long-resource-group-name/providers/microsoft.storage/storageaccounts/account${i}`);
    const m = targetedMessage(T, { itemId: 'big', work: { scope: { ...emptyScope(), resourceIds: ids }, evidence: [] } });
    expect(Buffer.byteLength(JSON.stringify(m))).toBeLessThanOrEqual(MAX_MESSAGE_JSON_BYTES);
    const item = parseWorkItem(JSON.stringify(m));
    for (const id of ids) expect(inScope({ resourceId: id, subscriptionId: id.split('/')[2]! }, item.targeted!.work.scope)).toBe(true);
  });

  it('are refused when they mix a targeted scope with a subscription split', () => {
    const m = { ...targetedMessage(T, { itemId: 'x', work: { scope: emptyScope(), evidence: [] } }), subscriptionIds: [sub(1)] };
    expect(() => parseWorkItem(JSON.stringify(m))).toThrow(/targeted/);
  });
});
