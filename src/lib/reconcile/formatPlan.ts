import type { PlannedAction } from './plan.js';
import type { ReconcileReport } from './reconcileTenant.js';

/** Human-readable plan (`azure-mdr reconcile`): one line per target, then counts. */
export function formatPlan(r: ReconcileReport): string {
  const lines = r.plan.map((a: PlannedAction) => `${a.kind.padEnd(7)} ${a.target.padEnd(20)} ${a.resourceId}${a.name ? ` [${a.name}]` : ''}\n        ${a.coverage}: ${a.reason}${a.detail ? ` (${a.detail})` : ''}`);
  const kinds = Object.entries(r.actions)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const errors = r.errors.filter((e) => !r.plan.some((a) => a.resourceId === e.resourceId)).map((e) => `error   ${e.resourceId}: ${e.message}`);
  return [
    ...lines,
    ...errors,
    '',
    `${r.dryRun ? 'plan (dry run, nothing written)' : 'applied'} for tenant ${r.tenantId}: ${kinds || 'no targets'}; result ${r.result}; ${r.durationMs} ms; ARM reads ${r.armReads}, writes ${r.armWrites}`,
    '',
  ].join('\n');
}
