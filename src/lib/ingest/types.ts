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
  /** Region of the hub binding, used when the record carries no location. */
  region?: string | undefined;
}

/**
 * One record as decode isolated it: parsed value (if parseable) plus its own original text. `isolated` is false
 * when the record's own bytes could not be cut out (then dead letters carry the whole message's bytes).
 */
export type DecodedRecord =
  | { ok: true; value: unknown; raw: string; isolated: boolean; repaired?: 'single-quotes' | undefined }
  | { ok: false; detail: string; raw: string; isolated: boolean };

export type DeadLetterReason = 'unparseable' | 'unknown-shape' | 'tenant-mismatch' | 'mapping-error';

export type MapResult = { ok: true; events: OcsfEvent[] } | { ok: false; reason: DeadLetterReason; detail: string };

/** A telemetry source we map (also the `source` segment of `metadata.uid`). */
export type SourceId = 'activity-log' | 'storage' | 'key-vault' | 'sign-in' | 'entra-audit' | 'defender-alert' | 'azure-other';

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

export interface DeadLetter {
  reason: DeadLetterReason;
  detail: string;
  tenantId: string | undefined;
  hub: string | undefined;
  namespace: string | undefined;
  partitionId: string | undefined;
  sequenceNumber: number | undefined;
  offset: string | undefined;
  enqueuedTime: string | undefined;
  /** Index of the record within its message (undefined when the whole body failed). */
  recordIndex: number | undefined;
  /** Original bytes of the record (or of the message when the record could not be isolated). */
  bodyBase64: string;
  /** First 2 KiB of the bytes as UTF-8, for humans. */
  preview: string;
  /** ms epoch the record was dead-lettered (the batch's ingest time). */
  deadLetteredAt: number;
}
