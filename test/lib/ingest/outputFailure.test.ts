import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { handleIngestBatch, type HandleIngestBatchInput } from '../../../src/lib/ingest/handleIngestBatch.js';
import { createMemoryOutputs } from '../../../src/lib/ingest/outputs/memoryOutputs.js';
import { failedRecordsOf } from '../../../src/lib/ingest/deadLetter.js';

const fx = (p: string) => readFileSync(join(import.meta.dirname, '../../fixtures', p));
// Mixed batch: good records, a junk line (unparseable) and an unknown shape.
const bodies = [fx('sign-in/elastic-integrations__test-signinlogs-sample.log'), fx('storage/shan480-dynatrace__img-log1.sh'), Buffer.from('{"hello":"world"}'), fx('key-vault/otel-collector-contrib__azureencoding__general-maximum.json')];
const messages = bodies.map((_, i) => ({ partitionId: '1', sequenceNumber: 40 + i, enqueuedTime: '2026-01-01T00:00:00' }));

function input(outputs: HandleIngestBatchInput['outputs']): HandleIngestBatchInput {
  return { bodies, messages, binding: { tenantId: undefined, hub: 'h' }, ingestTime: 5, outputs };
}

describe('output failure', () => {
  it('throws when the event write fails, so the host redelivers', async () => {
    const outputs = createMemoryOutputs();
    outputs.failNext.events = new Error('503 from storage');
    await expect(handleIngestBatch(input(outputs))).rejects.toThrow('503 from storage');
    expect(outputs.batches).toHaveLength(0);
  });

  it('throws when the dead-letter write fails and writes no events for that attempt', async () => {
    const outputs = createMemoryOutputs();
    outputs.failNext.deadLetters = new Error('dead-letter container gone');
    await expect(handleIngestBatch(input(outputs))).rejects.toThrow('dead-letter container gone');
    expect(outputs.batches).toHaveLength(0);
  });

  it('after recovery accounts for every record exactly once, by event uid or dead letter', async () => {
    const outputs = createMemoryOutputs();
    outputs.failNext.events = new Error('transient');
    await expect(handleIngestBatch(input(outputs))).rejects.toThrow();
    // The failed attempt may have written its dead letters; the redelivery writes the same ones again (same blob names).
    const res = await handleIngestBatch(input(outputs));
    const uids = outputs.batches.flatMap((b) => b.events.map((e) => e.metadata.uid));
    const dlKeys = new Set(outputs.deadLetters.flatMap((d) => failedRecordsOf(d).map((f) => `${d.partitionId}-${d.sequenceNumber}-${f.index}`)));
    expect(res.records).toBe(2 + 2 + 1 + 3);
    expect(new Set(uids).size).toBe(res.events);
    expect(dlKeys.size).toBe(res.deadLetters);
    expect(res.events + res.deadLetters).toBe(res.records);
    expect(res.byReason).toEqual({ unparseable: 1, 'unknown-shape': 1 });
  });
});
