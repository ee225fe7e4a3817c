import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseDeadLetter } from '../../src/lib/ingest/deadLetter.js';
import { main } from '../../src/cli/main.js';
import { commands } from '../../src/cli/commands/index.js';
import type { CliIo } from '../../src/cli/types.js';
import { validateOcsfEvent } from '../../src/lib/ingest/ocsf/validate.js';

const repo = join(import.meta.dirname, '../..');
const fx = (p: string) => join(repo, 'test/fixtures', p);
const TENANT = '4bbb79f7-5724-4c9e-95f3-de075f6ec090';

function io(stdin = ''): CliIo & { out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { stdin: [Buffer.from(stdin)], stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) }, env: {}, out: () => out.join(''), err: () => err.join('') };
}
const events = (s: string) => s.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { class_uid: number; metadata: { tenant_uid?: string; labels?: string[]; processed_time: number } });

describe('azure-mdr CLI', () => {
  it('lists every registered command in top-level help', async () => {
    const cap = io();
    expect(await main(['--help'], cap)).toBe(0);
    for (const c of commands) expect(cap.out()).toContain(c.name);
  });

  it('prints per-command usage for --help and fails unknown commands with exit 2', async () => {
    const a = io();
    expect(await main(['normalize', '--help'], a)).toBe(0);
    expect(a.out()).toMatch(/^usage: azure-mdr normalize/);
    const b = io();
    expect(await main(['frobnicate'], b)).toBe(2);
    expect(b.err()).toContain("unknown command 'frobnicate'");
  });

  it('normalizes files as a tenant: OCSF NDJSON on stdout, the summary on stderr, foreign records dead-lettered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    const dl = join(dir, 'dl.ndjson');
    const cap = io();
    const code = await main(['normalize', '--tenant', TENANT, '--dead-letter', dl, '--ingest-time', '2026-01-01T00:00:00Z', fx('sign-in/elastic-integrations__test-signinlogs-sample.log'), fx('storage/shan480-dynatrace__img-log1.sh'), fx('sign-in/elastic-integrations__test-signinlogs-raw.log')], cap);
    expect(code).toBe(0);
    const evs = events(cap.out());
    // sample.log: 2 sign-ins of this tenant; img-log1: junk + 1 storage record; raw.log: 5 sign-ins of another tenant.
    expect(evs.map((e) => e.class_uid)).toEqual([3002, 3002, 6003]);
    expect(evs.every((e) => e.metadata.tenant_uid === TENANT && e.metadata.labels === undefined && e.metadata.processed_time === Date.UTC(2026, 0, 1))).toBe(true);
    expect(evs.every((e) => validateOcsfEvent(e).ok)).toBe(true);
    expect(cap.err()).toBe('9 records: 3 events, 6 dead-lettered\n');
    // One dead letter per message with failed records (its bytes once, an outcome per record).
    const dls = readFileSync(dl, 'utf8').trim().split('\n').map((l) => parseDeadLetter(l));
    expect(dls.map((d) => (d.version === 2 ? d.outcomes : ''))).toEqual(['U.', 'TTTTT']);
    expect(dls[1]!.body.equals(readFileSync(fx('sign-in/elastic-integrations__test-signinlogs-raw.log')))).toBe(true);
  });

  it('--omit-unmapped prints the same events without unmapped, raw_data unchanged', async () => {
    const file = fx('sign-in/elastic-integrations__test-signinlogs-raw.log');
    const args = ['normalize', '--ingest-time', '2026-01-01T00:00:00Z', file];
    const kept = io();
    const omitted = io();
    expect(await main(args, kept)).toBe(0);
    expect(await main([...args, '--omit-unmapped'], omitted)).toBe(0);
    const a = kept.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const b = omitted.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(a.length).toBe(5);
    expect(a.every((e) => e.unmapped !== undefined)).toBe(true);
    expect(b).toEqual(a.map(({ unmapped: _u, ...rest }) => rest));
    expect(omitted.err()).toBe(kept.err());
  });

  it('reads stdin with --lines, one body per line, and marks offline attribution without --tenant', async () => {
    const cap = io(`${readFileSync(fx('sign-in/elastic-integrations__test-signinlogs-raw.log'), 'utf8')}\nnot json\n`);
    expect(await main(['normalize', '--lines'], cap)).toBe(0);
    const evs = events(cap.out());
    expect(evs).toHaveLength(5);
    expect(evs.every((e) => e.metadata.labels?.includes('attribution:unverified'))).toBe(true);
    expect(cap.err()).toMatch(/^6 records: 5 events, 1 dead-lettered/);
  });

  it('rejects a malformed --tenant with a usage error', async () => {
    const cap = io();
    expect(await main(['normalize', '--tenant', 'contoso'], cap)).toBe(2);
    expect(cap.err()).toContain('--tenant must be a tenant GUID');
  });

  it('runs through the built bin/azure-mdr.js with node', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(repo, 'bin/azure-mdr.js'), 'normalize', '--tenant', TENANT, fx('key-vault/otel-collector-contrib__azureencoding__general-maximum.json'), fx('key-vault/msdocs-azure-security-docs__key-vault-general-logging.md__block0.json')], { cwd: repo });
    // general-maximum's records name the placeholder tenant '/TENANT_ID': refused for this tenant.
    expect(events(stdout).map((e) => e.class_uid)).toEqual([6003]);
    expect(stderr).toBe('4 records: 1 events, 3 dead-lettered (use --dead-letter FILE to keep them)\n');
  });
});
