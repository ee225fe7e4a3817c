import type { DataExport } from '@azure/arm-operationalinsights';
import { isNotFound } from '../../azure/classifyError.js';
import type { HubAssignment } from '../../registry/types.js';
import { parseArmId } from '../armId.js';
import { isOwnedName, sameId, sameNameSet, type Change } from '../plan.js';
import type { ReconcileTarget, TargetContext, TargetItem } from '../target.js';

/** Entra ID tables a workspace fed by the tenant's Entra diagnostic setting holds. */
export const ENTRA_TABLES = ['SigninLogs', 'AuditLogs', 'AADNonInteractiveUserSignInLogs', 'AADServicePrincipalSignInLogs', 'AADManagedIdentitySignInLogs'] as const;
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

export function diffDataExport(desired: DesiredDataExport, actual: readonly ObservedDataExport[], prefix: string): Change[] {
  const changes: Change[] = [];
  const ours = actual.find((r) => r.name.toLowerCase() === desired.name.toLowerCase());
  for (const r of actual) {
    if (r !== ours && isOwnedName(r.name, prefix)) changes.push({ kind: 'delete', name: r.name, reason: `stale rule of ours (expected only '${desired.name}')`, coverage: 'repaired' });
  }
  if (ours) {
    const problems: string[] = [];
    if (!sameId(ours.destinationResourceId, desired.destinationResourceId)) problems.push('exports to another namespace');
    if ((ours.eventHubName ?? '').toLowerCase() !== desired.eventHubName.toLowerCase()) problems.push(`hub '${ours.eventHubName ?? '(per table)'}' instead of '${desired.eventHubName}'`);
    if (!sameNameSet(ours.tableNames, desired.tableNames)) problems.push(`tables changed (${ours.tableNames.join(', ')})`);
    if (!ours.enabled) problems.push('disabled');
    if (problems.length) changes.push({ kind: 'update', name: desired.name, reason: `drifted: ${problems.join('; ')}`, coverage: 'repaired' });
    return changes;
  }
  const active = actual.filter((r) => r.enabled && !isOwnedName(r.name, prefix));
  if (active.length >= MAX_ACTIVE_EXPORT_RULES) {
    return [
      ...changes,
      {
        kind: 'blocked',
        name: desired.name,
        reason: `workspace already has ${active.length} active data-export rules (limit ${MAX_ACTIVE_EXPORT_RULES})`,
        coverage: 'slots-exhausted',
        detail: `held by: ${active.map((r) => r.name).join(', ')}`,
      },
    ];
  }
  changes.push({ kind: 'create', name: desired.name, reason: 'no export rule of ours', coverage: 'created' });
  return changes;
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

/** A Log Analytics workspace holding the tenant's Entra logs → data export of the Entra tables to the hub in its region. */
export const entraDataExportTarget: ReconcileTarget<DesiredDataExport, ObservedDataExport[]> = {
  id: 'entra-data-export',
  desired: (item: TargetItem, hub: HubAssignment, prefix: string) => ({
    workspaceId: item.resourceId,
    name: `${prefix}-entra-export`,
    destinationResourceId: hub.namespaceId,
    eventHubName: hub.hub,
    tableNames: ENTRA_TABLES,
  }),
  observe: (ctx, item) => listExports(ctx, item.resourceId),
  diff: diffDataExport,
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
        await client.dataExports.createOrUpdate(w.resourceGroup, w.workspace, desired.name, body);
      }
    }
  },
  owned: (actual, prefix) => actual.filter((r) => isOwnedName(r.name, prefix)).map((r) => r.name),
  remove: async (ctx, item, name) => {
    const w = workspaceOf(item.resourceId);
    await (await ctx.clients.operationalInsights(w.subscriptionId)).dataExports.delete(w.resourceGroup, w.workspace, name);
  },
};
