import type { DataExport } from '@azure/arm-operationalinsights';
import { isNotFound } from '../../azure/classifyError.js';
import type { HubAssignment } from '../../registry/types.js';
import { parseArmId } from '../armId.js';
import { isOurs, resolveOurs, type Ownership, type OwnershipEvidence } from '../ownership.js';
import { sameId, sameNameSet, type Change } from '../plan.js';
import type { ReconcileTarget, TargetContext, TargetItem } from '../target.js';
import { ENTRA_TABLES, splitByPresence } from '../entraLogs.js';

export { ENTRA_TABLES };
/** Active data-export rules per workspace (logs-data-export.md). */
export const MAX_ACTIVE_EXPORT_RULES = 10;

export interface DesiredDataExport {
  workspaceId: string;
  name: string;
  /** Event Hubs NAMESPACE id (data export takes no SAS rule). */
  destinationResourceId: string;
  /** Always named: without it one hub per table (`am-<Table>`) would be created. */
  eventHubName: string;
  tableNames: readonly string[];
}
export interface ObservedDataExport {
  name: string;
  destinationResourceId?: string;
  eventHubName?: string;
  tableNames: string[];
  enabled: boolean;
}

const evidenceOf = (r: ObservedDataExport): OwnershipEvidence => ({ name: r.name, destinations: [r.destinationResourceId] });

/** Ours = prefixed AND (the ledger says we wrote it OR it exports to a namespace of our pool) — ownership.ts. */
export function diffDataExport(desired: DesiredDataExport, actual: readonly ObservedDataExport[], own: Ownership): Change[] {
  const changes: Change[] = [];
  const r = resolveOurs(desired.name, actual, own, evidenceOf);
  for (const x of r.stale) changes.push({ kind: 'delete', name: x.name, reason: `stale rule of ours (we keep only '${r.ours?.name ?? r.createAs}')`, coverage: 'repaired' });
  const ours = r.ours;
  if (ours) {
    const problems: string[] = [];
    if (!sameId(ours.destinationResourceId, desired.destinationResourceId)) problems.push('exports to another namespace');
    if ((ours.eventHubName ?? '').toLowerCase() !== desired.eventHubName.toLowerCase()) problems.push(`hub '${ours.eventHubName ?? '(per table)'}' instead of '${desired.eventHubName}'`);
    if (!sameNameSet(ours.tableNames, desired.tableNames)) problems.push(`tables changed (${ours.tableNames.join(', ')})`);
    if (!ours.enabled) problems.push('disabled');
    // Enabling ours takes an active slot like a create does: with the workspace's slots all held, it would be refused.
    if (!ours.enabled && slotsHeld(r.others)) return [...changes, slotsExhausted(desired, r.others)];
    if (problems.length) changes.push({ kind: 'update', name: ours.name, reason: `drifted: ${problems.join('; ')}`, coverage: 'repaired' });
    return changes;
  }
  if (slotsHeld(r.others)) return [...changes, slotsExhausted(desired, r.others)];
  const held = r.heldBy ? `; '${r.heldBy.name}' is not ours (we never wrote it and it exports to no namespace of our pool), so ours is '${r.createAs}'` : '';
  changes.push({ kind: 'create', name: r.createAs, reason: `no export rule of ours${held}`, coverage: 'created' });
  return changes;
}

const slotsHeld = (others: readonly ObservedDataExport[]) => others.filter((x) => x.enabled).length >= MAX_ACTIVE_EXPORT_RULES;

function slotsExhausted(desired: DesiredDataExport, others: readonly ObservedDataExport[]): Change {
  const active = others.filter((x) => x.enabled);
  return {
    kind: 'blocked',
    name: desired.name,
    reason: `workspace already has ${active.length} active data-export rules (limit ${MAX_ACTIVE_EXPORT_RULES})`,
    coverage: 'slots-exhausted',
    detail: `held by: ${active.map((x) => x.name).join(', ')}`,
  };
}

/** What a read of an Entra workspace shows: the export rules on it and the tables it holds (Tables_ListByWorkspace). */
export interface ObservedEntraWorkspace {
  exports: ObservedDataExport[];
  tables: string[];
}

/**
 * The rule takes only the Entra tables the workspace holds: a rule naming a table the workspace lacks is refused
 * ("Table <tableName> does not exist in the workspace", MicrosoftDocs/azure-docs logs-data-export.md @0116dfe6). The
 * split is what the ledger shows: exported and missing tables, `entra-tables-missing` when some are skipped.
 */
export function refineEntraExport(desired: DesiredDataExport, actual: ObservedEntraWorkspace): { desired: DesiredDataExport; facts: { reasonCode?: string; entraTables: { exported: string[]; missing: string[] } } } {
  const split = splitByPresence(desired.tableNames, actual.tables);
  return {
    desired: { ...desired, tableNames: split.exported },
    facts: { entraTables: split, ...(split.missing.length > 0 && split.exported.length > 0 ? { reasonCode: 'entra-tables-missing' } : {}) },
  };
}

/**
 * A workspace holding none of the Entra tables gets no rule (it could name no table): the customer's Entra diagnostic
 * setting does not send to it, a step only the customer can take (docs/onboarding.md "Entra ID logs"). Otherwise the
 * rule diff of diffDataExport.
 */
export function diffEntraExport(desired: DesiredDataExport, actual: ObservedEntraWorkspace, own: Ownership): Change[] {
  if (desired.tableNames.length === 0)
    return [
      {
        kind: 'blocked',
        name: desired.name,
        reason: 'the workspace holds none of the Entra ID tables: the tenant\'s Entra diagnostic setting does not send to it',
        coverage: 'unsupported',
        reasonCode: 'entra-logs-absent',
        detail: `the customer creates it with the onboarding material's entraDiagnostics commands (categories for ${ENTRA_TABLES.join(', ')})`,
      },
    ];
  return diffDataExport(desired, actual.exports, own);
}

const workspaceOf = (workspaceId: string) => {
  const p = parseArmId(workspaceId);
  return { subscriptionId: p.subscriptionId, resourceGroup: p.resourceGroup, workspace: p.parts.get('workspaces') ?? p.name };
};

async function listExports(ctx: TargetContext, workspaceId: string): Promise<ObservedDataExport[] | undefined> {
  const w = workspaceOf(workspaceId);
  const client = await ctx.clients.operationalInsights(w.subscriptionId);
  try {
    const out: ObservedDataExport[] = [];
    for await (const r of client.dataExports.listByWorkspace(w.resourceGroup, w.workspace)) {
      out.push({
        name: r.name ?? '',
        destinationResourceId: r.destination?.resourceId,
        eventHubName: r.destination?.eventHubName,
        tableNames: r.tableNames ?? [],
        enabled: r.enable !== false,
      });
    }
    return out;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** The workspace's tables (Tables_ListByWorkspace, 2025-07-01; readable with Reader or Log Analytics Contributor, whose actions include every read). */
async function listTables(ctx: TargetContext, workspaceId: string): Promise<string[] | undefined> {
  const w = workspaceOf(workspaceId);
  const client = await ctx.clients.operationalInsights(w.subscriptionId);
  try {
    const out: string[] = [];
    for await (const t of client.tables.listByWorkspace(w.resourceGroup, w.workspace)) if (t.name) out.push(t.name);
    return out;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** A Log Analytics workspace holding the tenant's Entra logs → data export of the Entra tables it holds to the hub in its region. */
export const entraDataExportTarget: ReconcileTarget<DesiredDataExport, ObservedEntraWorkspace> = {
  id: 'entra-data-export',
  desired: (item: TargetItem, hub: HubAssignment, prefix: string) => ({
    workspaceId: item.resourceId,
    name: `${prefix}-entra-export`,
    destinationResourceId: hub.namespaceId,
    eventHubName: hub.hub,
    tableNames: ENTRA_TABLES,
  }),
  observe: async (ctx, item) => {
    const [exports, tables] = await Promise.all([listExports(ctx, item.resourceId), listTables(ctx, item.resourceId)]);
    return exports === undefined || tables === undefined ? undefined : { exports, tables };
  },
  refine: refineEntraExport,
  diff: diffEntraExport,
  apply: async (ctx, desired, changes) => {
    const w = workspaceOf(desired.workspaceId);
    const client = await ctx.clients.operationalInsights(w.subscriptionId);
    for (const c of changes) {
      if (c.kind === 'delete') await client.dataExports.delete(w.resourceGroup, w.workspace, c.name);
      else if (c.kind === 'create' || c.kind === 'update') {
        const body: DataExport = {
          destination: { resourceId: desired.destinationResourceId, eventHubName: desired.eventHubName },
          tableNames: [...desired.tableNames],
          enable: true,
        };
        await client.dataExports.createOrUpdate(w.resourceGroup, w.workspace, c.name, body);
      }
    }
  },
  owned: (actual, own) => actual.exports.filter((r) => isOurs(own, evidenceOf(r))).map((r) => r.name),
  remove: async (ctx, item, name) => {
    const w = workspaceOf(item.resourceId);
    await (await ctx.clients.operationalInsights(w.subscriptionId)).dataExports.delete(w.resourceGroup, w.workspace, name);
  },
};
