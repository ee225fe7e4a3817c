// Test-only: runs the customer's shell commands (the ones the API and the docs print) against a fake `az`, so the
// test reads them the way bash would. Supports what those commands use and nothing more: words with '…', "…",
// $var and $(…) (unquoted results split on whitespace), NAME=value, `cmd1 && cmd2`, `;`, newlines, and
// `for NAME in WORDS; do …; done`. Anything else throws.
type Part = { lit: string } | { v: string } | { sub: string } | { dq: Part[] };
type Word = Part[];
type Cmd = { kind: 'simple'; words: Word[] } | { kind: 'for'; name: string; items: Word[]; body: Seq } | { kind: 'assign'; name: string; value: Word };
type Seq = { cmd: Cmd; and: boolean }[]; // `and`: run only if the previous command succeeded

export type Az = (args: string[]) => { status: number; stdout: string };

class Parser {
  i = 0;
  constructor(readonly s: string) {}
  ws() {
    while (this.i < this.s.length && (this.s[this.i] === ' ' || this.s[this.i] === '\t' || (this.s[this.i] === '\\' && this.s[this.i + 1] === '\n'))) this.i += this.s[this.i] === '\\' ? 2 : 1;
  }
  subst(): string {
    // at "$(": returns the raw inner text, nested parentheses and quotes respected
    let depth = 0;
    const start = this.i + 2;
    for (let j = this.i + 1; j < this.s.length; j++) {
      const c = this.s[j];
      if (c === "'") j = this.s.indexOf("'", j + 1);
      else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) {
        this.i = j + 1;
        return this.s.slice(start, j);
      }
    }
    throw new Error('unclosed $(');
  }
  dollar(): Part {
    if (this.s[this.i + 1] === '(') return { sub: this.subst() };
    const m = /^\$([A-Za-z_]\w*)/.exec(this.s.slice(this.i));
    if (!m) throw new Error(`unsupported $ at ${this.s.slice(this.i, this.i + 10)}`);
    this.i += m[0].length;
    return { v: m[1]! };
  }
  word(): Word | undefined {
    const parts: Part[] = [];
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (' \t\n;&|'.includes(c)) break;
      if (c === "'") {
        const end = this.s.indexOf("'", this.i + 1);
        parts.push({ lit: this.s.slice(this.i + 1, end) });
        this.i = end + 1;
      } else if (c === '"') {
        this.i++;
        const dq: Part[] = [];
        while (this.s[this.i] !== '"') {
          if (this.i >= this.s.length) throw new Error('unclosed "');
          if (this.s[this.i] === '$') dq.push(this.dollar());
          else if (this.s[this.i] === '\\') {
            dq.push({ lit: this.s[this.i + 1]! });
            this.i += 2;
          } else dq.push({ lit: this.s[this.i++]! });
        }
        this.i++;
        parts.push({ dq });
      } else if (c === '$') parts.push(this.dollar());
      else if (c === '\\') {
        parts.push({ lit: this.s[this.i + 1]! });
        this.i += 2;
      } else parts.push({ lit: this.s[this.i++]! });
    }
    return parts.length ? parts : undefined;
  }
  keyword(k: string): boolean {
    this.ws();
    if (this.s.startsWith(k, this.i) && !/\w/.test(this.s[this.i + k.length] ?? '')) {
      this.i += k.length;
      return true;
    }
    return false;
  }
  seq(until?: string): Seq {
    const out: Seq = [];
    let and = false;
    for (;;) {
      this.ws();
      while (this.s[this.i] === ';' || this.s[this.i] === '\n') {
        this.i++;
        this.ws();
        and = false;
      }
      if (this.i >= this.s.length) break;
      if (until && this.keyword(until)) {
        this.i -= until.length;
        break;
      }
      out.push({ cmd: this.command(), and });
      this.ws();
      if (this.s.startsWith('&&', this.i)) {
        this.i += 2;
        and = true;
      } else and = false;
    }
    return out;
  }
  command(): Cmd {
    if (this.keyword('for')) {
      this.ws();
      const name = /^\w+/.exec(this.s.slice(this.i))![0];
      this.i += name.length;
      if (!this.keyword('in')) throw new Error('for without in');
      const items: Word[] = [];
      for (;;) {
        this.ws();
        if (this.s[this.i] === ';' || this.s[this.i] === '\n') {
          this.i++;
          break;
        }
        const w = this.word();
        if (!w) throw new Error('bad for list');
        items.push(w);
      }
      if (!this.keyword('do')) throw new Error('for without do');
      const body = this.seq('done');
      if (!this.keyword('done')) throw new Error('for without done');
      return { kind: 'for', name, items, body };
    }
    const assign = /^([A-Za-z_]\w*)=/.exec(this.s.slice(this.i));
    if (assign) {
      this.i += assign[0].length;
      return { kind: 'assign', name: assign[1]!, value: this.word() ?? [] };
    }
    const words: Word[] = [];
    for (;;) {
      this.ws();
      const w = this.word();
      if (!w) break;
      words.push(w);
    }
    if (this.s[this.i] === '|' && this.s[this.i + 1] !== '|') throw new Error('pipes are not supported');
    return { kind: 'simple', words };
  }
}

export interface ShellRun {
  /** Every az invocation, in order, with its exit status. */
  calls: { args: string[]; status: number }[];
  status: number;
}

export function runShell(script: string, az: Az, vars: Record<string, string> = {}): ShellRun {
  const calls: ShellRun['calls'] = [];
  const env = new Map(Object.entries(vars));
  let lastSubStatus = 0; // exit status of the last $(…), which is an assignment's status
  const exec = (s: string): { status: number; stdout: string } => runSeq(new Parser(s).seq());
  const expand = (w: Word): string[] => {
    // unquoted $(…) and $var split into fields; everything else concatenates
    let fields: string[] = [''];
    let any = false;
    const add = (s: string) => {
      fields[fields.length - 1] += s;
      any = true;
    };
    const partText = (p: Part): string => {
      if ('lit' in p) return p.lit;
      if ('v' in p) return env.get(p.v) ?? '';
      if ('dq' in p) return p.dq.map(partText).join('');
      const r = exec(p.sub);
      lastSubStatus = r.status;
      return r.stdout.replace(/\n+$/, '');
    };
    for (const p of w) {
      if ('sub' in p || 'v' in p) {
        const split = partText(p).split(/\s+/).filter((x) => x !== '');
        split.forEach((x, k) => (k === 0 ? add(x) : fields.push(x)));
      } else add(partText(p));
    }
    if (!any) fields = [];
    return fields.filter((f, k) => f !== '' || k < fields.length - 1 || any);
  };
  const runSeq = (seq: Seq): { status: number; stdout: string } => {
    let status = 0;
    let stdout = '';
    for (const { cmd, and } of seq) {
      if (and && status !== 0) continue;
      const r = runCmd(cmd);
      status = r.status;
      stdout += r.stdout;
    }
    return { status, stdout };
  };
  const runCmd = (cmd: Cmd): { status: number; stdout: string } => {
    if (cmd.kind === 'assign') {
      lastSubStatus = 0;
      env.set(cmd.name, expand(cmd.value).join(' '));
      return { status: lastSubStatus, stdout: '' };
    }
    if (cmd.kind === 'for') {
      let last = { status: 0, stdout: '' };
      for (const item of cmd.items.flatMap(expand)) {
        env.set(cmd.name, item);
        last = runSeq(cmd.body);
      }
      return last;
    }
    const args = cmd.words.flatMap(expand);
    if (args.length === 0) return { status: 0, stdout: '' };
    if (args[0] !== 'az') throw new Error(`only az commands are modelled, got: ${args.join(' ')}`);
    const r = az(args.slice(1));
    calls.push({ args: args.slice(1), status: r.status });
    return r;
  };
  const r = runSeq(new Parser(script).seq());
  return { calls, status: r.status };
}
