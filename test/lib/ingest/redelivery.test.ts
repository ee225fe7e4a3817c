import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { handleIngestBatch } from '../../../src/lib/ingest/handleIngestBatch.js';
import { createMemoryOutputs } from '../../../src/lib/ingest/outputs/memoryOutputs.js';

const fixtures = join(import.meta.dirname, '../../fixtures');
const bodies = ['activity-log', 'sign-in', 'key-vault', 'storage', 'entra-audit', 'defender-alert'].flatMap((s) =>
  readdirSync(join(fixtures, s))
    .filter((f) => !f.endsWith('.expected.json'))
    .map((f) => readFileSync(join(fixtures, s, f))),
);

async function deliver(ingestTime: number, asParsed = false) {
  const outputs = createMemoryOutputs();
  const input = asParsed ? bodies.map((b) => { try { return JSON.parse(b.toString('utf8')) as unknown; } catch { return b; } }) : bodies;
  const res = await handleIngestBatch({
    bodies: input,
    messages: input.map((_, i) => ({ partitionId: '3', sequenceNumber: 100 + i })),
    binding: { tenantId: undefined, hub: 'h' },
    ingestTime,
    outputs,
  });
  return { res, uids: outputs.batches.flatMap((b) => b.events.map((e) => e.metadata.uid)), batchIds: outputs.batches.map((b) => b.batchId) };
}

describe('redelivery', () => {
  it('yields identical event uids and batch id when the same batch is delivered again later', async () => {
    const first = await deliver(1_000);
    const again = await deliver(9_999_999);
    expect(first.uids.length).toBeGreaterThan(50);
    expect(again.uids).toEqual(first.uids);
    expect(again.batchIds).toEqual(first.batchIds);
    expect(first.batchIds).toEqual(['3-100']);
  });

  it('gives distinct uids to records with distinct ids, categories or times, and equal uids to equal records', async () => {
    const base = { time: '2022-01-24T05:10:08Z', category: 'SignInLogs', resultType: '0', properties: { id: 'a', userId: 'u' } };
    const variants = [base, { ...base, properties: { id: 'b', userId: 'u' } }, { ...base, category: 'NonInteractiveUserSignInLogs' }, { ...base, time: '2022-01-24T05:10:09Z' }, { ...base }];
    const outputs = createMemoryOutputs();
    await handleIngestBatch({ bodies: [{ records: variants }], binding: { tenantId: undefined }, ingestTime: 0, outputs });
    const uids = outputs.batches.flatMap((b) => b.events.map((e) => e.metadata.uid));
    expect(uids).toHaveLength(5);
    expect(new Set(uids.slice(0, 4)).size).toBe(4);
    expect(uids[4]).toBe(uids[0]);
  });

  it('gives a record the same uid whether the host handed over bytes or parsed JSON', async () => {
    const asBytes = await deliver(1);
    const asParsed = await deliver(1, true);
    // Files that are not one JSON document (NDJSON, junk lines) stay bytes in both runs; the rest arrive parsed.
    expect(asParsed.uids).toEqual(asBytes.uids);
  });
});
