import type { HealthRunReport } from './runHealthCheck.js';

/** Plain-text report for `azure-mdr health`: per tenant its verdict, hubs, then one line per source. */
export function formatHealth(r: HealthRunReport): string {
  const out: string[] = [];
  for (const t of r.tenants) {
    out.push(`tenant ${t.tenantId}: ${t.verdict} — ${t.reason}`);
    for (const h of t.hubs) out.push(`  hub ${h.namespace}/${h.hub} (${h.region}): ${h.verdict} — ${h.reason}`);
    const width = Math.max(6, ...t.sources.map((s) => s.source.length));
    for (const s of t.sources) out.push(`  ${s.source.padEnd(width)}  ${s.verdict.padEnd(10)}  ${s.reason}`);
    out.push('');
  }
  for (const e of r.errors) out.push(`tenant ${e.tenantId}: not evaluated — ${e.message}`);
  const changed = r.ledgerChanges.map((c) => `  ${c.target} ${c.resourceId}: ${c.from} -> ${c.to}`);
  if (changed.length > 0) out.push(r.dryRun ? 'ledger changes (not written; use --record):' : 'ledger changes:', ...changed);
  if (r.fleet) {
    const f = r.fleet;
    out.push(`ingest fleet: ${f.apps.length} app(s), ${f.used} of ${f.capacity} hub slots used (${f.maxHubsPerApp} per app)${f.full ? ' — FULL' : ''}`);
    for (const a of f.apps) out.push(`  ${a.name} (${a.state}): ${a.hubs} hub(s), ${a.free} free`);
    for (const p of f.problems) out.push(`  ! ${p}`);
  }
  out.push(`evaluated ${r.evaluatedAt}, silence threshold ${r.thresholdMinutes} min`, '');
  return out.join('\n');
}
