// Test-only: the subset of JMESPath (jmespath.org/specification.html) the documented `az … --query` filters use:
// `[?expr].field.path`, with ==, !=, || and && (on values, JMESPath truthiness), parentheses, `contains()`,
// `ends_with()`, field paths, raw strings '…' and JSON literals `…`. Anything else throws, so a query the docs
// change to use more JMESPath fails loudly instead of being misread.
type Value = unknown;
type Node = (item: Value) => Value;

const truthy = (v: Value) => !(v === null || v === undefined || v === false || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0));

function tokenize(q: string): string[] {
  const out: string[] = [];
  const re = /\s*(`[^`]*`|'(?:[^'\\]|\\.)*'|==|!=|\|\||&&|\[\?|[()\],.\]]|[A-Za-z_][A-Za-z0-9_]*)/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < q.length && (m = re.exec(q))) out.push(m[1]!);
  if (re.lastIndex < q.trimEnd().length) throw new Error(`unsupported JMESPath near: ${q.slice(re.lastIndex)}`);
  return out;
}

const path = (fields: string[]): Node => (item) => fields.reduce<Value>((v, f) => (v && typeof v === 'object' ? (v as Record<string, Value>)[f] : null), item) ?? null;

export function compileQuery(query: string): (input: Value) => Value {
  const t = tokenize(query);
  let i = 0;
  const peek = () => t[i];
  const take = (want?: string) => {
    const x = t[i++];
    if (x === undefined || (want !== undefined && x !== want)) throw new Error(`JMESPath: expected ${want ?? 'a token'} at ${i - 1} in ${query}`);
    return x;
  };
  const fieldPath = (): string[] => {
    const fields = [take()];
    while (peek() === '.') {
      take('.');
      fields.push(take());
    }
    return fields;
  };
  const primary = (): Node => {
    const x = take();
    if (x === '(') {
      const e = or();
      take(')');
      return e;
    }
    if (x.startsWith('`')) {
      const v = JSON.parse(x.slice(1, -1)) as Value;
      return () => v;
    }
    if (x.startsWith("'")) {
      const v = x.slice(1, -1).replace(/\\'/g, "'");
      return () => v;
    }
    if (peek() === '(') {
      take('(');
      const args: Node[] = [];
      while (peek() !== ')') {
        args.push(or());
        if (peek() === ',') take(',');
      }
      take(')');
      if (x === 'contains') return (it) => {
        const [a, b] = args.map((f) => f(it));
        if (Array.isArray(a)) return a.some((e) => JSON.stringify(e) === JSON.stringify(b));
        if (typeof a === 'string') return a.includes(String(b));
        throw new Error('contains() needs an array or a string (JMESPath errors on null)');
      };
      if (x === 'ends_with') return (it) => String(args[0]!(it)).endsWith(String(args[1]!(it)));
      throw new Error(`JMESPath function ${x} is not supported here`);
    }
    i--;
    return path(fieldPath());
  };
  const comparison = (): Node => {
    const left = primary();
    const op = peek();
    if (op !== '==' && op !== '!=') return left;
    take();
    const right = primary();
    return (it) => (JSON.stringify(left(it)) === JSON.stringify(right(it))) === (op === '==');
  };
  const and = (): Node => {
    let left = comparison();
    while (peek() === '&&') {
      take();
      const l = left;
      const r = comparison();
      left = (it) => (truthy(l(it)) ? r(it) : l(it));
    }
    return left;
  };
  const or = (): Node => {
    let left = and();
    while (peek() === '||') {
      take();
      const l = left;
      const r = and();
      left = (it) => (truthy(l(it)) ? l(it) : r(it));
    }
    return left;
  };
  take('[?');
  const filter = or();
  take(']');
  let project: Node = (x) => x;
  if (peek() === '.') {
    take('.');
    project = path(fieldPath());
  }
  if (i !== t.length) throw new Error(`JMESPath: unsupported trailing tokens in ${query}`);
  return (input) => (Array.isArray(input) ? input.filter((x) => truthy(filter(x))).map(project).filter((x) => x !== null) : null);
}
