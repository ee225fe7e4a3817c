import { open } from 'node:fs/promises';
import { serializeDeadLetter } from '../lib/ingest/deadLetter.js';
import type { DeadLetter } from '../lib/ingest/types.js';

/** Writes dead letters as NDJSON, one at a time (each line is ~1.4× its message). */
export async function writeDeadLetterFile(path: string, dls: readonly DeadLetter[]): Promise<void> {
  const f = await open(path, 'w');
  try {
    for (const dl of dls) await f.write(serializeDeadLetter(dl));
  } finally {
    await f.close();
  }
}
