import { readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * Which files `func azure functionapp publish` puts in the zip it uploads, with the same rules Azure Functions Core
 * Tools applies (src/Cli/func/Common/GitIgnoreParser.cs and FileSystemHelpers.GetLocalFiles in
 * Azure/azure-functions-core-tools, read 2026-12):
 * - directories named `.git` or `.vscode` are skipped at any depth, and so are files named `.funcignore`,
 *   `.gitignore`, `local.settings.json` or `project.lock.json`;
 * - every other file is kept unless a `.funcignore` line matches its path relative to the app root.
 * A `.funcignore` line is NOT full gitignore syntax: it matches a path PREFIX from the root, ending at a word
 * boundary (`test` drops `test/…` and `test-x`, but not `node_modules/x/test/…`); `**` is any text, `*` any text
 * without `/`; a leading `/` is dropped; `!` lines re-include and win over every other line; `#` lines are comments.
 */
export interface FuncIgnore {
  accepts(relativePath: string): boolean;
}

const escape = (s: string) => s.replace(/[-[\]/{}()+?.\\^$|]/g, '\\$&');
const patternRegex = (p: string) => escape(p).replace(/\*\*/g, '(.+)').replace(/\*/g, '([^\\/]+)');

export function parseFuncIgnore(text: string): FuncIgnore {
  const positive: string[] = [];
  const negative: string[] = [];
  for (const raw of text.split('\n')) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const neg = line.startsWith('!');
    if (neg) line = line.slice(1);
    if (line.startsWith('/')) line = line.slice(1);
    (neg ? negative : positive).push(line);
  }
  const compile = (ps: string[]) => (ps.length === 0 ? /$^/ : new RegExp(`^((${[...ps].sort().map(patternRegex).join(')|(')}))\\b`));
  const pos = compile(positive);
  const neg = compile(negative);
  return { accepts: (p) => neg.test(p) || !pos.test(p) };
}

const SKIPPED_DIRS = new Set(['.git', '.vscode']);
const SKIPPED_FILES = new Set(['.funcignore', '.gitignore', 'local.settings.json', 'project.lock.json']);

/** Relative paths (with `/`) of the files Core Tools would publish from `root`, sorted. */
export function publishedFiles(root: string, ignore: FuncIgnore, opts: { skipTopLevel?: readonly string[] } = {}): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const relPath = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (SKIPPED_DIRS.has(e.name.toLowerCase()) || (rel === '' && opts.skipTopLevel?.includes(e.name))) continue;
        walk(path.join(dir, e.name), relPath);
      } else if (e.isFile() && !SKIPPED_FILES.has(e.name.toLowerCase()) && ignore.accepts(relPath)) {
        out.push(relPath);
      }
    }
  };
  walk(root, '');
  return out.sort();
}
