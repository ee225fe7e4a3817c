import { parseArgs } from 'node:util';
import { handleIngestBatch } from '../../lib/ingest/handleIngestBatch.js';
import { writeDeadLetterFile } from '../deadLetterFile.js';
import { createMemoryOutputs } from '../../lib/ingest/outputs/memoryOutputs.js';
import { readInputs, splitLines } from '../readInput.js';
import { UsageError, type CliCommand, type CliIo } from '../types.js';
import { GUID_PATTERN } from '../../lib/guid.js';


export const usage = `usage: azure-mdr normalize [--tenant <id>] [--subscriptions a,b] [--dead-letter FILE] [--lines] [--ingest-time ISO] [--omit-unmapped] [FILE...]

Normalizes Azure telemetry (Event Hub message bodies) to OCSF 1.8 and prints one event per line (NDJSON) on stdout.
Each FILE is one message body; with --lines every line of the input is one body. Without FILE, stdin is read.
A summary "N records: K events, D dead-lettered" goes to stderr.

  --tenant <id>          the tenant the data belongs to (as a hub binding would say). Records naming another tenant,
                         or a subscription outside --subscriptions, are dead-lettered (tenant-mismatch).
                         Without --tenant: offline mode, each event takes the record's own tenant and is labelled
                         metadata.labels "attribution:unverified".
  --subscriptions a,b    the tenant's known subscription ids (only with --tenant); without it subscriptions are not checked
  --dead-letter FILE     write dead letters to FILE: one line per message with a failed record, holding the
                         message's bytes and each record's outcome (the format 'azure-mdr replay' reads)
  --lines                one body per input line
  --ingest-time ISO      ingest time to stamp (default: now); fixes metadata.processed_time for reproducible output
  --omit-unmapped        leave OCSF unmapped out of each event, as an app with MDR_INGEST_UNMAPPED=omit does
                         (raw_data still holds the whole record)
`;

/** `subscriptionIds` is undefined when --subscriptions is not given: then subscriptions are not checked (offline use). */
export function parseTenantOptions(values: { tenant?: string | undefined; subscriptions?: string | undefined }): { tenantId: string | undefined; subscriptionIds: string[] | undefined } {
  if (values.tenant !== undefined && !GUID_PATTERN.test(values.tenant)) throw new UsageError(`--tenant must be a tenant GUID, got '${values.tenant}'`);
  const subscriptionIds = (values.subscriptions ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (subscriptionIds.length > 0 && values.tenant === undefined) throw new UsageError('--subscriptions needs --tenant');
  const bad = subscriptionIds.find((s) => !GUID_PATTERN.test(s));
  if (bad) throw new UsageError(`--subscriptions: '${bad}' is not a subscription GUID`);
  return { tenantId: values.tenant?.toLowerCase(), subscriptionIds: subscriptionIds.length > 0 ? subscriptionIds : undefined };
}

export function parseIngestTime(v: string | undefined): number {
  if (v === undefined) return Date.now();
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new UsageError(`--ingest-time must be an ISO 8601 time, got '${v}'`);
  return t;
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      tenant: { type: 'string' },
      subscriptions: { type: 'string' },
      'dead-letter': { type: 'string' },
      lines: { type: 'boolean', default: false },
      'ingest-time': { type: 'string' },
      'omit-unmapped': { type: 'boolean', default: false },
    },
  });
  const { tenantId, subscriptionIds } = parseTenantOptions(values);
  const ingestTime = parseIngestTime(values['ingest-time']);
  const inputs = await readInputs(positionals, io.stdin);
  const bodies: Buffer[] = values.lines ? inputs.flatMap((i) => splitLines(i.bytes)) : inputs.map((i) => i.bytes);
  const outputs = createMemoryOutputs();
  let records = 0;
  let mapped = 0;
  let events = 0;
  // Chunks bound memory for large --lines inputs; each chunk is one "batch".
  const CHUNK = 500;
  for (let i = 0; i < bodies.length; i += CHUNK) {
    const res = await handleIngestBatch({ bodies: bodies.slice(i, i + CHUNK), binding: { tenantId }, subscriptionIds, ingestTime, outputs, unmapped: values['omit-unmapped'] ? 'omit' : 'keep' });
    records += res.records;
    mapped += res.mapped;
    events += res.events;
    for (const b of outputs.batches) for (const ev of b.events) io.stdout.write(`${JSON.stringify(ev)}\n`);
    outputs.batches.length = 0;
  }
  const dls = outputs.deadLetters;
  const deadLettered = records - mapped;
  if (values['dead-letter'] !== undefined) await writeDeadLetterFile(values['dead-letter'], dls);
  io.stderr.write(`${records} records: ${events} events, ${deadLettered} dead-lettered${deadLettered > 0 && values['dead-letter'] === undefined ? ' (use --dead-letter FILE to keep them)' : ''}\n`);
  return 0;
}

export const normalizeCommand: CliCommand = { name: 'normalize', summary: 'normalize Azure telemetry to OCSF 1.8 NDJSON (offline or as a tenant)', usage, run };
