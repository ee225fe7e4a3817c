/** Shared ingest types: what decode yields, what mappers take and return, what the batch handler writes. */

/** A JSON object as decoded from the wire (own keys only; `__proto__`/`constructor`/`prototype` never present). */
export type JsonObject = Record<string, unknown>;

/** An OCSF event: an open object, but these keys are always set by `ocsf/common.ts`. */
export interface OcsfEvent {
  class_uid: number;
  category_uid: number;
  activity_id: number;
  type_uid: number;
  severity_id: number;
  time: number;
  metadata: { uid: string; version: string; product: Record<string, unknown>; [k: string]: unknown };
  [k: string]: unknown;
}

/** Where a record came from and how it is attributed. Ingest time comes in here, never from `Date.now()`. */
export interface MapMeta {
  /** Tenant the event is attributed to: the hub binding's, or (offline) the record's own; undefined if neither. */
  tenantId: string | undefined;
  /** false in offline mode (CLI without --tenant): the tenant came from the payload, not from a binding. */
  verified: boolean;
  /**
   * The record's subscription as attribution.ts decided and checked it (`cloud.account.uid`); mappers never derive
   * it themselves. Undefined when the record names none.
   */
  subscriptionId: string | undefined;
  /** ms epoch of ingest; used as `metadata.processed_time` and as the event time of last resort. */
  ingestTime: number;
  /**
   * Event time for a record that carries none: when its message reached the hub (the same on every redelivery, so
   * the event lands in the same hourly blob), else the ingest time.
   */
  timeFallback?: number | undefined;
  /** Region of the hub binding, used when the record carries no location. */
  region?: string | undefined;
  /** MDR_INGEST_UNMAPPED=omit: leave `unmapped` out (`raw_data` always carries the whole record, so nothing is lost). */
  omitUnmapped?: boolean | undefined;
}

/**
 * One record as decode isolated it: parsed value (if parseable) plus its own original text. `isolated` is false
 * when the record's own bytes could not be cut out (its dead letter then points at the whole message). `start`/`end`
 * are the record's byte offsets in the message body, when decode cut it out of valid UTF-8 bytes.
 */
export type DecodedRecord =
  | { ok: true; value: unknown; raw: string; isolated: boolean; repaired?: 'single-quotes' | 'invalid-utf8' | undefined; start?: number; end?: number }
  | { ok: false; detail: string; raw: string; isolated: boolean; start?: number; end?: number };

export type DeadLetterReason = 'unparseable' | 'unknown-shape' | 'tenant-mismatch' | 'mapping-error';

export type MapResult = { ok: true; events: OcsfEvent[] } | { ok: false; reason: DeadLetterReason; detail: string };

/** A telemetry source we map (also the `source` segment of `metadata.uid`). */
export type SourceId = 'activity-log' | 'storage' | 'key-vault' | 'sign-in' | 'entra-audit' | 'entra-risk' | 'defender-alert' | 'azure-other';

export interface Mapper {
  source: SourceId;
  matches(record: NormalizedRecord): boolean;
  map(record: NormalizedRecord, meta: MapMeta): MapResult;
}

/**
 * A record with its common envelope fields resolved once (camelCase / PascalCase / LA column variants),
 * so mappers do not each re-implement key casing. `props` is `properties` parsed when it was a JSON string.
 */
export interface NormalizedRecord {
  rec: JsonObject;
  raw: string;
  /** Resource-log category or Log Analytics table (`Type`). Empty when absent. */
  category: string;
  /** `category` lower-cased, once per record (several mappers' `matches` compare it case-insensitively). */
  categoryLower: string;
  /** true when the record is a Log Analytics row (data export): flat PascalCase columns. */
  laForm: boolean;
  props: JsonObject;
}

/** One failed record as its message's dead letter lists it (only the first few carry why; see DeadLetter). */
export interface FailedRecord {
  /** Position of the record among the records decode found in the message. */
  index: number;
  reason: DeadLetterReason;
  detail: string;
  /** Byte range of the record in the message body, when decode could cut it out exactly. */
  start?: number | undefined;
  end?: number | undefined;
  /** The start of the record's text, or of the message's when the record could not be cut out, for humans. */
  preview: string;
}

/**
 * The dead letter of one Event Hub message (format version 2): the message's original bytes, stored once, and
 * which of its records failed. Its size grows with the message, never with records × message: per record it holds
 * one character of `outcomes`, and only the first few failed records carry a detail.
 */
export interface DeadLetter {
  version: 2;
  tenantId: string | undefined;
  hub: string | undefined;
  namespace: string | undefined;
  partitionId: string | undefined;
  sequenceNumber: number | undefined;
  offset: string | undefined;
  enqueuedTime: string | undefined;
  /** ms epoch the message was dead-lettered (the batch's ingest time). */
  deadLetteredAt: number;
  /** Records decode found in the message (a message holding none counts as one failed record). */
  records: number;
  /** One character per record, in order: see OUTCOME in deadLetter.ts ('.' = became events). */
  outcomes: string;
  /** Dead-lettered records of this message per reason. */
  byReason: Partial<Record<DeadLetterReason, number>>;
  /** The first failed records, with why. */
  failures: FailedRecord[];
  /** The message body exactly as received (serialized as `bodyBase64`). */
  body: Uint8Array;
}
