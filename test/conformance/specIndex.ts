import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/**
 * Excerpts of Microsoft's REST API specifications (test/fixtures/specs, Swagger 2.0 as Azure/azure-rest-api-specs
 * writes them) turned into JSON Schema for ajv, strictly:
 * - an object that declares `properties` accepts no other property (unless it declares `additionalProperties`);
 * - enums are closed: a service answers with the values the api-version it was asked for documents;
 * - request mode forbids `readOnly` properties; response mode forbids write-only ones (`x-ms-secret`, an
 *   `x-ms-mutability` without "read", or a description saying the value is never returned);
 * - `allOf` is flattened and a `discriminator` dispatches on its value to the subtype that declares it.
 */

type Node = Record<string, unknown>;
export interface SpecDoc {
  source: { repo: string; path: string; commit: string; excerpt: string };
  info: { version: string; title?: string };
  paths: Record<string, Record<string, Node>>;
  definitions: Record<string, Node>;
  parameters?: Record<string, Node>;
}
export type Mode = 'request' | 'response';

export interface Operation {
  doc: SpecDoc;
  template: string;
  method: string;
  operationId: string;
  node: Node;
  parameters: { node: Node; doc: SpecDoc }[];
  regex: RegExp;
  /** Names of the template's path parameters, in order. */
  names: string[];
  /** Literal characters of the template: more is more specific. */
  specificity: number;
}

const isObj = (v: unknown): v is Node => v !== null && typeof v === 'object' && !Array.isArray(v);
const WRITE_ONLY_TEXT = /not be included in any response/i;

export function loadSpecs(dir: string): SpecDoc[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as SpecDoc);
}

export class SpecIndex {
  readonly docs: SpecDoc[];
  readonly operations: Operation[] = [];
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  private readonly defs: Record<string, unknown> = {};
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly docKey = new Map<SpecDoc, string>();

  constructor(docs: SpecDoc[]) {
    this.docs = docs;
    docs.forEach((d, i) => this.docKey.set(d, `d${i}`));
    this.ajv.addFormat('date-time', (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)));
    this.ajv.addFormat('uuid', /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/);
    for (const doc of docs) {
      for (const [template, item] of Object.entries(doc.paths)) {
        for (const [method, node] of Object.entries(item)) {
          const names: string[] = [];
          const params = ((node.parameters as Node[] | undefined) ?? []).map((p) => this.deref(doc, p));
          const src = template.replace(/[.*+?^$()|[\]\\]/g, (c) => `\\${c}`).replace(/\{(\w+)\}/g, (_, n: string) => {
            names.push(n);
            const p = params.find((x) => x.node.name === n)?.node;
            return p?.['x-ms-skip-url-encoding'] ? '(.+)' : '([^/]+)';
          });
          this.operations.push({
            doc, template, method: method.toUpperCase(), operationId: String(node.operationId), node, parameters: params, names,
            regex: new RegExp(`^${src}$`, 'i'), specificity: template.replace(/\{\w+\}/g, '').length - (src.includes('(.+)') ? 1000 : 0),
          });
        }
      }
    }
  }

  /** The operation of `api-version` whose template matches the path; the most specific when several do. */
  find(method: string, path: string, apiVersion: string): { op: Operation; params: Record<string, string> } | undefined {
    const hits = this.operations
      .filter((o) => o.method === method && o.doc.info.version === apiVersion)
      .map((o) => ({ op: o, m: o.regex.exec(path) }))
      .filter((x): x is { op: Operation; m: RegExpExecArray } => x.m !== null)
      .sort((a, b) => b.op.specificity - a.op.specificity);
    const best = hits[0];
    if (!best) return undefined;
    const params: Record<string, string> = {};
    best.op.names.forEach((n, i) => (params[n] = best.m[i + 1] ?? ''));
    return { op: best.op, params };
  }

  /** Validates `value` against a schema node of `doc` (a parameter's or a response's) in the given mode. */
  validate(doc: SpecDoc, node: Node, mode: Mode, value: unknown): string[] {
    const key = `${this.docKey.get(doc)}|${mode}|${JSON.stringify(node)}`;
    let fn = this.compiled.get(key);
    if (!fn) {
      const root = this.convert(doc, node, mode);
      fn = this.ajv.compile({ ...(root as object), $defs: this.defs });
      this.compiled.set(key, fn);
    }
    return fn(value) ? [] : (fn.errors ?? []).map(describe);
  }

  /** A `$ref` (local or to another excerpt) → the node and the excerpt it lives in. */
  deref(doc: SpecDoc, node: Node): { node: Node; doc: SpecDoc; name?: string } {
    const ref = node.$ref;
    if (typeof ref !== 'string') return { node, doc };
    const [file = '', pointer = ''] = ref.split('#');
    const target = file === '' ? doc : this.docFor(doc, file);
    const parts = pointer.split('/').filter((p) => p !== '');
    let cur: unknown = target;
    for (const p of parts) cur = isObj(cur) ? cur[p] : undefined;
    if (!isObj(cur)) throw new Error(`unresolved $ref ${ref} in ${doc.source.path}`);
    return { node: cur, doc: target, name: parts[0] === 'definitions' ? parts[1] : undefined };
  }

  /**
   * Relative refs as written; when the excerpt moved (the spec repository re-nested folders, leaving some refs
   * one level short), the excerpt whose path ends with the ref's own path and shares the longest prefix wins.
   */
  private docFor(from: SpecDoc, file: string): SpecDoc {
    const exact = posix.normalize(posix.join(posix.dirname(from.source.path), file));
    const hit = this.docs.find((d) => d.source.path === exact);
    if (hit) return hit;
    const tail = file.replace(/^(\.\.?\/)+/, '');
    const common = (a: string, b: string) => {
      let i = 0;
      while (i < a.length && a[i] === b[i]) i++;
      return i;
    };
    const candidates = this.docs.filter((d) => d.source.path.endsWith(`/${tail}`)).sort((a, b) => common(b.source.path, from.source.path) - common(a.source.path, from.source.path));
    if (!candidates[0]) throw new Error(`no excerpt for ${file} (referenced from ${from.source.path})`);
    return candidates[0];
  }

  private convert(doc: SpecDoc, node: Node, mode: Mode): unknown {
    if (typeof node.$ref === 'string') {
      const t = this.deref(doc, node);
      if (t.name) return { $ref: `#/$defs/${this.defineDefinition(t.doc, t.name, mode)}` };
      return this.convert(t.doc, t.node, mode);
    }
    if (node.allOf || (isObj(node.properties) && node.type !== 'array') || node.discriminator) return this.objectSchema(doc, node, mode);
    const out: Node = {};
    const type = node.type;
    if (typeof type === 'string' && type !== 'file') out.type = node['x-nullable'] === true ? [type, 'null'] : type;
    for (const k of ['enum', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems']) if (node[k] !== undefined) out[k] = node[k];
    if (node.format === 'date-time' || node.format === 'uuid') out.format = node.format;
    if (isObj(node.items)) out.items = this.convert(doc, node.items, mode);
    if (type === 'object' || node.additionalProperties !== undefined) {
      const ap = node.additionalProperties;
      if (isObj(ap)) out.additionalProperties = Object.keys(ap).length === 0 ? true : this.convert(doc, ap, mode);
      else if (ap === true) out.additionalProperties = true;
    }
    return out;
  }

  /** Registers `definitions[name]` of `doc` in $defs (once per mode) and returns its key. */
  private defineDefinition(doc: SpecDoc, name: string, mode: Mode): string {
    const key = `${this.docKey.get(doc)}_${name.replace(/[^\w]/g, '_')}_${mode}`;
    if (key in this.defs) return key;
    this.defs[key] = {}; // recursion guard (ErrorDetail.details → ErrorDetail)
    const def = doc.definitions[name];
    if (!def) throw new Error(`no definition ${name} in ${doc.source.path}`);
    const subtypes = typeof def.discriminator === 'string' ? this.subtypesOf(doc, name) : [];
    const objectLike = def.type === 'object' || def.type === undefined || isObj(def.properties) || Array.isArray(def.allOf);
    if (!objectLike) {
      this.defs[key] = this.convert(doc, def, mode); // a named string enum, array…
    } else if (subtypes.length > 0) {
      const prop = def.discriminator as string;
      const values = subtypes.map((s) => s.value);
      this.defs[key] = {
        type: 'object',
        required: [prop],
        properties: { [prop]: { enum: values } },
        allOf: subtypes.map((s) => ({ if: { properties: { [prop]: { const: s.value } }, required: [prop] }, then: { $ref: `#/$defs/${this.defineFlat(doc, s.name, mode)}` } })),
      };
    } else {
      this.defs[key] = { $ref: `#/$defs/${this.defineFlat(doc, name, mode)}` };
    }
    return key;
  }

  private defineFlat(doc: SpecDoc, name: string, mode: Mode): string {
    const key = `${this.docKey.get(doc)}_${name.replace(/[^\w]/g, '_')}_${mode}_flat`;
    if (key in this.defs) return key;
    this.defs[key] = {};
    const def = doc.definitions[name];
    if (!def) throw new Error(`no definition ${name} in ${doc.source.path}`);
    this.defs[key] = this.objectSchema(doc, def, mode);
    return key;
  }

  private subtypesOf(doc: SpecDoc, base: string): { name: string; value: string }[] {
    return Object.entries(doc.definitions)
      .filter(([, d]) => ((d.allOf as Node[] | undefined) ?? []).some((a) => typeof a.$ref === 'string' && a.$ref === `#/definitions/${base}`))
      .map(([n, d]) => ({ name: n, value: typeof d['x-ms-discriminator-value'] === 'string' ? (d['x-ms-discriminator-value'] as string) : n }));
  }

  /** allOf flattened into one closed object schema. */
  private objectSchema(doc: SpecDoc, node: Node, mode: Mode): Node {
    const properties: Record<string, unknown> = {};
    const required = new Set<string>();
    let additional: unknown = false;
    let declaresProps = false;
    const visit = (d: SpecDoc, n: Node) => {
      for (const a of (n.allOf as Node[] | undefined) ?? []) {
        const t = this.deref(d, a);
        visit(t.doc, t.node);
      }
      if (isObj(n.properties)) {
        declaresProps = true;
        for (const [p, schema] of Object.entries(n.properties)) properties[p] = this.propertySchema(d, schema as Node, mode);
      }
      for (const r of (n.required as string[] | undefined) ?? []) required.add(r);
      const ap = n.additionalProperties;
      if (ap === true || (isObj(ap) && Object.keys(ap).length === 0)) additional = true;
      else if (isObj(ap)) additional = this.convert(d, ap, mode);
    };
    visit(doc, node);
    // Free-form `type: object` without properties takes anything.
    if (!declaresProps && additional === false) additional = true;
    // A required property that is forbidden in this mode (readOnly in a request) is not required of it.
    const req = [...required].filter((r) => properties[r] !== false);
    return { type: 'object', properties, ...(req.length ? { required: req } : {}), additionalProperties: additional };
  }

  private propertySchema(doc: SpecDoc, schema: Node, mode: Mode): unknown {
    const target = typeof schema.$ref === 'string' ? this.deref(doc, schema).node : schema;
    const readOnly = schema.readOnly === true || target.readOnly === true;
    const mutability = (schema['x-ms-mutability'] ?? target['x-ms-mutability']) as string[] | undefined;
    const writeOnly = schema['x-ms-secret'] === true || (Array.isArray(mutability) && !mutability.includes('read')) || WRITE_ONLY_TEXT.test(String(schema.description ?? ''));
    if (mode === 'request' && readOnly) return false;
    if (mode === 'response' && writeOnly) return false;
    return this.convert(doc, schema, mode);
  }

  /** Names of the write-only properties reachable from a schema node (never echoed by a response), for the PUT echo check. */
  writeOnlyNames(doc: SpecDoc, node: Node): Set<string> {
    const names = new Set<string>();
    const seen = new Set<Node>();
    const walk = (d: SpecDoc, n: Node): void => {
      const t = typeof n.$ref === 'string' ? this.deref(d, n) : { node: n, doc: d, name: undefined };
      if (seen.has(t.node)) return;
      seen.add(t.node);
      for (const a of (t.node.allOf as Node[] | undefined) ?? []) walk(t.doc, a);
      if (t.name && typeof t.node.discriminator === 'string') for (const s of this.subtypesOf(t.doc, t.name)) walk(t.doc, { $ref: `#/definitions/${s.name}` });
      if (isObj(t.node.items)) walk(t.doc, t.node.items);
      if (isObj(t.node.additionalProperties)) walk(t.doc, t.node.additionalProperties);
      for (const [p, s] of Object.entries(isObj(t.node.properties) ? t.node.properties : {})) {
        const sn = s as Node;
        const mut = sn['x-ms-mutability'] as string[] | undefined;
        if (sn['x-ms-secret'] === true || (Array.isArray(mut) && !mut.includes('read')) || WRITE_ONLY_TEXT.test(String(sn.description ?? ''))) names.add(p);
        walk(t.doc, sn);
      }
    };
    walk(doc, node);
    return names;
  }
}

function describe(e: ErrorObject): string {
  const where = e.instancePath || '(root)';
  if (e.keyword === 'additionalProperties') return `${where}: property '${String((e.params as { additionalProperty?: string }).additionalProperty)}' is not in the spec`;
  if (e.keyword === 'false schema') return `${where}: must not be present in this direction (readOnly in a request, write-only in a response)`;
  if (e.keyword === 'enum') return `${where}: ${e.message} ${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)}`;
  return `${where}: ${e.message ?? e.keyword}`;
}
