import { repoRoot } from './repoRoot.js';
import { join } from 'node:path';
import { buildBatches, loadTemplates } from './ingestCorpus.js';
import { runPipeline } from './ingestBench.js';

/**
 * Profiling driver for the ingest path: runs the full pipeline (with serialization) over the bench corpus in a loop.
 *   npm run build && node --cpu-prof --cpu-prof-dir=/tmp/prof dist/scripts/bench/ingestProfile.js [seconds]
 */
const seconds = Number(process.argv[2] ?? 5);
const batches = buildBatches(loadTemplates(join(repoRoot(), 'test', 'fixtures')), 8, 1024 * 1024);
const sink = { n: 0 };
const outputs = {
  writeEvents: (b: { events: unknown[] }) => {
    for (const ev of b.events) sink.n += JSON.stringify(ev).length;
    return Promise.resolve();
  },
  writeDeadLetters: () => Promise.resolve(),
};
const end = Date.now() + seconds * 1000;
let records = 0;
const t0 = Date.now();
while (Date.now() < end) records += await runPipeline(batches, outputs);
process.stdout.write(`${records} records in ${Date.now() - t0} ms (${Math.round(records / ((Date.now() - t0) / 1000))}/s)\n`);
