import schemaJson from './schema/ocsf-1.8.0.json' with { type: 'json' };

/**
 * OCSF 1.8.0 event validator over the compact schema in `schema/ocsf-1.8.0.json` (generated from the resolved
 * class file by scripts/generateOcsfSchema.ts). Checks: the class exists; class_uid/category_uid/type_uid agree;
 * required attributes (profile attributes only when the profile is listed in metadata.profiles); no unknown
 * attributes; enum ids; value types; object constraints (at_least_one / just_one), recursively into objects.
 */
interface Attr {
  t: string;
  r?: number;
  o?: string;
  a?: number;
  e?: Record<string, string>;
  p?: string[];
}
interface Constraints {
  at_least_one?: string[];
  just_one?: string[];
}
interface ClassDef {
  uid: number;
  caption: string;
  category_uid: number;
  profiles: string[];
  constraints?: Constraints;
  attributes: Record<string, Attr>;
}
interface ObjectDef {
  constraints?: Constraints;
  attributes: Record<string, Attr>;
}
interface Schema {
  ocsf_version: string;
  classes: Record<string, ClassDef>;
  objects: Record<string, ObjectDef>;
}

const schema = schemaJson as unknown as Schema;
const byUid = new Map<number, ClassDef>();
for (const c of Object.values(schema.classes)) byUid.set(c.uid, c);

export const OCSF_SCHEMA_VERSION = schema.ocsf_version;

export interface ValidationResult {
  ok: boolean;
  errors: string[];
}

const IP = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*(?:%\w+)?)$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const MAX_DEPTH = 8;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkScalar(path: string, a: Attr, v: unknown, errors: string[]): void {
  switch (a.t) {
    case 'integer_t':
    case 'long_t':
    case 'timestamp_t':
      if (typeof v !== 'number' || !Number.isInteger(v)) errors.push(`${path}: expected an integer (${a.t}), got ${JSON.stringify(v)?.slice(0, 40)}`);
      break;
    case 'port_t':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) errors.push(`${path}: expected a port 0-65535`);
      break;
    case 'float_t':
      if (typeof v !== 'number' || !Number.isFinite(v)) errors.push(`${path}: expected a number`);
      break;
    case 'boolean_t':
      if (typeof v !== 'boolean') errors.push(`${path}: expected a boolean`);
      break;
    case 'json_t':
      break;
    case 'ip_t':
      if (typeof v !== 'string' || !IP.test(v)) errors.push(`${path}: expected an IP address, got ${JSON.stringify(v)?.slice(0, 60)}`);
      break;
    case 'uuid_t':
      if (typeof v !== 'string' || !UUID.test(v)) errors.push(`${path}: expected a UUID`);
      break;
    case 'email_t':
      if (typeof v !== 'string' || !v.includes('@')) errors.push(`${path}: expected an email address`);
      break;
    default:
      // string_t and its string-based subtypes (url_t, username_t, hostname_t, datetime_t, subnet_t, …)
      if (typeof v !== 'string') errors.push(`${path}: expected a string (${a.t}), got ${typeof v}`);
  }
  if (a.e && typeof v === 'number' && !Object.hasOwn(a.e, String(v))) errors.push(`${path}: ${v} is not a defined enum value`);
}

function checkConstraints(path: string, c: Constraints | undefined, o: Record<string, unknown>, errors: string[]): void {
  if (!c) return;
  if (c.at_least_one && !c.at_least_one.some((k) => o[k] !== undefined && o[k] !== null)) errors.push(`${path || 'event'}: needs at least one of ${c.at_least_one.join(', ')}`);
  if (c.just_one && c.just_one.filter((k) => o[k] !== undefined && o[k] !== null).length !== 1) errors.push(`${path || 'event'}: needs exactly one of ${c.just_one.join(', ')}`);
}

function checkAttributes(path: string, attrs: Record<string, Attr>, o: Record<string, unknown>, profiles: ReadonlySet<string>, errors: string[], depth: number): void {
  for (const [name, a] of Object.entries(attrs)) {
    if (a.r && (o[name] === undefined || o[name] === null)) {
      if (!a.p || a.p.some((p) => profiles.has(p))) errors.push(`${path}${name}: required attribute missing`);
    }
  }
  for (const [name, v] of Object.entries(o)) {
    if (v === undefined) continue; // absent once serialized
    const a = attrs[name];
    const p = `${path}${name}`;
    if (!a) {
      errors.push(`${p}: unknown attribute`);
      continue;
    }
    if (a.p && !a.p.some((x) => profiles.has(x))) errors.push(`${p}: attribute of profile ${a.p.join('/')} not listed in metadata.profiles`);
    if (v === null || v === undefined) continue;
    const items = a.a ? (Array.isArray(v) ? v : (errors.push(`${p}: expected an array`), [])) : [v];
    if (!a.a && Array.isArray(v)) {
      errors.push(`${p}: unexpected array`);
      continue;
    }
    items.forEach((item, i) => {
      const ip = a.a ? `${p}[${i}]` : p;
      if (a.t === 'object_t') {
        if (!isPlainObject(item)) return void errors.push(`${ip}: expected an object`);
        if (a.o === 'object' || !a.o) return; // open object (`unmapped`, `data`)
        const def = schema.objects[a.o];
        if (!def || depth >= MAX_DEPTH) return;
        checkConstraints(ip, def.constraints, item, errors);
        checkAttributes(`${ip}.`, def.attributes, item, profiles, errors, depth + 1);
      } else checkScalar(ip, a, item, errors);
    });
  }
}

/** Validates one event against OCSF 1.8.0. Errors name the attribute path and the rule. */
export function validateOcsfEvent(event: unknown): ValidationResult {
  const errors: string[] = [];
  if (!isPlainObject(event)) return { ok: false, errors: ['event is not an object'] };
  const cls = typeof event.class_uid === 'number' ? byUid.get(event.class_uid) : undefined;
  if (!cls) return { ok: false, errors: [`class_uid ${JSON.stringify(event.class_uid)} is not a known OCSF 1.8.0 class (known: ${[...byUid.keys()].join(', ')})`] };
  if (event.category_uid !== cls.category_uid) errors.push(`category_uid: expected ${cls.category_uid} for class ${cls.uid}`);
  if (typeof event.activity_id === 'number' && event.type_uid !== cls.uid * 100 + event.activity_id) errors.push(`type_uid: expected ${cls.uid * 100 + event.activity_id} (class_uid * 100 + activity_id)`);
  const meta = isPlainObject(event.metadata) ? event.metadata : {};
  if (meta.version !== schema.ocsf_version) errors.push(`metadata.version: expected "${schema.ocsf_version}"`);
  const listed = Array.isArray(meta.profiles) ? meta.profiles.filter((p): p is string => typeof p === 'string') : [];
  for (const p of listed) if (!cls.profiles.includes(p)) errors.push(`metadata.profiles: profile ${p} does not apply to class ${cls.uid}`);
  checkConstraints('', cls.constraints, event, errors);
  checkAttributes('', cls.attributes, event, new Set(listed), errors, 0);
  return { ok: errors.length === 0, errors };
}

const nameByUid = new Map<number, string>();
for (const [name, c] of Object.entries(schema.classes)) nameByUid.set(c.uid, name);
/** OCSF snake_case class name for a class_uid (e.g. 6003 → api_activity), or the uid as text if unknown. */
export function ocsfClassName(uid: number): string {
  return nameByUid.get(uid) ?? String(uid);
}
