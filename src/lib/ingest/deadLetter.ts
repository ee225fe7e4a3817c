import { z } from 'zod';
import type { DeadLetter, DeadLetterReason, FailedRecord } from './types.js';

/**
 * The dead-letter format: one JSON document per Event Hub message that had at least one record fail, holding the
 * message's original bytes once (`bodyBase64`) and an outcome per record. It is one line, so dead-letter blobs and
 * `normalize --dead-letter` files concatenate into NDJSON that `azure-mdr replay` reads.
 *
 * Why not one document per failed record (format 1, still read): a record that cannot be cut out of its message
 * needs the whole body, so N such records stored the body N times (a 23 KB message with one invalid UTF-8 byte and
 * 2,000 records became 65 MB of dead letters). Here the body is stored once and a record costs one character.
 */
export const DEAD_LETTER_VERSION = 2;

/** One character per record in `outcomes`. */
export const OUTCOME = { ok: '.', unparseable: 'U', 'unknown-shape': 'S', 'tenant-mismatch': 'T', 'mapping-error': 'M' } as const;
const OUTCOME_CODE: Record<DeadLetterReason, number> = { unparseable: 0x55, 'unknown-shape': 0x53, 'tenant-mismatch': 0x54, 'mapping-error': 0x4d };
const OK_CODE = 0x2e;

/** How many failed records of one message keep their detail and preview (the rest keep their outcome character). */
export const MAX_LISTED_FAILURES = 20;
const PREVIEW_CHARS = 512;
const DETAIL_CHARS = 300;

/** Where a message came from: everything of its dead letter but the outcomes and the bytes. */
export type MessageMeta = Omit<DeadLetter, 'version' | 'records' | 'outcomes' | 'byReason' | 'failures' | 'body'>;

/**
 * Collects the outcomes of one message's records while they are mapped. Allocates nothing until a record fails,
 * then one byte per record and at most MAX_LISTED_FAILURES listed failures.
 */
export class MessageOutcomes {
  private codes: Uint8Array | undefined;
  private readonly failures: FailedRecord[] = [];
  private readonly byReason: Partial<Record<DeadLetterReason, number>> = {};
  failed = 0;

  constructor(private readonly recordCount: number) {}

  fail(index: number, reason: DeadLetterReason, detail: string, preview: () => string, span?: { start?: number | undefined; end?: number | undefined }): void {
    if (!this.codes) this.codes = new Uint8Array(this.recordCount).fill(OK_CODE);
    this.codes[index] = OUTCOME_CODE[reason];
    this.byReason[reason] = (this.byReason[reason] ?? 0) + 1;
    this.failed++;
    if (this.failures.length < MAX_LISTED_FAILURES) {
      const f: FailedRecord = { index, reason, detail: detail.length > DETAIL_CHARS ? `${detail.slice(0, DETAIL_CHARS)}…` : detail, preview: preview().slice(0, PREVIEW_CHARS) };
      if (span?.start !== undefined && span.end !== undefined) {
        f.start = span.start;
        f.end = span.end;
      }
      this.failures.push(f);
    }
  }

  /** The message's dead letter, or undefined when every record became events. */
  deadLetter(meta: MessageMeta, body: Uint8Array): DeadLetter | undefined {
    if (!this.codes) return undefined;
    return { version: DEAD_LETTER_VERSION, ...meta, records: this.recordCount, outcomes: Buffer.from(this.codes.buffer, this.codes.byteOffset, this.codes.byteLength).toString('latin1'), byReason: { ...this.byReason }, failures: this.failures, body };
  }
}

const REASON_OF_CODE = new Map<number, DeadLetterReason>(Object.entries(OUTCOME_CODE).map(([r, c]) => [c, r as DeadLetterReason]));

/** Every failed record of a dead letter, in order, with its listed detail when it has one. */
export function failedRecordsOf(dl: Pick<DeadLetter, 'outcomes' | 'failures'>): { index: number; reason: DeadLetterReason; listed: FailedRecord | undefined }[] {
  const listed = new Map(dl.failures.map((f) => [f.index, f]));
  const out: { index: number; reason: DeadLetterReason; listed: FailedRecord | undefined }[] = [];
  for (let i = 0; i < dl.outcomes.length; i++) {
    const reason = REASON_OF_CODE.get(dl.outcomes.charCodeAt(i));
    if (reason) out.push({ index: i, reason, listed: listed.get(i) });
  }
  return out;
}

export function failedCount(outcomes: string): number {
  let n = 0;
  for (let i = 0; i < outcomes.length; i++) if (outcomes.charCodeAt(i) !== OK_CODE) n++;
  return n;
}

export function isFailedOutcome(outcomes: string, index: number): boolean {
  const c = outcomes.charCodeAt(index);
  return !Number.isNaN(c) && c !== OK_CODE;
}

/**
 * The dead letter as one NDJSON line. The body is base64-encoded straight into the output buffer after the
 * metadata, so a 1 MB body costs its base64 string once on the heap and the line once off it.
 */
export function serializeDeadLetter(dl: DeadLetter): Buffer {
  const { body, ...meta } = dl;
  const head = JSON.stringify({ ...meta, bodyBytes: body.byteLength });
  const b64 = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64');
  const prefix = `${head.slice(0, -1)},"bodyBase64":"`;
  const out = Buffer.allocUnsafe(Buffer.byteLength(prefix) + b64.length + 3);
  let at = out.write(prefix, 0, 'utf8');
  at += out.write(b64, at, 'latin1');
  out.write('"}\n', at, 'latin1');
  return out;
}

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');
const reason = z.enum(['unparseable', 'unknown-shape', 'tenant-mismatch', 'mapping-error']);
const common = {
  tenantId: z.string().optional(),
  hub: z.string().optional(),
  namespace: z.string().optional(),
  partitionId: z.string().optional(),
  sequenceNumber: z.number().optional(),
  offset: z.string().optional(),
  enqueuedTime: z.string().optional(),
  /** Length of the body as written: a file cut or edited since no longer matches it. */
  bodyBytes: z.number().int().nonnegative().optional(),
  bodyBase64: base64,
};

const v2Schema = z.object({
  version: z.literal(2),
  ...common,
  deadLetteredAt: z.number().optional(),
  records: z.number().int().nonnegative(),
  outcomes: z.string().regex(/^[.USTM]*$/, "expected one of '.USTM' per record"),
  byReason: z.record(z.string(), z.number()).optional(),
  failures: z.array(z.object({ index: z.number().int().nonnegative(), reason, detail: z.string(), start: z.number().optional(), end: z.number().optional(), preview: z.string().default('') })).default([]),
}).refine((v) => v.outcomes.length === v.records, { message: 'outcomes must hold one character per record', path: ['outcomes'] });

/** Format 1: one document per failed record; `bodyBase64` is the record's bytes, or the message's when it could not be cut out. */
const v1Schema = z.object({ reason: z.string(), detail: z.string().optional(), ...common, recordIndex: z.number().optional() });

export type StoredDeadLetter = (z.infer<typeof v2Schema> & { body: Buffer }) | (z.infer<typeof v1Schema> & { version: 1; body: Buffer });

/** Parses one dead-letter line of either format; throws a ZodError (or SyntaxError) naming what is wrong. */
export function parseDeadLetter(line: string): StoredDeadLetter {
  const raw = JSON.parse(line) as unknown;
  if (typeof raw === 'object' && raw !== null && (raw as { version?: unknown }).version === 2) {
    const v = v2Schema.parse(raw);
    return { ...v, body: checkedBody(v.bodyBase64, v.bodyBytes) };
  }
  const v = v1Schema.parse(raw);
  return { ...v, version: 1, body: checkedBody(v.bodyBase64, v.bodyBytes) };
}

function checkedBody(b64: string, bytes: number | undefined): Buffer {
  const body = Buffer.from(b64, 'base64');
  if (bytes !== undefined && body.byteLength !== bytes) throw new Error(`its body is ${body.byteLength} bytes, but it was written with ${bytes}: the file was cut or edited`);
  return body;
}

