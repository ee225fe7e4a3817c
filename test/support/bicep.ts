// Test-only reader of the few Bicep constructs the infra tests check: parameter declarations, module calls with
// their `params`, and resource declarations with their top-level properties. No Bicep compiler runs here (no
// offline one exists on npm: the packages that wrap it download the binary), so this reads the source. It
// understands strings with ${} interpolation, multi-line ''' strings and comments, which is all it needs to find
// where a { … } block ends.

export interface BicepParam {
  name: string;
  type: string;
  /** No default and not nullable (`type?`): a deployment must pass it. */
  required: boolean;
}

/** Index just past the string starting at `i` (a ' or '''), interpolations (which may hold strings) included. */
function skipString(text: string, i: number): number {
  if (text.startsWith("'''", i)) {
    const end = text.indexOf("'''", i + 3);
    return end < 0 ? text.length : end + 3;
  }
  let j = i + 1;
  while (j < text.length) {
    const c = text[j]!;
    if (c === '\\') j += 2;
    else if (c === "'") return j + 1;
    else if (c === '$' && text[j + 1] === '{') j = skipBlock(text, j + 1);
    else j++;
  }
  return j;
}

/** Index just past the block whose opener ({ [ or () is at `open`. */
export function skipBlock(text: string, open: number): number {
  let depth = 0;
  let j = open;
  while (j < text.length) {
    const c = text[j]!;
    if (c === "'") {
      j = skipString(text, j);
      continue;
    }
    if (c === '/' && text[j + 1] === '/') {
      const nl = text.indexOf('\n', j);
      j = nl < 0 ? text.length : nl;
      continue;
    }
    if (c === '/' && text[j + 1] === '*') {
      const end = text.indexOf('*/', j + 2);
      j = end < 0 ? text.length : end + 2;
      continue;
    }
    if (c === '{' || c === '[' || c === '(') depth++;
    else if (c === '}' || c === ']' || c === ')') {
      depth--;
      if (depth === 0) return j + 1;
    }
    j++;
  }
  return j;
}

/** `param name type [= default]` declarations (decorators are on the lines above and do not matter here). */
export function bicepParams(text: string): Map<string, BicepParam> {
  const out = new Map<string, BicepParam>();
  for (const m of text.matchAll(/^param\s+([A-Za-z_]\w*)\s+([^=\n]+?)\s*(=.*)?$/gm)) {
    const type = m[2]!.trim();
    out.set(m[1]!, { name: m[1]!, type: type.replace(/\?$/, ''), required: m[3] === undefined && !type.endsWith('?') });
  }
  return out;
}

/** Top-level `key: value` entries of an object literal body (the text between its braces). Values are raw text. */
export function objectEntries(body: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < body.length) {
    const rest = body.slice(i);
    const m = /^\s*(?:\/\/[^\n]*\n\s*)*(?:'([^']+)'|([A-Za-z_$][\w$]*))\s*:\s*/.exec(rest);
    if (!m) {
      // Not at a key: skip this line (comment, blank, spread) or a nested block.
      const c = body[i]!;
      if (c === '{' || c === '[' || c === '(') i = skipBlock(body, i);
      else if (c === "'") i = skipString(body, i);
      else i++;
      continue;
    }
    const key = m[1] ?? m[2]!;
    let j = i + m[0].length;
    const start = j;
    // The value runs to the end of the line, or past the blocks and strings that open on it.
    while (j < body.length && body[j] !== '\n') {
      const c = body[j]!;
      if (c === '{' || c === '[' || c === '(') j = skipBlock(body, j);
      else if (c === "'") j = skipString(body, j);
      else if (c === '/' && body[j + 1] === '/') break;
      else j++;
    }
    out.set(key, body.slice(start, j).trim());
    i = j;
  }
  return out;
}

/** The text between the braces of an object literal value (`{ … }`), or undefined when the value is no literal. */
export function objectBody(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const open = value.indexOf('{');
  if (open < 0 || value.slice(0, open).trim() !== '') return undefined;
  return value.slice(open + 1, skipBlock(value, open) - 1);
}

export interface BicepDeclaration {
  kind: 'resource' | 'module';
  symbol: string;
  /** Resource type with api version, or the module's path. */
  target: string;
  /** `existing` resources are references, not deployments. */
  existing: boolean;
  /** Condition of `= if (…)`, loop header of `= [for …]`. */
  condition?: string;
  loop?: string;
  /** Text between the body's braces. */
  body: string;
  properties: Map<string, string>;
}

/** Every `resource` and `module` declaration at the top level of a Bicep file. */
export function bicepDeclarations(text: string): BicepDeclaration[] {
  const out: BicepDeclaration[] = [];
  const re = /^(resource|module)\s+([A-Za-z_]\w*)\s+'([^']+)'\s*(existing\s*)?=\s*/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let i = m.index + m[0].length;
    let condition: string | undefined;
    let loop: string | undefined;
    if (text.startsWith('if', i)) {
      const open = text.indexOf('(', i);
      const close = skipBlock(text, open);
      condition = text.slice(open + 1, close - 1).trim();
      i = close;
    }
    while (/\s/.test(text[i] ?? '')) i++;
    if (text[i] === '[') {
      const header = /^\[\s*for\s+([^:]+):\s*/.exec(text.slice(i));
      if (header) {
        loop = header[1]!.trim();
        i += header[0].length;
      }
    }
    const open = text.indexOf('{', i);
    const close = skipBlock(text, open);
    const body = text.slice(open + 1, close - 1);
    out.push({
      kind: m[1] as 'resource' | 'module',
      symbol: m[2]!,
      target: m[3]!,
      existing: m[4] !== undefined,
      ...(condition !== undefined ? { condition } : {}),
      ...(loop !== undefined ? { loop } : {}),
      body,
      properties: objectEntries(body),
    });
    re.lastIndex = close;
  }
  return out;
}

/** `var name = value` declarations (value text, multi-line literals included). */
export function bicepVariables(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /^var\s+([A-Za-z_]\w*)\s*=\s*/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const i = m.index + m[0].length;
    let j = i;
    while (j < text.length && text[j] !== '\n') {
      const c = text[j]!;
      if (c === '{' || c === '[' || c === '(') j = skipBlock(text, j);
      else if (c === "'") j = skipString(text, j);
      else if (c === '/' && text[j + 1] === '/') break;
      else j++;
    }
    out.set(m[1]!, text.slice(i, j).trim());
    re.lastIndex = j;
  }
  return out;
}
