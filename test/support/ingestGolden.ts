import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { handleIngestBatch, type UnmappedPolicy } from '../../src/lib/ingest/handleIngestBatch.js';
import { createMemoryOutputs } from '../../src/lib/ingest/outputs/memoryOutputs.js';
import type { OcsfEvent } from '../../src/lib/ingest/types.js';

/** The fixture folders of ingest inputs (test/fixtures/<source>/, SOURCES.md); each input's expected output sits beside it. */
export const GOLDEN_SOURCES = ['activity-log', 'storage', 'key-vault', 'sign-in', 'entra-audit', 'entra-risk', 'defender-alert', 'edge-cases'];
export const GOLDEN_ROOT = join(import.meta.dirname, '../fixtures');

/** Every golden input file, by source folder. */
export function goldenInputs(): { source: string; file: string; path: string }[] {
  return GOLDEN_SOURCES.flatMap((s) =>
    readdirSync(join(GOLDEN_ROOT, s))
      .filter((f) => !f.endsWith('.expected.json'))
      .map((f) => ({ source: s, file: f, path: join(GOLDEN_ROOT, s, f) })),
  );
}

/** Fixed ingest time for golden outputs: expected files must not contain volatile values. */
export const GOLDEN_INGEST_TIME = Date.UTC(2026, 0, 1, 0, 0, 0);

export interface GoldenOutput {
  records: number;
  events: OcsfEvent[];
  deadLetters: { reason: string; detail: string; recordIndex: number | undefined; preview: string }[];
}

/** Runs one fixture file as one Event Hub message body through the batch handler (offline attribution). */
export async function runGolden(body: Uint8Array, tenantId?: string, unmapped?: UnmappedPolicy): Promise<GoldenOutput> {
  const outputs = createMemoryOutputs();
  const res = await handleIngestBatch({
    bodies: [body],
    messages: [{ partitionId: '0', sequenceNumber: 1, offset: '0', enqueuedTime: '2026-01-01T00:00:00' }],
    binding: { tenantId, hub: 'golden' },
    ingestTime: GOLDEN_INGEST_TIME,
    outputs,
    unmapped,
  });
  return {
    records: res.records,
    events: outputs.batches.flatMap((b) => b.events),
    // Golden files hold every failed record; a fixture never has more than the listed maximum per message.
    deadLetters: outputs.deadLetters.flatMap((d) => d.failures.map((f) => ({ reason: f.reason, detail: f.detail, recordIndex: f.index, preview: f.preview.slice(0, 160) }))),
  };
}
