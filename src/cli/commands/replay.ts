import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { handleIngestBatch } from '../../lib/ingest/handleIngestBatch.js';
import { createMemoryOutputs } from '../../lib/ingest/outputs/memoryOutputs.js';
import { readInputs, splitLines } from '../readInput.js';
import { UsageError, type CliCommand, type CliIo } from '../types.js';
import { parseIngestTime, parseTenantOptions } from './normalize.js';

const usage = `usage: azure-mdr replay [--tenant <id>] [--subscriptions a,b] [--dead-letter FILE] [--ingest-time ISO] FILE...

Re-feeds dead letters (NDJSON as written by the blob dead-letter output or 'normalize --dead-letter') through the
current decoders and mappers. Events go to stdout as NDJSON; records that still fail are written to --dead-letter.
A summary "N dead letters: K events, D still dead-lettered" goes to stderr.

  --tenant <id>        attribute to this tenant (default: the tenant recorded in each dead letter, i.e. the hub
                       binding's; dead letters without one are replayed in offline mode)
  --subscriptions a,b  the tenant's known subscription ids (only with --tenant)
  --dead-letter FILE   where to write records that still fail
  --ingest-time ISO    ingest time to stamp (default: now)
`;

const deadLetterSchema = z.object({
  reason: z.string(),
  detail: z.string().optional(),
  tenantId: z.string().optional(),
  hub: z.string().optional(),
  namespace: z.string().optional(),
  partitionId: z.string().optional(),
  sequenceNumber: z.number().optional(),
  offset: z.string().optional(),
  enqueuedTime: z.string().optional(),
  recordIndex: z.number().optional(),
  bodyBase64: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64'),
});

async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { tenant: { type: 'string' }, subscriptions: { type: 'string' }, 'dead-letter': { type: 'string' }, 'ingest-time': { type: 'string' } },
  });
  const { tenantId, subscriptionIds } = parseTenantOptions(values);
  const ingestTime = parseIngestTime(values['ingest-time']);
  const inputs = await readInputs(positionals, io.stdin);
  const outputs = createMemoryOutputs();
  let count = 0;
  let events = 0;
  for (const input of inputs) {
    for (const [i, line] of splitLines(input.bytes).entries()) {
      let dl: z.infer<typeof deadLetterSchema>;
      try {
        dl = deadLetterSchema.parse(JSON.parse(line.toString('utf8')));
      } catch (e) {
        throw new UsageError(`${input.name}:${i + 1}: not a dead letter (${e instanceof z.ZodError ? e.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ') : (e as Error).message})`);
      }
      count++;
      const res = await handleIngestBatch({
        bodies: [Buffer.from(dl.bodyBase64, 'base64')],
        messages: [{ partitionId: dl.partitionId, sequenceNumber: dl.sequenceNumber, offset: dl.offset, enqueuedTime: dl.enqueuedTime }],
        binding: { tenantId: tenantId ?? dl.tenantId, hub: dl.hub, namespace: dl.namespace },
        subscriptionIds: tenantId ? subscriptionIds : undefined,
        ingestTime,
        outputs,
      });
      events += res.events;
      for (const b of outputs.batches) for (const ev of b.events) io.stdout.write(`${JSON.stringify(ev)}\n`);
      outputs.batches.length = 0;
    }
  }
  const still = outputs.deadLetters;
  if (values['dead-letter'] !== undefined) await writeFile(values['dead-letter'], still.map((d) => `${JSON.stringify(d)}\n`).join(''));
  io.stderr.write(`${count} dead letters: ${events} events, ${still.length} still dead-lettered\n`);
  return 0;
}

export const replayCommand: CliCommand = { name: 'replay', summary: 're-run dead letters through the current mappers', usage, run };
