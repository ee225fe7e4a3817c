import type { CoverageEntry, CoverageState, TargetId } from '../registry/types.js';
import { describeMissing } from './entraLogs.js';

export interface CoverageReport {
  tenantId: string;
  totals: {
    targets: number;
    /** Targets that stream (streaming + created + repaired). */
    covered: number;
    byState: Partial<Record<CoverageState, number>>;
    byTarget: Partial<Record<TargetId, Partial<Record<CoverageState, number>>>>;
  };
  entries: CoverageEntry[];
}

const COVERED = new Set<CoverageState>(['streaming', 'created', 'repaired']);

/** Ledger → the JSON served by GET /api/tenants/{id}/coverage and `azure-mdr coverage --json`. */
export function coverageReport(tenantId: string, entries: readonly CoverageEntry[]): CoverageReport {
  const byState: CoverageReport['totals']['byState'] = {};
  const byTarget: CoverageReport['totals']['byTarget'] = {};
  for (const e of entries) {
    byState[e.state] = (byState[e.state] ?? 0) + 1;
    const t = (byTarget[e.target] ??= {});
    t[e.state] = (t[e.state] ?? 0) + 1;
  }
  const sorted = [...entries].sort((a, b) => a.target.localeCompare(b.target) || a.resourceId.localeCompare(b.resourceId));
  return { tenantId, totals: { targets: entries.length, covered: entries.filter((e) => COVERED.has(e.state)).length, byState, byTarget }, entries: sorted };
}

/** A short id for tables: the last segments that tell a resource apart. */
function shortId(id: string): string {
  const s = id.split('/').filter(Boolean);
  if (s.length <= 2) return id;
  const svc = s.indexOf('providers');
  return svc >= 0 ? s.slice(svc + 2).join('/') : s.slice(-2).join('/');
}

/** Plain-text table for the CLI: one line per target, then totals. */
export function formatCoverageTable(r: CoverageReport): string {
  // READ AT: when the reconciler last read the target from ARM; between reads the activity log vouches for it.
  const readAt = (e: CoverageEntry) => (e.observedAt ? `${e.observedAt.slice(0, 16).replace('T', ' ')}Z` : '-');
  const tamper = (e: CoverageEntry) => (e.tamper ? `TAMPERED ${e.tamper.at.slice(0, 19)}Z by ${e.tamper.caller ?? '?'}${e.tamper.callerIp ? ` from ${e.tamper.callerIp}` : ''} (finding ${e.tamper.findingUid})` : '');
  const skipped = (e: CoverageEntry) => (e.entraTables?.missing.length ? `not in the workspace: ${describeMissing(e.entraTables.missing)}` : '');
  const rows = r.entries.map((e) => [e.target, e.state, e.region, readAt(e), shortId(e.resourceId), [e.reasonCode, e.detail, skipped(e), tamper(e)].filter(Boolean).join('; ')]);
  const head = ['TARGET', 'STATE', 'REGION', 'READ AT', 'RESOURCE', 'DETAIL'];
  const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length))));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  const totals = Object.entries(r.totals.byState)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return [line(head), ...rows.map(line), '', `tenant ${r.tenantId}: ${r.totals.covered}/${r.totals.targets} targets streaming${totals ? ` (${totals})` : ''}`, ''].join('\n');
}
