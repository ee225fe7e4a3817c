import { repoRoot } from './repoRoot.js';
import { join } from 'node:path';
import { DEFAULT_EVENT_COMPRESSION } from '../../src/lib/ingest/outputs/blobOutputs.js';
import { buildBatches, loadTemplates } from './ingestCorpus.js';
import { runPipeline, shippedOutputs } from './ingestBench.js';

/**
 * Profiling driver for the ingest path as shipped (the bench's pipeline side: real blob outputs into a byte counter),
 * over the bench corpus in a loop.
 *   npm run build && node --cpu-prof --cpu-prof-dir=/tmp/prof dist/scripts/bench/ingestProfile.js [seconds] [none|default]
 * Summarize the profile with dist/scripts/bench/profileSummary.js /tmp/prof.
 */
const seconds = Number(process.argv[2] ?? 5);
const compression = process.argv[3] === 'none' ? ({ kind: 'none' } as const) : DEFAULT_EVENT_COMPRESSION;
const batches = buildBatches(loadTemplates(join(repoRoot(), 'test', 'fixtures')), 8, 1024 * 1024);
const end = Date.now() + seconds * 1000;
let records = 0;
const t0 = Date.now();
const c0 = process.cpuUsage();
while (Date.now() < end) records += await runPipeline(batches, shippedOutputs(compression));
const cpu = process.cpuUsage(c0);
process.stdout.write(`${records} records in ${Date.now() - t0} ms wall, ${Math.round((cpu.user + cpu.system) / 1000)} ms CPU (${Math.round(records / ((Date.now() - t0) / 1000))}/s)\n`);
