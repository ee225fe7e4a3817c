import { hash } from 'node:crypto';
import type { JsonObject, MapMeta, NormalizedRecord, OcsfEvent, SourceId } from '../types.js';
import { parseJsonSafely } from '../decode/parseJsonSafely.js';

/** Shared helpers for the OCSF mappers. All pure; regexes are compiled once here. */

export const OCSF_VERSION = '1.8.0';
/** Longest string copied into a mapped attribute; `raw_data` always keeps the full record. */
export const MAX_FIELD_CHARS = 32 * 1024;

export function isObj(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '';
}

/**
 * First present (non-null, non-empty-string) value among the keys (covers camelCase/PascalCase/LA variants).
 * Fixed arity instead of a rest parameter: this runs ~100 times per record and must not allocate.
 * Direct lookup: callers only ask for data field names, none of which live on Object.prototype.
 */
export function get(o: unknown, k1: string, k2?: string, k3?: string, k4?: string, k5?: string, k6?: string): unknown {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return undefined;
  const r = o as JsonObject;
  let v = r[k1];
  if (present(v)) return v;
  if (k2 === undefined) return undefined;
  v = r[k2];
  if (present(v)) return v;
  if (k3 === undefined) return undefined;
  v = r[k3];
  if (present(v)) return v;
  if (k4 === undefined) return undefined;
  v = r[k4];
  if (present(v)) return v;
  if (k5 === undefined) return undefined;
  v = r[k5];
  if (present(v)) return v;
  if (k6 === undefined) return undefined;
  v = r[k6];
  return present(v) ? v : undefined;
}

export function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length > MAX_FIELD_CHARS ? v.slice(0, MAX_FIELD_CHARS) : v.length === 0 ? undefined : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** Number from a number or a numeric string (Azure sends `"durationMs":"78"`, `"Level":"4"`). */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

export function int(v: unknown): number | undefined {
  const n = num(v);
  return n === undefined ? undefined : Math.trunc(n);
}

export function bool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'True' || v === 1) return true;
  if (v === 'false' || v === 'False' || v === 0) return false;
  return undefined;
}

/**
 * parseJsonSafely(text).value, remembering the last few strings: a Log Analytics row nests objects as JSON strings,
 * and normalizeRecord, the mapper and the unmapped computation each read them. Parsed values are only read, never
 * changed, so sharing them is safe.
 */
const parsedStrings: { text: string; value: unknown }[] = [];
const PARSED_CACHE = 8;
export function parsedJson(text: string): unknown {
  for (const e of parsedStrings) if (e.text === text) return e.value;
  const p = parseJsonSafely(text);
  const value = p.ok ? p.value : undefined;
  if (parsedStrings.length >= PARSED_CACHE) parsedStrings.shift();
  parsedStrings.push({ text, value });
  return value;
}

/** An object, or a JSON string holding one (LA form nests objects as strings), else undefined. */
export function obj(v: unknown): JsonObject | undefined {
  if (isObj(v)) return v;
  if (typeof v === 'string' && v.length > 1 && (v[0] === '{' || v[0] === '[')) {
    const p = parsedJson(v);
    if (isObj(p)) return p;
  }
  return undefined;
}

/** An array, or a JSON string holding one. */
export function arr(v: unknown): unknown[] | undefined {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string' && v.length > 1 && v[0] === '[') {
    const p = parsedJson(v);
    if (Array.isArray(p)) return p;
  }
  return undefined;
}

// ---- time
const ISO = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
/**
 * No time format above is longer than ~40 characters. Longer text is not a time, and is never given to the regexes:
 * US's adjacent `\s*` make a long run of spaces before a non-matching end quadratic (200 KB took 51 s).
 */
const MAX_TIME_CHARS = 64;
const US = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*(AM|PM)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const YMD_SLASH = /^(\d{4})\/(\d{1,2})\/(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

function offsetMs(z: string | undefined): number {
  if (!z || z === 'Z' || z === 'z') return 0;
  const sign = z[0] === '-' ? -1 : 1;
  const digits = z.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
}

function fromParts(y: number, mo: number, d: number, h: number, mi: number, s: number, frac: string | undefined, zone: string | undefined): number | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms) - offsetMs(zone);
  return Number.isFinite(t) ? t : undefined;
}

function isDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
const num2 = (s: string, i: number): number => (s.charCodeAt(i) - 0x30) * 10 + s.charCodeAt(i + 1) - 0x30;

/**
 * The form nearly every Azure record uses, `YYYY-MM-DDTHH:MM:SS[.f+]Z`, without the regex; undefined for anything
 * else (the general parser then decides). Same result as the ISO branch: same fields into fromParts.
 */
function isoUtcFast(s: string): number | undefined {
  const n = s.length;
  if (n < 20 || s.charCodeAt(n - 1) !== 0x5a /* Z */ || s[4] !== '-' || s[7] !== '-' || s[10] !== 'T' || s[13] !== ':' || s[16] !== ':') return undefined;
  if (!isDigits(s, 0, 4) || !isDigits(s, 5, 7) || !isDigits(s, 8, 10) || !isDigits(s, 11, 13) || !isDigits(s, 14, 16) || !isDigits(s, 17, 19)) return undefined;
  let frac: string | undefined;
  if (n > 20) {
    if (s[19] !== '.' || n < 22 || !isDigits(s, 20, n - 1)) return undefined;
    frac = s.slice(20, n - 1);
  }
  const y = Number(s.slice(0, 4));
  const t = fromParts(y, num2(s, 5), num2(s, 8), num2(s, 11), num2(s, 14), num2(s, 17), frac, 'Z');
  if (t === undefined || t < 0 || t > 7_258_118_400_000) return undefined;
  return Math.trunc(t);
}

/**
 * Milliseconds since the epoch from the time formats Azure emits: ISO 8601 with 0–9 fractional digits and
 * optional zone, US `M/D/YYYY h:mm:ss [AM|PM] [+hh:mm]`, `yyyy/MM/dd HH:mm:ss.fffffff`, RFC 1123, epoch numbers.
 * No zone means UTC (Azure logs are UTC). Returns undefined for anything else or a year outside 1970–2200.
 */
export function parseTime(v: unknown): number | undefined {
  let t: number | undefined;
  if (typeof v === 'number' && Number.isFinite(v)) t = v < 1e11 ? v * 1000 : v;
  else if (typeof v === 'string' && v.length <= MAX_TIME_CHARS) {
    const s = v.trim();
    const fast = isoUtcFast(s);
    if (fast !== undefined) return fast;
    let m = ISO.exec(s);
    if (m) t = fromParts(+m[1]!, +m[2]!, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), m[7], m[8]);
    else if ((m = US.exec(s))) {
      let h = +(m[4] ?? 0);
      const ampm = m[8]?.toUpperCase();
      if (ampm === 'PM' && h < 12) h += 12;
      if (ampm === 'AM' && h === 12) h = 0;
      t = fromParts(+m[3]!, +m[1]!, +m[2]!, h, +(m[5] ?? 0), +(m[6] ?? 0), m[7], m[9]);
    } else if ((m = YMD_SLASH.exec(s))) t = fromParts(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +(m[6] ?? 0), m[7], m[8]);
    else if (/^[A-Za-z]{3}, /.test(s)) {
      const p = Date.parse(s);
      t = Number.isNaN(p) ? undefined : p;
    }
  }
  if (t === undefined || t < 0 || t > 7_258_118_400_000) return undefined;
  return Math.trunc(t);
}

// ---- severity
/** Azure `level` (text or the numeric resource-log Level: 1 Critical … 5 Verbose) → OCSF severity_id. */
export function severityFromLevel(level: unknown): number {
  if (typeof level === 'string') {
    switch (level.toLowerCase()) {
      case 'critical':
        return 5;
      case 'error':
        return 4;
      case 'warning':
        return 3;
      case 'informational':
      case 'information':
      case 'verbose':
        return 1;
    }
    const n = num(level);
    if (n !== undefined) return severityFromLevel(n);
    return 0;
  }
  if (typeof level === 'number') return level === 1 ? 5 : level === 2 ? 4 : level === 3 ? 3 : level === 4 || level === 5 ? 1 : 0;
  return 0;
}

/** Alert severity text (Defender: Informational/Low/Medium/High, sometimes Critical) → OCSF severity_id. */
export function severityFromAlert(sev: unknown): number {
  switch (typeof sev === 'string' ? sev.toLowerCase() : '') {
    case 'informational':
    case 'information':
      return 1;
    case 'low':
      return 2;
    case 'medium':
      return 3;
    case 'high':
      return 4;
    case 'critical':
      return 5;
    default:
      return 0;
  }
}

export const SEVERITY_CAPTION: Record<number, string> = { 0: 'Unknown', 1: 'Informational', 2: 'Low', 3: 'Medium', 4: 'High', 5: 'Critical', 6: 'Fatal', 99: 'Other' };

// ---- Azure resource ids
export interface ResourceIdParts {
  subscriptionId?: string | undefined;
  resourceGroup?: string | undefined;
  provider?: string | undefined;
  tenantId?: string | undefined;
  /** Last `type/name` segment pair, e.g. type `Microsoft.KeyVault/vaults`, name `kv1`. */
  type?: string | undefined;
  name?: string | undefined;
}
const SUB = /\/subscriptions\/([^/]+)/i;
const RG = /\/resourcegroups\/([^/]+)/i;
// `s`: without it `.` stops at a line break and `$` fails, so every `/providers/` before one rescans to the end
// (quadratic: 208 KB of `/providers/a/` and a newline took 1.3 s).
const PROVIDER = /\/providers\/([^/]+)\/(.+)$/is;
const TENANT = /^\/tenants\/([^/]+)/i;

const NO_PARTS: Readonly<ResourceIdParts> = Object.freeze({});
/** A stream names the same few resources over and over (and attribution parses them again): parse each once. */
const resourceIds = new Map<string, Readonly<ResourceIdParts>>();
const RESOURCE_ID_CACHE = 4096;
/** Longer ids are parsed, not kept: the cache holds at most RESOURCE_ID_CACHE × this many characters (8 MiB of UTF-16). */
const CACHED_ID_CHARS = 1024;

/** The parts of an ARM resource id; the result is shared (frozen). */
export function parseResourceId(id: unknown): Readonly<ResourceIdParts> {
  if (typeof id !== 'string' || id[0] !== '/') return NO_PARTS;
  if (id.length > CACHED_ID_CHARS) return Object.freeze(parseResourceIdOnce(id));
  let parts = resourceIds.get(id);
  if (parts === undefined) {
    parts = Object.freeze(parseResourceIdOnce(id));
    // Bounded (ids come from the payload): start over when full, which keeps the ids a stream currently names.
    if (resourceIds.size >= RESOURCE_ID_CACHE) resourceIds.clear();
    resourceIds.set(id, parts);
  }
  return parts;
}

function parseResourceIdOnce(id: string): ResourceIdParts {
  const out: ResourceIdParts = {};
  const sub = SUB.exec(id);
  if (sub) out.subscriptionId = sub[1]!.toLowerCase();
  const rg = RG.exec(id);
  if (rg) out.resourceGroup = rg[1];
  const t = TENANT.exec(id);
  if (t) out.tenantId = t[1]!.toLowerCase();
  const p = PROVIDER.exec(id);
  if (p) {
    out.provider = p[1];
    const segs = p[2]!.split('/');
    // provider/type1/name1/type2/name2 → type = provider/type1/type2, name = last name
    const types: string[] = [];
    for (let i = 0; i + 1 < segs.length; i += 2) types.push(segs[i]!);
    if (types.length > 0) out.type = `${p[1]}/${types.join('/')}`;
    if (segs.length >= 2) out.name = segs[segs.length % 2 === 0 ? segs.length - 1 : segs.length - 2];
  }
  return out;
}

// ---- identity
/** Deterministic event id: SHA-256 over tenant, source and the record's own identity fields. */
export function eventUid(tenant: string | undefined, source: SourceId, parts: (string | number | undefined)[], record: unknown): string {
  // Same text as parts.filter(usable).join('\u0000'), without the intermediate array (runs once per record).
  let identity = '';
  let any = false;
  for (const p of parts) {
    if (p === undefined || p === '') continue;
    identity = any ? `${identity}\u0000${p}` : String(p);
    any = true;
  }
  // Without id fields of its own, the record's canonical JSON (sorted keys) is its identity: the same record
  // hashes the same whether it arrived pretty-printed, compact, or already parsed by the Functions host.
  if (!any) identity = `canonical\u0000${canonicalJson(record)}`;
  return hash('sha256', `${tenant ?? ''}\u0000${source}\u0000${identity}`, 'hex').slice(0, 32);
}

/** JSON with object keys sorted at every level (depth is already capped by decode). */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

// ---- building events
export interface EventCore {
  classUid: number;
  className: string;
  categoryUid: number;
  categoryName: string;
  activityId: number;
  activityName: string;
  severityId: number;
  /** Source event time (ms); undefined → ingest time is used and flagged. */
  time: number | undefined;
  uid: string;
  source: SourceId;
  /** Product feature, e.g. "Activity Log", "Entra ID Sign-in Logs". */
  feature: string;
  productName: string;
  logName: string;
  region: string | undefined;
  correlationUid?: string | undefined;
  /** The record's own id in its source system (`metadata.original_event_uid`). */
  originalUid?: string | undefined;
  originalTime?: string | undefined;
  eventCode?: string | undefined;
}

/**
 * The class-specific top-level attributes a mapper may set. buildEvent copies exactly these into the event, so a
 * mapper passing a fresh object literal gets a compile error for an attribute not listed here (add it here and in
 * buildEvent). Empty objects/arrays are dropped, like compact().
 */
export interface EventBody {
  actor?: JsonObject | undefined;
  api?: JsonObject | undefined;
  user?: JsonObject | undefined;
  group?: JsonObject | undefined;
  entity?: JsonObject | undefined;
  policy?: JsonObject | undefined;
  service?: JsonObject | undefined;
  finding_info?: JsonObject | undefined;
  /** Detection Finding: what the detection saw (identity risk detections: the user and the source endpoint). */
  evidences?: JsonObject[] | undefined;
  risk_level_id?: number | undefined;
  risk_level?: string | undefined;
  risk_details?: string | undefined;
  src_endpoint?: JsonObject | undefined;
  device?: JsonObject | undefined;
  http_request?: JsonObject | undefined;
  http_response?: JsonObject | undefined;
  resources?: JsonObject[] | undefined;
  observables?: JsonObject[] | undefined;
  remediation?: JsonObject | undefined;
  session?: JsonObject | undefined;
  auth_protocol_id?: number | undefined;
  auth_protocol?: string | undefined;
  auth_factors?: JsonObject[] | undefined;
  is_mfa?: boolean | undefined;
  is_remote?: boolean | undefined;
  logon_type_id?: number | undefined;
  logon_type?: string | undefined;
  status_id?: number | undefined;
  status?: string | undefined;
  status_code?: string | undefined;
  status_detail?: string | undefined;
  message?: string | undefined;
  duration?: number | undefined;
  start_time?: number | undefined;
  end_time?: number | undefined;
}

const CATEGORY_NAMES: Record<number, string> = { 0: 'Uncategorized', 2: 'Findings', 3: 'Identity & Access Management', 6: 'Application Activity' };
export function categoryName(uid: number): string {
  return CATEGORY_NAMES[uid] ?? 'Unknown';
}

/**
 * Interns values derived from a few inputs (`type_name`, features), so events share one copy
 * instead of building a concatenation per record that JSON.stringify then has to flatten. Bounded: activity names can come from the
 * payload, and a hostile stream must not grow the cache without limit.
 */
const CACHED_KEY_CHARS = 256;
class BoundedCache<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string, make: () => V): V {
    const hit = this.map.get(key);
    if (hit !== undefined) return hit;
    const v = make();
    // Long keys are payload text, not the few names a stream repeats: kept, they would pin up to max × their size.
    if (this.map.size < this.max && key.length <= CACHED_KEY_CHARS) this.map.set(key, v);
    return v;
  }
}
const typeNames = new Map<number, BoundedCache<string>>();
function typeName(classUid: number, className: string, activityName: string): string {
  let c = typeNames.get(classUid);
  if (!c) typeNames.set(classUid, (c = new BoundedCache<string>(256)));
  return c.get(activityName, () => `${className}: ${activityName}`);
}
const strings = new Map<string, BoundedCache<string>>();
/**
 * `prefix + value + suffix` as one shared string (bounded cache per prefix), e.g. a feature name built from a
 * category. A prefix must always come with the same suffix.
 */
export function interned(prefix: string, value: string, suffix = ''): string {
  let c = strings.get(prefix);
  if (!c) strings.set(prefix, (c = new BoundedCache<string>(256)));
  return c.get(value, () => prefix + value + suffix);
}

/** `v` unless it is an empty array or an object without a defined value (compact() at the top level). */
function some<T>(v: T): T | undefined {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.length > 0 ? v : undefined;
  return isEmpty(v as Record<string, unknown>) ? undefined : v;
}

/**
 * The attributes every event carries. `raw_data` is the record's original text (cut from the message, not
 * re-serialized). Offline attribution is marked in `metadata.labels` (a schema-defined, queryable place) rather than in
 * `unmapped`, which is reserved for source attributes that are not mapped (see unmappedOf).
 *
 * Every event is one object literal of the same shape (absent attributes are undefined, which JSON.stringify omits),
 * and the body's attributes are copied into it with for…in: spreading each mapper's body made V8 define the trailing
 * properties through a megamorphic runtime path, and reading a fixed list of names from bodies of a dozen shapes
 * missed the property caches on every absent name.
 */
export function buildEvent(core: EventCore, meta: MapMeta, raw: string, body: EventBody, unmapped: JsonObject | undefined): OcsfEvent {
  // Most events carry no label: allocate the array only when one applies.
  let labels: string[] | undefined;
  if (!meta.verified) (labels ??= []).push('attribution:unverified');
  if (core.time === undefined) (labels ??= []).push('time:ingest');
  const tenant = meta.tenantId || undefined;
  const region = core.region ?? meta.region;
  const ev: OcsfEvent & EventBody = {
    class_uid: core.classUid,
    class_name: core.className,
    category_uid: core.categoryUid,
    category_name: core.categoryName,
    activity_id: core.activityId,
    activity_name: core.activityName,
    type_uid: core.classUid * 100 + core.activityId,
    type_name: typeName(core.classUid, core.className, core.activityName),
    severity_id: core.severityId,
    severity: SEVERITY_CAPTION[core.severityId] ?? 'Unknown',
    time: core.time ?? meta.timeFallback ?? meta.ingestTime,
    metadata: {
      uid: core.uid,
      original_event_uid: core.originalUid || undefined,
      version: OCSF_VERSION,
      // `product` and `profiles` are new objects per event, not one shared frozen object: no event can change another
      // through them, and V8's JSON.stringify takes its slow path for frozen objects and arrays (with them frozen and
      // shared it spent 11–12% longer serializing the bench's events on Node 22, 6% on Node 20; bench/RESULTS.md).
      product: { name: core.productName, vendor_name: 'Microsoft', feature: { name: core.feature } },
      profiles: ['cloud'],
      log_name: core.logName,
      log_provider: 'Azure Event Hubs',
      processed_time: meta.ingestTime,
      tenant_uid: tenant,
      correlation_uid: core.correlationUid || undefined,
      original_time: core.originalTime || undefined,
      event_code: core.eventCode || undefined,
      labels,
    },
    cloud: {
      provider: 'Azure',
      // Only attribution decides the subscription (attribution.ts): a mapper cannot name one it did not check.
      account: meta.subscriptionId ? { uid: meta.subscriptionId, type_id: 13, type: 'Azure Subscription' } : undefined,
      org: tenant ? { uid: tenant } : undefined,
      region: region || undefined,
    },
    actor: undefined,
    api: undefined,
    user: undefined,
    group: undefined,
    entity: undefined,
    policy: undefined,
    service: undefined,
    finding_info: undefined,
    evidences: undefined,
    risk_level_id: undefined,
    risk_level: undefined,
    risk_details: undefined,
    src_endpoint: undefined,
    device: undefined,
    http_request: undefined,
    http_response: undefined,
    resources: undefined,
    observables: undefined,
    remediation: undefined,
    session: undefined,
    auth_protocol_id: undefined,
    auth_protocol: undefined,
    auth_factors: undefined,
    is_mfa: undefined,
    is_remote: undefined,
    logon_type_id: undefined,
    logon_type: undefined,
    status_id: undefined,
    status: undefined,
    status_code: undefined,
    status_detail: undefined,
    message: undefined,
    duration: undefined,
    start_time: undefined,
    end_time: undefined,
    raw_data: raw,
    unmapped: unmapped !== undefined && meta.omitUnmapped !== true && hasOwnKey(unmapped) ? unmapped : undefined,
  };
  const into = ev as Record<string, unknown>;
  for (const k in body) {
    const v = (body as Record<string, unknown>)[k];
    // Empty objects/arrays are dropped, like compact().
    if (v !== undefined) into[k] = some(v);
  }
  // `host` is the profile that admits `device` (and `actor` in findings); list it only when used.
  if (ev.device !== undefined || (core.classUid === 2004 && ev.actor !== undefined)) ev.metadata.profiles = ['cloud', 'host'];
  return ev;
}

/**
 * Returns undefined when `o` holds nothing (only undefined values, empty objects/arrays), else `o` with empty
 * objects/arrays set to undefined. Keys are never deleted (delete turns V8 objects into slow dictionaries);
 * JSON.stringify omits undefined values, so they never reach the output.
 */
export function compact<T extends Record<string, unknown>>(o: T): T | undefined {
  let any = false;
  for (const k in o) {
    const v = o[k];
    if (v === undefined) continue;
    if ((Array.isArray(v) && v.length === 0) || (isObj(v) && isEmpty(v))) (o as Record<string, unknown>)[k] = undefined;
    else any = true;
  }
  return any ? o : undefined;
}

/** Object.keys(o).length > 0 without building the key array. */
export function hasOwnKey(o: object): boolean {
  for (const k in o) if (Object.hasOwn(o, k)) return true;
  return false;
}

function isEmpty(o: Record<string, unknown>): boolean {
  for (const k in o) if (o[k] !== undefined) return false;
  return true;
}

// ---- unmapped
/**
 * What a mapper maps from one source object, for `unmapped` — in OCSF, the source attributes that were not mapped.
 * A key is `true` when the mapper carries it into an OCSF attribute (or drops it deliberately as redundant with one it
 * does carry; each mapper's spec says which), or a nested spec when only some of its members are mapped (for an array,
 * the nested spec applies to each element; for a string holding JSON, to the parsed value). Keys not listed are
 * unmapped. A key counts as mapped when the mapper reads it into an attribute, even if this record's value was
 * unusable (raw_data keeps it). Alternative spellings of one field (`resultType`/`ResultType`) are all listed.
 * In a nested spec, the key `''` says that a scalar in place of the object is mapped as a whole (an `identity` that
 * is just the caller's name); otherwise such a scalar is unmapped.
 */
export interface ConsumedDef {
  readonly [key: string]: true | ConsumedDef;
}
/** A compiled ConsumedDef (see consumed()). */
export class Consumed {
  /**
   * Learned from the objects last reduced with this spec: when most of their members stay unmapped, cloning the
   * object and clearing the mapped members is cheaper than adding the unmapped ones one by one to a new object (each
   * addition is a hidden-class transition). Only speed depends on it, never the output.
   */
  wide = false;
  constructor(private readonly keys: ReadonlyMap<string, true | Consumed>) {}
  get(key: string): true | Consumed | undefined {
    return this.keys.get(key);
  }
}

export function consumed(...defs: ConsumedDef[]): Consumed {
  const m = new Map<string, true | Consumed>();
  for (const k of new Set(defs.flatMap((d) => Object.keys(d)))) {
    const parts = defs.map((d) => d[k]).filter((v) => v !== undefined);
    // Fully mapped in one def wins over partly mapped in another.
    m.set(k, parts.includes(true) ? true : consumed(...(parts as ConsumedDef[])));
  }
  return new Consumed(m);
}

/** Unmapped members above which a spec switches to cloning, and below which it switches back. */
const WIDE = 12;
const NARROW = 6;

/**
 * The attributes of `src` (an object, or a JSON string holding one) that `spec` does not map, with partly mapped
 * members reduced to their unmapped rest; undefined when nothing is left. Null and empty-string values are not
 * carried. Values are shared with the source record, not copied. The result may hold members set to undefined (they
 * are absent once serialized).
 */
export function unmappedOf(src: unknown, spec: Consumed): JsonObject | undefined {
  const o = isObj(src) ? src : obj(src);
  if (o === undefined) return undefined;
  return spec.wide ? unmappedByClone(o, spec) : unmappedByBuild(o, spec);
}

// No hasOwn checks below: `o` comes from JSON.parse, and Object.prototype has no enumerable property.
function unmappedByBuild(o: JsonObject, spec: Consumed): JsonObject | undefined {
  let out: JsonObject | undefined;
  let n = 0;
  for (const k in o) {
    const v = o[k];
    if (v === undefined || v === null || v === '') continue;
    const s = spec.get(k);
    if (s === true) continue;
    const rest = s === undefined ? v : restOf(v, s);
    if (rest === undefined) continue;
    (out ??= {})[k] = rest;
    n++;
  }
  if (n > WIDE) spec.wide = true;
  return out;
}

function unmappedByClone(o: JsonObject, spec: Consumed): JsonObject | undefined {
  const out: JsonObject = { ...o };
  let n = 0;
  for (const k in o) {
    const v = o[k];
    if (v === undefined) continue;
    if (v === null || v === '') {
      out[k] = undefined;
      continue;
    }
    const s = spec.get(k);
    if (s === true) {
      out[k] = undefined;
      continue;
    }
    if (s !== undefined) {
      const rest = restOf(v, s);
      out[k] = rest;
      if (rest === undefined) continue;
    }
    n++;
  }
  if (n < NARROW) spec.wide = false;
  return n > 0 ? out : undefined;
}

function restOf(v: unknown, spec: Consumed): unknown {
  const list = Array.isArray(v) ? v : typeof v === 'string' ? arr(v) : undefined;
  if (list !== undefined) {
    let out: unknown[] | undefined;
    const scalarMapped = spec.get('') === true;
    for (const el of list) {
      const r = isObj(el) ? unmappedOf(el, spec) : el === null || el === '' || scalarMapped ? undefined : el;
      if (r !== undefined) (out ??= []).push(r);
    }
    return out;
  }
  const o = isObj(v) ? v : obj(v);
  if (o !== undefined) return unmappedOf(o, spec);
  // A scalar where an object was expected: unmapped, unless the spec maps the scalar form too.
  return spec.get('') === true ? undefined : v;
}

/**
 * Puts `value` into `unmapped` (creating it) as member `name` of the record's top level, or of its `properties` when
 * `inProperties`: for members a spec marks as mapped that a mapper then could not map for this record.
 */
export function putUnmapped(unmapped: JsonObject | undefined, inProperties: boolean, name: string, value: unknown): JsonObject {
  const out = unmapped ?? {};
  if (!inProperties) out[name] = value;
  else (isObj(out.properties) ? out.properties : (out.properties = {}))[name] = value;
  return out;
}

/** Record time: `time`, then LA `TimeGenerated`, then up to two per-source alternatives. */
export function recordTime(r: NormalizedRecord, alt1?: unknown, alt2?: unknown): { time: number | undefined; original: string | undefined } {
  const own = get(r.rec, 'time', 'Time', 'TimeGenerated', 'timeGenerated');
  const t0 = parseTime(own);
  if (t0 !== undefined) return { time: t0, original: typeof own === 'string' ? own : undefined };
  const t1 = parseTime(alt1);
  if (t1 !== undefined) return { time: t1, original: typeof alt1 === 'string' ? alt1 : undefined };
  const t2 = parseTime(alt2);
  if (t2 !== undefined) return { time: t2, original: typeof alt2 === 'string' ? alt2 : undefined };
  const first = own !== undefined ? own : alt1 !== undefined ? alt1 : alt2;
  return { time: undefined, original: typeof first === 'string' ? first : undefined };
}

/** Strips SAS signatures and other secrets from a URL before it goes into a mapped attribute. */
const SECRET_PARAM = /([?&](?:sig|signature|code|client_secret|access_token)=)[^&#]*/gi;
export function redactUrl(u: string): string {
  return u.replace(SECRET_PARAM, '$1REDACTED');
}

const IPV4_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const IPV6 = /^[0-9a-f:]+(?:%\w+)?$/i;
/** A caller IP usable as OCSF `ip_t` (strips `:port`; rejects redacted `XX.XX.XX.XX`, CIDRs, names). */
export function ipOf(v: unknown): { ip?: string; port?: number } {
  const s = str(v);
  if (!s) return {};
  const m = IPV4_PORT.exec(s);
  if (m) {
    // OCSF port_t is 0-65535: a larger number in the text is no port (the address still is one).
    const port = Number(s.slice(m[1]!.length + 1));
    return port <= 65535 ? { ip: m[1]!, port } : { ip: m[1]! };
  }
  if (IPV4.test(s) || (s.includes(':') && IPV6.test(s))) return { ip: s };
  return {};
}
