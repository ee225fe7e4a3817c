import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compactNumberArrays, KEPT_NOTES_HEADING, runtimeNote, withCpuFamily, writeResultsMarkdown, type BenchResults } from '../../scripts/bench/results.js';
import { repoRoot } from '../../scripts/bench/repoRoot.js';
import { runtimeMajor, shippedNodeMajor } from '../../scripts/bench/shippedRuntime.js';
import { summarizeProfile } from '../../scripts/bench/profileSummary.js';

const dir = mkdtempSync(join(tmpdir(), 'bench-results-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A run with no section measured (cast: a section added to BenchResults later needs no edit here; absent reads as not run).
const results = {
  date: '2026-01-01T00:00:00.000Z',
  machine: { node: 'v20', platform: 'linux-x64', cpus: 2, cpuModel: 'test', memoryGiB: 1 },
  quick: true,
  ingest: null,
  reconcile: null,
  eventDriven: null,
  coldStart: null,
  skipped: { ingest: 'not selected' },
} as unknown as BenchResults;

describe('bench/RESULTS.md', () => {
  it('is rewritten by --write but keeps the notes section (before/after, profiles) of the previous file', () => {
    const path = join(dir, 'RESULTS.md');
    writeFileSync(path, `# old table\n\n${KEPT_NOTES_HEADING}\n\nbefore: 0.27, after: 0.31\n`);
    writeResultsMarkdown(path, results);
    const md = readFileSync(path, 'utf8');
    expect(md).not.toContain('# old table');
    expect(md).toContain('2026-01-01T00:00:00.000Z');
    expect(md.endsWith(`${KEPT_NOTES_HEADING}\n\nbefore: 0.27, after: 0.31\n`)).toBe(true);
  });

  it('without a notes section is just the run', () => {
    const path = join(dir, 'fresh.md');
    writeResultsMarkdown(path, results);
    expect(readFileSync(path, 'utf8')).not.toContain(KEPT_NOTES_HEADING);
  });
});

describe('CPU profile summary', () => {
  it('sums self time per function over the samples and ranks it', () => {
    const frame = (id: number, functionName: string, url: string, lineNumber: number) => ({ id, callFrame: { functionName, url, lineNumber } });
    const profile = {
      nodes: [frame(1, '(root)', '', 0), frame(2, 'stringify', 'file:///app/dist/out/blob.js', 9), frame(3, 'parse', 'file:///app/dist/dec/body.js', 1), frame(4, 'stringify', 'file:///app/dist/out/blob.js', 9)],
      samples: [2, 3, 2, 4, 1],
      timeDeltas: [1000, 1000, 1000, 1000, 1000],
    };
    expect(summarizeProfile(profile, 2)).toEqual([
      { frame: 'stringify out/blob.js:10', selfMs: 3, share: 60 },
      { frame: 'parse dec/body.js:2', selfMs: 1, share: 20 },
    ]);
  });
});

describe('the Full JSON block', () => {
  it('puts arrays of numbers on one line and keeps the JSON equal to what was measured', () => {
    const value = { perOnboarding: Array.from({ length: 1000 }, (_, i) => (i % 7 === 0 ? 2 : 1)), spread: { min: -0.5, max: 1e-7 }, rows: [{ bindings: 100 }], empty: [], words: ['1', 'a'] };
    const pretty = JSON.stringify(value, null, 2);
    const compact = compactNumberArrays(pretty);
    expect(JSON.parse(compact)).toEqual(value);
    expect(compact.split('\n').length).toBeLessThan(30);
    expect(compact).toContain('"perOnboarding": [2, 1, 1,');
    expect(compact).toContain('"words": [\n');
  });
});

describe('the runtime a bench run measured on', () => {
  it('is the Node major both Flex Consumption apps declare in infra/', () => {
    const root = repoRoot();
    const declared = ['infra/main.bicep', 'infra/modules/ingestApp.bicep'].map((f) => runtimeMajor(readFileSync(join(root, f), 'utf8')));
    expect(declared[0]).toMatch(/^\d+$/);
    expect(declared[1]).toBe(declared[0]);
    expect(shippedNodeMajor(root)).toBe(declared[0]);
  });

  it('is named in the results, with the command to measure on the shipped runtime when it is another', () => {
    const on = (node: string, shippedNode?: string): string => runtimeNote({ ...results.machine, node, shippedNode });
    expect(on('v22.23.5', '22')).toBe('node v22.23.5 (the runtime the apps ship on: Node 22, infra/)');
    expect(on('v20.20.2', '22')).toContain('NOT the runtime the apps ship on (Node 22, infra/)');
    expect(on('v20.20.2', '22')).toContain('`npx -y -p node@22 -- npm run bench`');
    expect(on('v20.20.2')).toBe('node v20.20.2');
    const path = join(dir, 'runtime.md');
    writeResultsMarkdown(path, { ...results, machine: { ...results.machine, node: 'v20.1.0', shippedNode: '22' } });
    expect(readFileSync(path, 'utf8')).toContain('- Runtime: node v20.1.0, NOT the runtime the apps ship on (Node 22, infra/)');
  });
});

describe('the machine a bench run measured on', () => {
  it('names the CPU family and model when /proc/cpuinfo gives them (a VM may report only "AMD EPYC")', () => {
    // The first lines of /proc/cpuinfo on the VM of 2026-12-03 (lscpu: CPU family 26, model 2).
    const cpuinfo = 'processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\nstepping\t: 1\n';
    expect(withCpuFamily('AMD EPYC', cpuinfo)).toBe('AMD EPYC (family 26, model 2)');
    expect(withCpuFamily('Apple M2', '')).toBe('Apple M2');
    expect(withCpuFamily('AMD EPYC', 'cpu family\t: 25\n')).toBe('AMD EPYC');
  });
});
