import { createHash, type Hash } from 'node:crypto';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { DeadLetter, DeadLetterReason, DecodedRecord, OcsfEvent, SourceId } from './types.js';
import { decodeBody, defaultDecodeLimits, type DecodeLimits } from './decode/decodeBody.js';
import { isFailedOutcome, MessageOutcomes } from './deadLetter.js';
import { mapRecord } from './dispatch.js';

/**
 * The ingest core: a batch of Event Hub messages in, OCSF events and dead letters out, nothing lost.
 * - Every record ends up as exactly one of: mapped (≥1 event) or dead-lettered. The identity
 *   `records = mapped + deadLettered` is checked and logged for every batch; a violation throws (a bug must not
 *   silently drop data).
 * - A message with failed records gets one dead letter holding its original bytes once and an outcome per record
 *   (deadLetter.ts): memory and dead-letter bytes grow with the message, not with records × message.
 * - Events go to the outputs one by one as they are mapped (EventWriter), so the blob output serializes and
 *   compresses each at once and a batch never holds all its event objects; nothing is delivered before the end.
 * - Outputs are awaited; if either write fails the handler throws, so the Functions host's retry policy
 *   redelivers the batch and the checkpoint does not advance. Redelivery is idempotent: event uids and blob names
 *   are deterministic.
 * - Tenant attribution comes from the binding, never from the payload (see attribution.ts).
 */
export interface IngestMessageMeta {
  partitionId?: string | undefined;
  sequenceNumber?: number | undefined;
  offset?: string | undefined;
  enqueuedTime?: string | undefined;
  /**
   * Replay of a dead letter: only its failed records are processed again, provided decode still finds the same
   * number of records in the body (otherwise the decoder changed how it splits the message, and every record is
   * processed; the mapped ones get their old uids back, so downstream deduplication absorbs them).
   */
  replay?: { records: number; outcomes: string } | undefined;
}

export interface IngestBindingInfo {
  /** undefined = offline mode (CLI without --tenant). */
  tenantId: string | undefined;
  region?: string | undefined;
  namespace?: string | undefined;
  hub?: string | undefined;
}

/** What an event output knows of a batch when it opens: where the events come from. */
export interface EventStreamInfo {
  tenantId: string | undefined;
  partitionId: string | undefined;
  firstSequenceNumber: number | undefined;
  /** Event Hubs namespace of the hub: partition sequence numbers are per hub, so a tenant's hubs in several regions repeat them. */
  namespace?: string | undefined;
}

/** A batch's events as one value (memory outputs, the CLI, tamper findings); see writeEventBatch. */
export interface EventBatch extends EventStreamInfo {
  /** Deterministic id of this batch: `<partition>-<firstSequenceNumber>`, or a hash of its event uids. */
  batchId: string;
  events: OcsfEvent[];
}

/**
 * The events of one batch, handed over one at a time as they are mapped, so an output can serialize (and compress)
 * each at once and the batch never holds all its event objects. Nothing is delivered before `end`.
 */
export interface EventWriter {
  /** Takes one event; the caller never changes it afterwards. */
  write(ev: OcsfEvent): void;
  /** Delivers every event written, under the batch id; rejects when the output failed (the handler then throws). */
  end(batchId: string): Promise<void>;
  /** Drops what was written: the batch failed before `end`. */
  abort(): void;
}

export interface IngestOutputs {
  openEvents(info: EventStreamInfo): EventWriter;
  writeDeadLetters(deadLetters: DeadLetter[]): Promise<void>;
}

/** Writes a batch that is already one value (tamper findings) through an output's writer. */
export async function writeEventBatch(output: Pick<IngestOutputs, 'openEvents'>, batch: EventBatch): Promise<void> {
  const { events, batchId, ...info } = batch;
  const w = output.openEvents(info);
  try {
    for (const ev of events) w.write(ev);
  } catch (e) {
    w.abort();
    throw e;
  }
  await w.end(batchId);
}

export interface LastSeen {
  tenantId: string | undefined;
  source: SourceId;
  category: string;
  /** Latest event time (ms epoch) of this tenant/source/category in the batch. */
  lastEventTime: number;
  count: number;
}

export interface IngestBatchResult {
  records: number;
  mapped: number;
  events: number;
  /** Dead-lettered records. */
  deadLetters: number;
  /** Dead-letter documents written (one per message with a failed record). */
  deadLetterMessages: number;
  byReason: Partial<Record<DeadLetterReason, number>>;
  lastSeen: LastSeen[];
  batchId: string;
  /** Partition of the batch and its highest sequence number, when the host gave them (stream-health progress). */
  partitionId: string | undefined;
  lastSequenceNumber: number | undefined;
}

export interface HandleIngestBatchInput {
  bodies: readonly unknown[];
  /** Per-message metadata, same order as `bodies` (missing entries are fine). */
  messages?: readonly IngestMessageMeta[];
  binding: IngestBindingInfo;
  /** The tenant's known subscriptions; absent = unknown (offline tools: only tenant ids are checked); empty = none is the tenant's. */
  subscriptionIds?: readonly string[];
  /** ms epoch; the only clock the pipeline sees. */
  ingestTime: number;
  outputs: IngestOutputs;
  logger?: Logger;
  limits?: DecodeLimits;
  /** `omit` leaves OCSF `unmapped` out of every event (MDR_INGEST_UNMAPPED); `raw_data` keeps the record whole. Default `keep`. */
  unmapped?: UnmappedPolicy;
}

export type UnmappedPolicy = 'keep' | 'omit';

export class AccountingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccountingError';
  }
}

export async function handleIngestBatch(input: HandleIngestBatchInput): Promise<IngestBatchResult> {
  const started = performance.now();
  const { binding, ingestTime, outputs } = input;
  const log = input.logger ?? silentLogger;
  const limits = input.limits ?? defaultDecodeLimits;
  const subs = input.subscriptionIds && new Set(input.subscriptionIds.map((s) => s.toLowerCase()));
  const ctx = { tenantId: binding.tenantId?.toLowerCase(), subscriptionIds: subs, ingestTime, region: binding.region, omitUnmapped: input.unmapped === 'omit' };
  const first = input.messages?.find((x) => x !== undefined);
  // Without sequence numbers (CLI) the batch id is a hash of what the batch produced, fed as events are written.
  const uids = first?.sequenceNumber === undefined ? createHash('sha256') : undefined;
  const writer = outputs.openEvents({ tenantId: ctx.tenantId, namespace: binding.namespace, partitionId: first?.partitionId, firstSequenceNumber: first?.sequenceNumber });
  let events = 0;
  const deadLetters: DeadLetter[] = [];
  const byReason: Partial<Record<DeadLetterReason, number>> = {};
  const seen = new Map<string, LastSeen>();
  let last: LastSeen | undefined;
  let records = 0;
  let mapped = 0;
  let deadLettered = 0;

  const message = (body: unknown, i: number): void => {
    const m = input.messages?.[i];
    const meta = { tenantId: ctx.tenantId, hub: binding.hub, namespace: binding.namespace, partitionId: m?.partitionId, sequenceNumber: m?.sequenceNumber, offset: m?.offset, enqueuedTime: m?.enqueuedTime, deadLetteredAt: ingestTime };
    const finish = (o: MessageOutcomes, bytes: () => Uint8Array): void => {
      const dl = o.failed > 0 ? o.deadLetter(meta, bytes()) : undefined;
      if (!dl) return;
      deadLetters.push(dl);
      deadLettered += o.failed;
      for (const [r, n] of Object.entries(dl.byReason) as [DeadLetterReason, number][]) byReason[r] = (byReason[r] ?? 0) + n;
    };
    let decoded;
    try {
      decoded = decodeBody(body, limits);
    } catch (e) {
      // decode is total by design; this is a last line of defence so one body never sinks the batch.
      const bytes = safeBytes(body);
      const o = new MessageOutcomes(1);
      o.fail(0, 'unparseable', `decoder failed: ${(e as Error).message}`, () => utf8Preview(bytes));
      records++;
      finish(o, () => bytes);
      return;
    }
    const recs = decoded.records;
    if (recs.length === 0) {
      // An empty body / empty envelope carries no record: account for the message itself so nothing vanishes unseen.
      const o = new MessageOutcomes(1);
      o.fail(0, 'unknown-shape', 'message holds no records', () => utf8Preview(decoded.bodyBytes()));
      records++;
      finish(o, decoded.bodyBytes);
      return;
    }
    const replay = m?.replay && m.replay.records === recs.length ? m.replay.outcomes : undefined;
    // A record without a time takes its message's enqueued time (fixed across redeliveries), not this run's clock.
    const enqueued = enqueuedMs(m?.enqueuedTime);
    const mctx = enqueued === undefined ? ctx : { ...ctx, timeFallback: enqueued };
    const o = new MessageOutcomes(recs.length);
    // A record's own text when it was cut out exactly, else the start of the message: what a human sees first.
    const preview = (rec: DecodedRecord) => (): string => (rec.isolated && !decoded.lossy ? rec.raw : utf8Preview(decoded.bodyBytes()));
    for (let idx = 0; idx < recs.length; idx++) {
      if (replay !== undefined && !isFailedOutcome(replay, idx)) continue;
      const rec = recs[idx]!;
      records++;
      if (!rec.ok) {
        o.fail(idx, 'unparseable', rec.detail, preview(rec), rec);
        continue;
      }
      const out = mapRecord(rec.value, rec.raw, mctx, rec.repaired);
      if (!out.ok) {
        o.fail(idx, out.reason, out.detail, preview(rec), rec);
        continue;
      }
      mapped++;
      for (const ev of out.events) {
        writer.write(ev);
        events++;
        uids?.update(ev.metadata.uid).update(',');
        const tenant = ev.metadata.tenant_uid as string | undefined;
        // Consecutive events nearly always share tenant, source and category: skip building the key for those.
        let cur = last !== undefined && last.tenantId === tenant && last.source === out.source && last.category === out.category ? last : undefined;
        if (cur === undefined) {
          const key = `${tenant ?? ''}|${out.source}|${out.category}`;
          cur = seen.get(key);
          if (!cur) {
            seen.set(key, (cur = { tenantId: tenant, source: out.source, category: out.category, lastEventTime: ev.time, count: 0 }));
          }
          last = cur;
        }
        cur.count++;
        if (ev.time > cur.lastEventTime) cur.lastEventTime = ev.time;
      }
    }
    finish(o, decoded.bodyBytes);
  };

  try {
    for (let i = 0; i < input.bodies.length; i++) message(input.bodies[i], i);
  } catch (e) {
    writer.abort();
    throw e;
  }

  const fields = { records, mapped, events, deadLetters: deadLettered, deadLetterMessages: deadLetters.length, byReason, tenantId: ctx.tenantId, hub: binding.hub };
  if (records !== mapped + deadLettered || events < mapped) {
    writer.abort();
    log.error('ingest.accounting_violation', fields);
    throw new AccountingError(`ingest accounting violated: ${records} records != ${mapped} mapped + ${deadLettered} dead-lettered (events ${events})`);
  }

  const batchId = uids === undefined ? `${first?.partitionId ?? 'p'}-${first?.sequenceNumber}` : `h${batchHash(uids, deadLetters)}`;
  // Dead letters first: if the event write then fails, the redelivery rewrites both under the same names.
  try {
    if (deadLetters.length > 0) await outputs.writeDeadLetters(deadLetters);
  } catch (e) {
    writer.abort();
    throw e;
  }
  if (events > 0) await writer.end(batchId);
  else writer.abort();
  // Events per source for the operations workbook (a few entries: one per source the batch held).
  const bySource: Partial<Record<SourceId, number>> = {};
  for (const s of seen.values()) bySource[s.source] = (bySource[s.source] ?? 0) + s.count;
  log.info('ingest.batch', { ...fields, bySource, batchId, durationMs: Math.round(performance.now() - started) });
  // Degraded, not failed: the records are kept in the dead-letter store for `azure-mdr replay`.
  if (deadLetters.length > 0) log.warn('ingest.dead_lettered', { batchId, tenantId: ctx.tenantId, hub: binding.hub, byReason });
  let lastSequenceNumber: number | undefined;
  for (const m of input.messages ?? []) if (m?.sequenceNumber !== undefined && (lastSequenceNumber === undefined || m.sequenceNumber > lastSequenceNumber)) lastSequenceNumber = m.sequenceNumber;
  return { records, mapped, events, deadLetters: deadLettered, deadLetterMessages: deadLetters.length, byReason, lastSeen: [...seen.values()], batchId, partitionId: first?.partitionId, lastSequenceNumber };
}

/** Batch id when the host gave no sequence numbers (CLI): a hash of what the batch produced (event uids, then dead letters). */
function batchHash(h: Hash, deadLetters: readonly DeadLetter[]): string {
  for (const d of deadLetters) h.update(d.body).update(d.outcomes).update(',');
  return h.digest('hex').slice(0, 24);
}

/** An enqueued time as the host gives it (ISO, sometimes without a zone: UTC), in ms; undefined when absent or bad. */
export function enqueuedMs(t: string | undefined): number | undefined {
  if (!t) return undefined;
  const ms = Date.parse(t.endsWith('Z') || /[+-]\d\d:?\d\d$/.test(t) ? t : `${t}Z`);
  return Number.isFinite(ms) ? ms : undefined;
}

const PREVIEW_BYTES = 2048;
function utf8Preview(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, PREVIEW_BYTES)).toString('utf8');
}

function safeBytes(body: unknown): Uint8Array {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  try {
    return Buffer.from(JSON.stringify(body) ?? String(body), 'utf8');
  } catch {
    return Buffer.from(String(body), 'utf8');
  }
}
