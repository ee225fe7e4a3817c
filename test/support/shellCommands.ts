// Test-only: finds shell commands in Markdown (fenced code blocks and inline code spans) and splits them into
// words the way a POSIX shell would for the cases docs use: '…' and "…" quoting, backslash-newline
// continuations, $(…) substitutions kept as one word, and ; && || | as command separators.

export interface ShellCommand {
  /** Words after quote removal. */
  words: string[];
  /** Where it was found, for failure messages. */
  source: string;
}

/** Logical lines of every fenced code block, plus inline code spans, of a Markdown document. */
export function codeSnippets(markdown: string, file: string): { text: string; source: string }[] {
  const out: { text: string; source: string }[] = [];
  const lines = markdown.split('\n');
  let fence: { start: number; body: string[] } | undefined;
  lines.forEach((line, i) => {
    if (/^\s*```/.test(line)) {
      if (fence) {
        // Indented blocks (inside list items) keep their indentation; continuations join lines.
        const joined = fence.body.join('\n').replace(/\\\n/g, ' ');
        joined.split('\n').forEach((l, k) => out.push({ text: l, source: `${file}:${fence!.start + 1 + k}` }));
        fence = undefined;
      } else fence = { start: i + 1, body: [] };
      return;
    }
    if (fence) fence.body.push(line);
  });
  // Inline spans may wrap across lines in a paragraph.
  for (const m of markdown.replace(/```[\s\S]*?```/g, '').matchAll(/`([^`]+)`/g)) {
    const line = markdown.slice(0, m.index).split('\n').length;
    out.push({ text: m[1]!.replace(/\s*\n\s*/g, ' '), source: `${file}:${line}` });
  }
  return out;
}

/** Shell words of one logical line, split into commands at ; && || | and newlines. Comments are dropped. */
export function shellCommands(text: string, source: string): ShellCommand[] {
  const commands: ShellCommand[] = [];
  let words: string[] = [];
  let word: string | undefined;
  const flushWord = () => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  const flushCommand = () => {
    flushWord();
    if (words.length > 0) commands.push({ words, source });
    words = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      word = (word ?? '') + text.slice(i + 1, end < 0 ? text.length : end);
      i = end < 0 ? text.length : end;
    } else if (c === '"') {
      let j = i + 1;
      let s = '';
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\' && j + 1 < text.length) j++;
        s += text[j];
        j++;
      }
      word = (word ?? '') + s;
      i = j;
    } else if (c === '$' && text[i + 1] === '(') {
      // $(…) stays one word, nested parentheses included.
      let depth = 0;
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === '(') depth++;
        else if (text[j] === ')' && --depth === 0) break;
      }
      word = (word ?? '') + text.slice(i, j + 1);
      i = j;
    } else if (c === '\\' && i + 1 < text.length) {
      word = (word ?? '') + text[i + 1];
      i++;
    } else if (c === '#' && word === undefined) {
      break;
    } else if (c === ';' || c === '|' || c === '&' || c === '\n') {
      flushCommand();
      if ((c === '&' || c === '|') && text[i + 1] === c) i++;
    } else if (/\s/.test(c)) {
      flushWord();
    } else {
      word = (word ?? '') + c;
    }
  }
  flushCommand();
  return commands;
}

/** Every command of a Markdown document. */
export function markdownCommands(markdown: string, file: string): ShellCommand[] {
  return codeSnippets(markdown, file).flatMap((s) => shellCommands(s.text, s.source));
}

export interface AzDeployment {
  scope: 'group' | 'sub' | 'mg' | 'tenant';
  verb: string;
  templateFile: string | undefined;
  /** name=value pairs given with -p / --parameters (a parameters file, @file.json, is listed in parameterFiles). */
  parameters: Map<string, string>;
  parameterFiles: string[];
  source: string;
}

const DEPLOY_VERBS = new Set(['create', 'validate', 'what-if']);

/** `az deployment <scope> create|validate|what-if …` commands and their template and parameters. */
export function azDeployments(commands: readonly ShellCommand[]): AzDeployment[] {
  const out: AzDeployment[] = [];
  for (const c of commands) {
    const w = c.words;
    const at = w.findIndex((x, i) => x === 'az' && w[i + 1] === 'deployment');
    if (at < 0) continue;
    const scope = w[at + 2];
    const verb = w[at + 3];
    if (scope !== 'group' && scope !== 'sub' && scope !== 'mg' && scope !== 'tenant') continue;
    if (!verb || !DEPLOY_VERBS.has(verb)) continue;
    const d: AzDeployment = { scope, verb, templateFile: undefined, parameters: new Map(), parameterFiles: [], source: c.source };
    for (let i = at + 4; i < w.length; i++) {
      const x = w[i]!;
      if (x === '-f' || x === '--template-file') d.templateFile = w[++i];
      else if (x === '-p' || x === '--parameters') {
        // az takes every following word up to the next option as parameters (name=value, @file or a JSON object).
        for (i++; i < w.length && !w[i]!.startsWith('-'); i++) {
          const v = w[i]!;
          const eq = v.indexOf('=');
          if (v.startsWith('@') || v.endsWith('.json') || v.endsWith('.bicepparam')) d.parameterFiles.push(v);
          else if (eq > 0) d.parameters.set(v.slice(0, eq), v.slice(eq + 1));
          else d.parameterFiles.push(v);
        }
        i--;
      }
    }
    out.push(d);
  }
  return out;
}
