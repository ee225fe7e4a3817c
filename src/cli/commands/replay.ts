import { parseArgs } from 'node:util';
import { z } from 'zod';
import { failedCount, OUTCOME, parseDeadLetter, type StoredDeadLetter } from '../../lib/ingest/deadLetter.js';
import { decodeBody } from '../../lib/ingest/decode/decodeBody.js';
import { handleIngestBatch } from '../../lib/ingest/handleIngestBatch.js';
import { createMemoryOutputs } from '../../lib/ingest/outputs/memoryOutputs.js';
import { writeDeadLetterFile } from '../deadLetterFile.js';
import { readInputs, splitLines } from '../readInput.js';
import { UsageError, type CliCommand, type CliIo } from '../types.js';
import { parseIngestTime, parseTenantOptions } from './normalize.js';

const usage = `usage: azure-mdr replay [--tenant <id>] [--subscriptions a,b] [--dead-letter FILE] [--ingest-time ISO] FILE...

Re-feeds dead letters (NDJSON as written by the blob dead-letter output or 'normalize --dead-letter') through the
current decoders and mappers. Events go to stdout as NDJSON; records that still fail are written to --dead-letter.
Each dead letter holds one message's original bytes and which of its records failed: only those are replayed
(all of the message's records if the current decoder splits it differently). Dead letters of the older
one-document-per-record format are read too. A summary "R dead-lettered records in N dead letters: K events,
D still dead-lettered" goes to stderr.

  --tenant <id>        the tenant, for dead letters that record none (offline mode otherwise); a dead letter
                       recording another tenant (its hub binding's) is refused, never re-attributed
  --subscriptions a,b  the tenant's known subscription ids (only with --tenant). Without them, records refused for
                       naming a foreign subscription are not replayed, and events are labelled attribution:unverified
  --dead-letter FILE   where to write records that still fail
  --ingest-time ISO    ingest time to stamp (default: now)
`;

/**
 * The older one-document-per-record format: a document whose body is the whole message (its record could not be cut
 * out) names the record by `recordIndex`; only that one is replayed, not every record of the message once per document.
 */
function legacyOutcomes(dl: Extract<StoredDeadLetter, { version: 1 }>): string | undefined {
  if (dl.recordIndex === undefined) return undefined;
  const n = decodeBody(dl.body).records.length;
  if (n <= 1 || dl.recordIndex >= n) return undefined;
  const code = OUTCOME[dl.reason as keyof typeof OUTCOME] ?? OUTCOME.unparseable;
  return Array.from({ length: n }, (_, i) => (i === dl.recordIndex ? code : OUTCOME.ok)).join('');
}

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
  let replayedRecords = 0;
  let events = 0;
  let still = 0;
  let heldBack = 0;
  for (const input of inputs) {
    for (const [i, line] of splitLines(input.bytes).entries()) {
      let dl: StoredDeadLetter;
      try {
        dl = parseDeadLetter(line.toString('utf8'));
      } catch (e) {
        throw new UsageError(`${input.name}:${i + 1}: not a dead letter (${e instanceof z.ZodError ? e.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ') : (e as Error).message})`);
      }
      count++;
      // The tenant is the hub binding's, recorded in the dead letter: --tenant may confirm it, never change it.
      if (tenantId !== undefined && dl.tenantId !== undefined && dl.tenantId.toLowerCase() !== tenantId)
        throw new UsageError(`${input.name}:${i + 1}: this dead letter is of tenant ${dl.tenantId} (its hub's binding), not ${tenantId}: a record is never replayed as another tenant's`);
      // Without the tenant's known subscriptions nothing can re-check a record refused for naming a foreign one
      // (outcome T): those are not replayed, and every event of such a replay says its attribution is unverified.
      let outcomes = dl.version === 2 ? dl.outcomes : legacyOutcomes(dl);
      // An older-format document refused as a tenant mismatch, without its record index: held back the same way.
      if (dl.version === 1 && outcomes === undefined && dl.reason === 'tenant-mismatch' && subscriptionIds === undefined) {
        heldBack++;
        continue;
      }
      if (outcomes !== undefined && subscriptionIds === undefined && outcomes.includes(OUTCOME['tenant-mismatch'])) {
        heldBack += [...outcomes].filter((c) => c === OUTCOME['tenant-mismatch']).length;
        outcomes = outcomes.replaceAll(OUTCOME['tenant-mismatch'], OUTCOME.ok);
      }
      replayedRecords += outcomes !== undefined ? failedCount(outcomes) : 1;
      const res = await handleIngestBatch({
        bodies: [dl.body],
        messages: [{ partitionId: dl.partitionId, sequenceNumber: dl.sequenceNumber, offset: dl.offset, enqueuedTime: dl.enqueuedTime, replay: outcomes !== undefined ? { records: outcomes.length, outcomes } : undefined }],
        binding: { tenantId: tenantId ?? dl.tenantId, hub: dl.hub, namespace: dl.namespace },
        subscriptionIds,
        ingestTime,
        outputs,
      });
      events += res.events;
      still += res.deadLetters;
      for (const b of outputs.batches)
        for (const ev of b.events) {
          if (subscriptionIds === undefined) {
            const labels = (ev.metadata.labels as string[] | undefined) ?? (ev.metadata.labels = []);
            if (!labels.includes('attribution:unverified')) labels.push('attribution:unverified');
          }
          io.stdout.write(`${JSON.stringify(ev)}\n`);
        }
      outputs.batches.length = 0;
    }
  }
  if (values['dead-letter'] !== undefined) await writeDeadLetterFile(values['dead-letter'], outputs.deadLetters);
  io.stderr.write(`${replayedRecords} dead-lettered records in ${count} dead letters: ${events} events, ${still} still dead-lettered\n`);
  if (heldBack > 0) io.stderr.write(`${heldBack} record(s) refused as a tenant mismatch (a foreign tenant or subscription) were not replayed: give --tenant and --subscriptions (the tenant's known subscriptions) to check them again\n`);
  return 0;
}

export const replayCommand: CliCommand = { name: 'replay', summary: 're-run dead letters through the current mappers', usage, run };
