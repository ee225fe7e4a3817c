/**
 * Top frames of a V8 CPU profile by self time, as a Markdown table (bench/RESULTS.md keeps one before and after).
 *   node dist/scripts/bench/profileSummary.js DIR|FILE.cpuprofile [top=25]
 * With a directory, the newest .cpuprofile in it. Self time is summed per function (name, file, line); the share is
 * of all samples, idle and GC included.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function summarizeProfile(p: CpuProfile, top: number): { frame: string; selfMs: number; share: number }[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const n = byId.get(id);
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    if (!n) return;
    const cf = n.callFrame;
    const file = cf.url ? cf.url.split('/').slice(-2).join('/') : '';
    const key = `${cf.functionName || '(anonymous)'}${file ? ` ${file}:${cf.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([frame, us]) => ({ frame, selfMs: Math.round(us / 1000), share: Math.round((us / total) * 1000) / 10 }));
}

function newestProfile(path: string): string {
  if (!statSync(path).isDirectory()) return path;
  const files = readdirSync(path)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(path, f))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
  const last = files.at(-1);
  if (!last) throw new Error(`no .cpuprofile in ${path}`);
  return last;
}

if (process.argv[1] && basename(process.argv[1]) === 'profileSummary.js') {
  const file = newestProfile(process.argv[2] ?? '.');
  const rows = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(process.argv[3] ?? 25));
  process.stdout.write(['| self % | self ms | function |', '|---:|---:|---|', ...rows.map((r) => `| ${r.share} | ${r.selfMs} | \`${r.frame}\` |`)].join('\n') + '\n');
}
