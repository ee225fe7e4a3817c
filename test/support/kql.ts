import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * Test-only reader of the KQL the alert rules and the workbook run, built on Microsoft's Kusto language service
 * (@kusto/language-service-next: Kusto.Language, the parser and semantic analyzer behind Azure Data Explorer's and
 * Log Analytics' editors, compiled to JavaScript). It parses and binds each query against the `traces` schema of an
 * Application Insights resource (test/fixtures/monitoring), and walks the syntax tree for what the log contract
 * needs: the event names a query selects and the fields it reads from the parsed line.
 *
 * Conventions it relies on (infra/modules/monitoring/alertRules.json says them too): a line's fields are parsed into
 * a column by `<name> = parse_json(substring(message, …))` (the queries call it `d`) and read as `d.<field>`,
 * `d["field"]`, or through an `mv-expand x = d.<array>` (`x.<field>`, a field of the array's items); an event is
 * selected by a string literal holding its name (`message startswith "<event> "`).
 */

// ---- the parts of the Bridge.NET object model used here (Kusto.Language.Bridge.d.ts has them all)
interface BList<T> {
  Count: number;
  getItem(i: number): T;
}
interface Node {
  constructor: { $$name: string };
  Parent: Node | null;
  toString(): string;
  WalkElements(fn: (e: Node) => void): void;
  [k: string]: unknown;
}
interface Diagnostic {
  Severity: string;
  Code: string;
  Message: string;
  Start: number;
}
interface KustoCodeLike {
  Syntax: Node;
  ResultType: { Columns?: BList<{ Name: string; Type: { Name: string } }> } | null;
  GetDiagnostics(): BList<Diagnostic>;
}
interface KustoLanguage {
  KustoCode: { ParseAndAnalyze(text: string, globals: unknown): KustoCodeLike };
  GlobalState: { Default: { WithDatabase(db: unknown): unknown } };
  Symbols: {
    TableSymbol: { From(schema: string): { WithName(name: string): unknown } };
    DatabaseSymbol: { ctor: new (name: string, members: unknown[]) => unknown };
  };
}

let language: KustoLanguage | undefined;
function kusto(): KustoLanguage {
  if (!language) {
    // Bridge.NET scripts define globals (Bridge, then Kusto); they are CommonJS, loaded once per worker.
    const require = createRequire(import.meta.url);
    require('@kusto/language-service-next/bridge.min.js');
    require('@kusto/language-service-next/Kusto.Language.Bridge.min.js');
    language = (globalThis as unknown as { Kusto: { Language: KustoLanguage } }).Kusto.Language;
  }
  return language;
}

const root = path.resolve(import.meta.dirname, '../..');
export const tracesSchema = JSON.parse(readFileSync(path.join(root, 'test/fixtures/monitoring/appInsights.traces.schema.json'), 'utf8')) as { table: string; columns: [string, string, string][] };

let globals: unknown;
function tracesGlobals(): unknown {
  if (!globals) {
    const k = kusto();
    const table = k.Symbols.TableSymbol.From(`(${tracesSchema.columns.map(([n, t]) => `${n}:${t}`).join(', ')})`).WithName(tracesSchema.table);
    globals = k.GlobalState.Default.WithDatabase(new k.Symbols.DatabaseSymbol.ctor('appinsights', [table]));
  }
  return globals;
}

/** A field a query reads from a line: path segments (`[]` = each item of an array, or each entry of an object). */
export interface FieldRef {
  path: string;
  /** The conversion the query applies to it (`tolong`, `tostring`, `todatetime`, `tobool`…), if it is a direct argument of one. */
  conversion?: string;
}

export interface StatementRefs {
  /** `let` name, or undefined for the query's last statement. */
  name?: string;
  /** Events the statement names itself. */
  events: string[];
  /** `let` statements it reads. */
  uses: string[];
  fields: FieldRef[];
}

export interface QueryAnalysis {
  errors: string[];
  /** Output columns of the query (name → Kusto type). */
  columns: Map<string, string>;
  statements: StatementRefs[];
  /** Events by statement: its own, or (when it names none) those of the `let` statements it reads. */
  eventsOf(s: StatementRefs): string[];
}

const EVENT = /^[a-z][A-Za-z]*\.[a-z][A-Za-z_]*\s?$/;
// Generic Bridge types are named like `Kusto.Language.Syntax.SyntaxList$1$…`: the kind is the part before the first `$`.
const kind = (n: Node | null | undefined) => n?.constructor.$$name.split('$')[0]!.split('.').pop() ?? '';
const child = (n: Node, key: string) => n[key] as Node | null | undefined;
const nameOf = (n: Node | null | undefined) => (n ? (n.SimpleName as string | undefined) : undefined);

function literalString(n: Node): string | undefined {
  return kind(n) === 'LiteralExpression' && typeof n.LiteralValue === 'string' ? n.LiteralValue : undefined;
}

/** Field path of a path/element expression rooted in a payload column or an alias; undefined for anything else. */
function fieldPath(n: Node, payload: ReadonlySet<string>, aliases: ReadonlyMap<string, string[]>): string[] | undefined {
  const k = kind(n);
  if (k === 'NameReference') {
    const name = nameOf(n)!;
    if (payload.has(name)) return [];
    return aliases.get(name);
  }
  if (k === 'PathExpression') {
    const base = fieldPath(child(n, 'Expression')!, payload, aliases);
    const sel = nameOf(child(n, 'Selector'));
    return base && sel !== undefined ? [...base, sel] : undefined;
  }
  if (k === 'ElementExpression') {
    const base = fieldPath(child(n, 'Expression')!, payload, aliases);
    const inner = child(child(n, 'Selector')!, 'Expression');
    const key = inner ? literalString(inner) : undefined;
    // r[0] / r[1] of a bag expanded as [key, value]: the bag itself is the field.
    return base ? (key !== undefined ? [...base, key] : base) : undefined;
  }
  return undefined;
}

/** The conversion function whose only argument `n` is, if any. */
function conversionOf(n: Node): string | undefined {
  let p = n.Parent;
  while (p && /^(SeparatedElement|SyntaxList|ExpressionList)/.test(kind(p))) p = p.Parent;
  if (kind(p) !== 'FunctionCallExpression') return undefined;
  const args = (child(p!, 'ArgumentList')?.Expressions as BList<unknown> | undefined)?.Count;
  const fn = nameOf(child(p!, 'Name'));
  return args === 1 && fn && /^to[a-z]+$/.test(fn) ? fn : undefined;
}

function insideMvExpand(n: Node): boolean {
  for (let p = n.Parent; p; p = p.Parent) {
    const k = kind(p);
    if (k === 'MvExpandOperator') return true;
    if (k.endsWith('Operator') || k === 'PipeExpression') return false;
  }
  return false;
}

/** Parses and binds a query against the `traces` schema and collects what it reads. */
export function analyzeKql(text: string): QueryAnalysis {
  const code = kusto().KustoCode.ParseAndAnalyze(text, tracesGlobals());
  const diags = code.GetDiagnostics();
  const errors: string[] = [];
  for (let i = 0; i < diags.Count; i++) {
    const d = diags.getItem(i);
    if (d.Severity === 'Error') errors.push(`${d.Code} ${d.Message} at ${d.Start}: …${text.slice(Math.max(0, d.Start - 30), d.Start + 30)}…`);
  }
  const columns = new Map<string, string>();
  const cols = code.ResultType?.Columns;
  for (let i = 0; i < (cols?.Count ?? 0); i++) columns.set(cols!.getItem(i).Name, cols!.getItem(i).Type.Name);

  const statements: StatementRefs[] = [];
  const lets = new Set<string>();
  const list = code.Syntax.Statements as BList<{ Element: Node }> | undefined;
  for (let i = 0; i < (list?.Count ?? 0); i++) {
    const st = list!.getItem(i).Element;
    const refs: StatementRefs = { events: [], uses: [], fields: [] };
    if (kind(st) === 'LetStatement') refs.name = nameOf(child(st, 'Name'));
    const payload = new Set<string>();
    const aliases = new Map<string, string[]>();
    // First pass: payload columns and mv-expand aliases, in order of appearance.
    st.WalkElements((n) => {
      if (kind(n) !== 'SimpleNamedExpression') return;
      const name = nameOf(child(n, 'Name'));
      const expr = child(n, 'Expression');
      if (!name || !expr) return;
      if (/^\s*parse_json\s*\(\s*substring\s*\(\s*message\b/.test(expr.toString())) payload.add(name);
      else {
        const p = fieldPath(expr, payload, aliases);
        if (p) aliases.set(name, insideMvExpand(n) ? [...p, '[]'] : p);
      }
    });
    st.WalkElements((n) => {
      const k = kind(n);
      const s = literalString(n);
      if (s !== undefined && EVENT.test(s)) refs.events.push(s.trim());
      if (k === 'NameReference' && lets.has(nameOf(n)!)) refs.uses.push(nameOf(n)!);
      if (k === 'PathExpression' || k === 'ElementExpression') {
        const parentKind = kind(n.Parent);
        // Only the outermost access (d.a.b, not d.a), and not an alias declaration's own right side.
        if ((parentKind === 'PathExpression' || parentKind === 'ElementExpression') && child(n.Parent!, 'Expression') === n) return;
        const p = fieldPath(n, payload, aliases);
        if (!p || p.length === 0) return;
        // r[0] / r[1] (key and value of an expanded bag, or an array item): the conversion applies to the part, not the field.
        const indexed = k === 'ElementExpression' && literalString(child(child(n, 'Selector')!, 'Expression') ?? n) === undefined;
        const conversion = indexed ? undefined : conversionOf(n);
        refs.fields.push({ path: p.join('.').replace(/\.\[\]/g, '[]'), ...(conversion ? { conversion } : {}) });
      }
    });
    refs.events = [...new Set(refs.events)];
    refs.uses = [...new Set(refs.uses)];
    if (refs.name) lets.add(refs.name);
    statements.push(refs);
  }
  const byName = new Map(statements.filter((s) => s.name).map((s) => [s.name!, s]));
  const eventsOf = (s: StatementRefs): string[] => (s.events.length > 0 ? s.events : [...new Set(s.uses.flatMap((u) => (byName.get(u) ? eventsOf(byName.get(u)!) : [])))]);
  return { errors, columns, statements, eventsOf };
}
