import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Test-only: the az commands a Markdown document (or the API's printed commands) would run, as the real bash reads
// them. Each snippet runs under bash with PATH holding nothing but a recorder named `az`, so bash does all the
// quoting, continuations and substitutions, every other program is "command not found", and the recorder writes
// down each az argv (with the line bash was on) and prints nothing.

export interface AzCall {
  args: string[];
  /** file:line of the command, for failure messages. */
  source: string;
}

export interface Snippet {
  text: string;
  file: string;
  /** Line of the snippet's first line in the file. */
  line: number;
}

/** Every fenced code block (whole) and inline code span of a Markdown document. */
export function markdownSnippets(markdown: string, file: string): Snippet[] {
  const out: Snippet[] = [];
  const lines = markdown.split('\n');
  let fence: { start: number; body: string[] } | undefined;
  lines.forEach((line, i) => {
    if (/^\s*```/.test(line)) {
      if (fence) out.push({ text: fence.body.join('\n'), file, line: fence.start + 1 });
      fence = fence ? undefined : { start: i + 1, body: [] };
    } else fence?.body.push(line);
  });
  // Inline spans may wrap across lines in a paragraph: the wrap is a space.
  const prose = markdown.replace(/```[\s\S]*?```/g, (block) => block.replace(/[^\n]/g, ' '));
  for (const m of prose.matchAll(/`([^`]+)`/g)) out.push({ text: m[1]!.replace(/\s*\n\s*/g, ' '), file, line: markdown.slice(0, m.index).split('\n').length });
  return out;
}

/**
 * Docs write values to fill in as <name>; bash would read those as redirections. They become plain words (_name_)
 * before bash sees the text, which changes no parameter name.
 */
const fillPlaceholders = (text: string) => text.replace(/<([A-Za-z][\w.-]*)>/g, '_$1_');

const BASH = execFileSync('bash', ['-c', 'command -v bash'], { encoding: 'utf8' }).trim();

/** The az invocations bash makes running each snippet that mentions az (none of them reach Azure or any program). */
export async function azCalls(snippets: readonly Snippet[]): Promise<AzCall[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'doc-az-'));
  try {
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    mkdirSync(path.join(dir, 'cwd'));
    // printf is a shell builtin: the recorder needs no PATH. Records are NUL-separated: line, argc, argv.
    writeFileSync(path.join(bin, 'az'), '#!/bin/sh\nprintf \'%s\\0\' "${MD_LINE:-0}" "$#" "$@" >> "$AZ_LOG"\n');
    chmodSync(path.join(bin, 'az'), 0o755);
    const out: AzCall[] = [];
    for (const s of snippets) {
      if (!/\baz\b/.test(s.text)) continue;
      const log = path.join(dir, 'az.log');
      writeFileSync(log, '');
      // The DEBUG trap (inherited by subshells with -T) tells the recorder which line bash is on; line 1 is the trap.
      const script = `set -T; trap 'export MD_LINE=$((LINENO - 1))' DEBUG\n${fillPlaceholders(s.text)}`;
      await new Promise<void>((resolve, reject) => {
        const child = spawn(BASH, ['--noprofile', '--norc', '-c', script], { cwd: path.join(dir, 'cwd'), env: { PATH: bin, AZ_LOG: log, HOME: dir }, stdio: 'ignore', timeout: 60_000 });
        child.on('error', reject);
        child.on('close', (code, signal) => (signal ? reject(new Error(`${s.file}:${s.line}: bash was stopped (${signal})`)) : resolve()));
      });
      const fields = readFileSync(log, 'utf8').split('\0');
      for (let i = 0; i + 1 < fields.length; ) {
        const line = Number(fields[i]);
        const argc = Number(fields[i + 1]);
        out.push({ args: fields.slice(i + 2, i + 2 + argc), source: `${s.file}:${s.line + Math.max(line, 1) - 1}` });
        i += 2 + argc;
      }
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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

/** `az deployment <scope> create|validate|what-if …` calls and their template and parameters, as az reads its argv. */
export function azDeployments(calls: readonly AzCall[]): AzDeployment[] {
  const out: AzDeployment[] = [];
  for (const { args: w, source } of calls) {
    const [group, scope, verb] = w;
    if (group !== 'deployment') continue;
    if (scope !== 'group' && scope !== 'sub' && scope !== 'mg' && scope !== 'tenant') continue;
    if (!verb || !DEPLOY_VERBS.has(verb)) continue;
    const d: AzDeployment = { scope, verb, templateFile: undefined, parameters: new Map(), parameterFiles: [], source };
    for (let i = 3; i < w.length; i++) {
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
