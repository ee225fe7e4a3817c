import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failedRecordsOf, parseDeadLetter } from '../../src/lib/ingest/deadLetter.js';
import { FINAL_STATES, runSandbox, type SandboxResult } from '../../scripts/sandbox/runSandbox.js';
import { loadScenario, type Scenario } from '../../sim/scenario.js';
import { validateOcsfEvent } from '../../src/lib/ingest/ocsf/validate.js';
import type { CoverageReport } from '../../src/lib/reconcile/coverageReport.js';

/**
 * `npm run sandbox` in-process on the example scenario: the four files, valid OCSF, the expected dead letters,
 * a complete and final coverage ledger (eligible resources computed from the scenario here, not by the reconciler),
 * a readable report, and nothing lost between the records the handler saw and the blobs it wrote.
 */
const root = join(import.meta.dirname, '..', '..');
const scenarioPath = join(root, 'scenarios', 'example.json');
let outDir: string;
let result: SandboxResult;
let scenario: Scenario;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'sandbox-test-'));
  scenario = await loadScenario(scenarioPath);
  result = await runSandbox({ scenarioPath, outDir });
}, 180_000);
afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');

/** Storage services per account kind, as Azure documents them (Premium general-purpose accounts: blob only). */
function servicesOf(kind: string, sku: string): string[] {
  const k = kind.toLowerCase();
  if (k === 'storagev2' || k === 'storage') return sku.toLowerCase().startsWith('premium') ? ['blob'] : ['blob', 'queue', 'table', 'file'];
  if (k === 'blobstorage' || k === 'blockblobstorage') return ['blob'];
  if (k === 'filestorage') return ['file'];
  return [];
}

/** Every export target the scenario's first tenant should have an entry for: `target|resourceId` in lower case. */
function eligibleTargets(s: Scenario): string[] {
  const out: string[] = [];
  for (const sub of s.tenants[0]!.subscriptions.filter((x) => x.delegated && x.state === 'Enabled')) {
    const base = `/subscriptions/${sub.subscriptionId}`;
    out.push(`activity-log|${base}`, `defender-export|${base}/resourcegroups/mdrautomation`);
    for (const a of sub.storageAccounts)
      for (const svc of servicesOf(a.kind, a.sku)) out.push(`storage-diagnostics|${base}/resourcegroups/${a.resourceGroup}/providers/microsoft.storage/storageaccounts/${a.name}/${svc}services/default`);
    for (const v of sub.keyVaults) out.push(`keyvault-diagnostics|${base}/resourcegroups/${v.resourceGroup}/providers/microsoft.keyvault/vaults/${v.name}`);
    for (const w of sub.workspaces) out.push(`entra-data-export|${base}/resourcegroups/${w.resourceGroup}/providers/microsoft.operationalinsights/workspaces/${w.name}`);
  }
  return out.map((x) => x.toLowerCase()).sort();
}

describe('npm run sandbox on scenarios/example.json (in-process)', () => {
  it('writes the four output files and reports no failed check', () => {
    for (const f of ['events.ocsf.ndjson', 'dead-letters.ndjson', 'coverage.json', 'report.md']) expect(existsSync(join(outDir, f)), f).toBe(true);
    expect(result.problems).toEqual([]);
  });

  it('writes only events that validate against OCSF 1.8.0, and at least one per mapped source class', () => {
    const events = lines(join(outDir, 'events.ocsf.ndjson')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.length).toBeGreaterThan(50);
    for (const ev of events) expect(validateOcsfEvent(ev).errors, String((ev.metadata as { uid?: string }).uid)).toEqual([]);
    expect(new Set(events.map((e) => e.class_uid)).size).toBeGreaterThanOrEqual(5);
    // Attribution follows the hub: every event belongs to the onboarded tenant.
    expect(new Set(events.map((e) => (e.metadata as { tenant_uid?: string }).tenant_uid))).toEqual(new Set([scenario.tenants[0]!.tenantId.toLowerCase()]));
  });

  it('dead-letters the malformed bodies with their reasons, including the record that claims another tenant', () => {
    const dls = lines(join(outDir, 'dead-letters.ndjson')).map((l) => parseDeadLetter(l));
    const failed = dls.flatMap((d) => (d.version === 2 ? failedRecordsOf(d).map((f) => ({ ...f, body: d.body })) : []));
    const reasons = new Set(failed.map((f) => f.reason));
    expect(reasons).toContain('unparseable');
    expect(reasons).toContain('tenant-mismatch');
    const mismatch = failed.filter((f) => f.reason === 'tenant-mismatch');
    // The record's bytes are in its message's stored body, at the listed byte range.
    expect(mismatch.some((f) => f.listed?.start !== undefined && f.body.subarray(f.listed.start, f.listed.end).toString('utf8').includes('0badf00d-0000-4000-8000-00000000f00d'))).toBe(true);
  });

  it('accounts for every record: records in = events + dead letters read back from the blobs', () => {
    const events = lines(join(outDir, 'events.ocsf.ndjson')).length;
    const dls = lines(join(outDir, 'dead-letters.ndjson'))
      .map((l) => parseDeadLetter(l))
      .reduce((n, d) => n + (d.version === 2 ? failedRecordsOf(d).length : 1), 0);
    expect(result.ingest.records).toBeGreaterThan(0);
    expect(events + dls).toBe(result.ingest.records);
    expect(events).toBe(result.ingest.handlerEvents);
    expect(dls).toBe(result.ingest.handlerDeadLetters);
  });

  it('leaves every eligible resource of the scenario in a final coverage state after the reconciler converged', () => {
    const coverage = JSON.parse(readFileSync(join(outDir, 'coverage.json'), 'utf8')) as CoverageReport;
    const entries = new Map(coverage.entries.map((e) => [`${e.target}|${e.resourceId}`.toLowerCase(), e.state]));
    const eligible = eligibleTargets(scenario);
    expect(eligible.length).toBeGreaterThan(10);
    expect(eligible.filter((k) => !entries.has(k))).toEqual([]);
    for (const k of eligible) expect(FINAL_STATES.has(entries.get(k)!), `${k}: ${entries.get(k)}`).toBe(true);
    expect(coverage.entries.filter((e) => e.state === 'failed')).toEqual([]);
    expect(result.reconcile.converged).toBe(true);
    expect(result.reconcile.runs.at(-1)!.plannedWrites).toBe(0);
    // the first run reads everything; the converged run takes diagnostic settings from the ledger on the activity log's word
    expect(result.reconcile.runs[0]!.trusted).toBe(0);
    expect(result.reconcile.runs.at(-1)!.trusted).toBeGreaterThan(0);
    expect(result.reconcile.runs.at(-1)!.arm.reads).toBeLessThan(result.reconcile.runs[0]!.arm.reads);
  });

  it('writes a report with the tenant, hubs, coverage, events, dead letters, health, alert-state and ARM sections', () => {
    const md = readFileSync(join(outDir, 'report.md'), 'utf8');
    for (const h of ['## Tenant', '## Event hubs', '## Coverage', '## Events per OCSF class', '## Dead letters by reason', '## Stream health', '## Alert-state sync', '## ARM calls made'])
      expect(md, h).toContain(h);
    expect(md).toContain(scenario.tenants[0]!.displayName);
    for (const h of result.hubs) expect(md).toContain(h.namespace);
    expect(md).toMatch(/tenant-mismatch \| \d+/);
  });

  it('reports stream health for the tenant and the alert-state change confirmed through ARM', () => {
    expect(result.health.tenants.map((t) => t.tenantId)).toEqual([scenario.tenants[0]!.tenantId.toLowerCase()]);
    expect(result.health.tenants[0]!.hubs.length).toBe(result.hubs.length);
    expect('result' in result.alert && result.alert.result?.to).toBe('InProgress');
    expect('confirmedStatus' in result.alert && result.alert.confirmedStatus).toBe('InProgress');
    expect(result.arm.total.writes).toBeGreaterThan(0);
  });

  it('covers a new storage account and puts back a deleted setting of ours from their activity-log records, with a tamper finding the ledger records', () => {
    const ed = result.eventDriven;
    expect(ed.changes).toHaveLength(2);
    for (const c of ed.changes) expect(c.latencyMs, c.change).toBeGreaterThanOrEqual(0);
    // Both changes arrived in one ingest batch: one targeted item covers them.
    expect(ed.workItems).toBe(1);
    expect(ed.finding).toMatchObject({ valid: true, caller: expect.stringContaining('customer-admin'), callerIp: expect.stringMatching(/^203\.0\.113\./) });
    expect(validateOcsfEvent(ed.finding!.event).errors).toEqual([]);
    expect(ed.ledgerTamper).toMatchObject({ findingUid: ed.finding!.uid, operation: 'microsoft.insights/diagnosticsettings/delete' });
    const written = JSON.parse(readFileSync(join(outDir, 'event-driven.json'), 'utf8')) as { finding: { uid: string } };
    expect(written.finding.uid).toBe(ed.finding!.uid);
    expect(readFileSync(join(outDir, 'report.md'), 'utf8')).toContain('## Event-driven coverage and tamper response');
  });
});
