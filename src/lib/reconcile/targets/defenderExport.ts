import type { Automation, AutomationActionEventHub } from '@azure/arm-security';
import { classifyArmError, isNotFound } from '../../azure/classifyError.js';
import { ConnectorError, PROVIDER_SIDE } from '../../errors.js';
import type { HubAssignment } from '../../registry/types.js';
import { parseArmId } from '../armId.js';
import { carriesOurTag, isOurs, resolveOurs, type Ownership, type OwnershipEvidence } from '../ownership.js';
import { sameId, type Change } from '../plan.js';
import type { ReconcileTarget, TargetContext, TargetItem } from '../target.js';

export interface DesiredDefenderExport {
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  name: string;
  /** Event hub ENTITY id (…/namespaces/<ns>/eventhubs/<hub>). */
  eventHubResourceId: string;
  /** Hub-level Send rule whose connection string the action needs (fetched only when writing). */
  sendRuleId: string;
  scopePath: string;
}
export interface ObservedAutomation {
  name: string;
  resourceGroup: string;
  isEnabled: boolean;
  eventSources: string[];
  scopePaths: string[];
  /** EventHub actions; `connectionString` is write-only so drift is judged on these two. */
  eventHubActions: { eventHubResourceId?: string; sasPolicyName?: string }[];
  tags?: Record<string, string>;
}

const evidenceOf = (a: ObservedAutomation): OwnershipEvidence => ({
  name: a.name,
  qualifiedName: `${a.resourceGroup}/${a.name}`,
  destinations: a.eventHubActions.map((x) => x.eventHubResourceId),
  tags: a.tags,
});

/**
 * Ours = prefixed AND (the ledger says we wrote it OR it exports to a hub of our pool OR it carries our tag) —
 * ownership.ts. A customer automation with our prefix (`mdr-alerts-to-teams` in another resource group) is never
 * touched; one holding our name in the automation group makes ours `<name>-2`.
 */
export function diffDefenderExport(desired: DesiredDefenderExport, actual: readonly ObservedAutomation[], own: Ownership): Change[] {
  const changes: Change[] = [];
  const inGroup = (a: ObservedAutomation) => a.resourceGroup.toLowerCase() === desired.resourceGroup.toLowerCase();
  const r = resolveOurs(desired.name, actual, own, evidenceOf, inGroup);
  for (const a of r.stale) changes.push({ kind: 'delete', name: a.name, scope: a.resourceGroup, reason: `stale automation of ours in ${a.resourceGroup}`, coverage: 'repaired' });
  const ours = r.ours;
  if (!ours) {
    const held = r.heldBy ? `; '${r.heldBy.name}' is not ours (we never wrote it, it exports to no hub of our pool and has no tag of ours), so ours is '${r.createAs}'` : '';
    return [...changes, { kind: 'create', name: r.createAs, scope: desired.resourceGroup, reason: `no continuous export of ours${held}`, coverage: 'created' }];
  }
  const problems: string[] = [];
  const ruleName = parseArmId(desired.sendRuleId).name.toLowerCase();
  const action = ours.eventHubActions.length === 1 ? ours.eventHubActions[0] : undefined;
  if (!action) problems.push(`has ${ours.eventHubActions.length} Event Hub actions instead of 1`);
  else {
    if (!sameId(action.eventHubResourceId, desired.eventHubResourceId)) problems.push('exports to another event hub');
    if (action.sasPolicyName !== undefined && action.sasPolicyName.toLowerCase() !== ruleName) problems.push(`uses SAS policy '${action.sasPolicyName}'`);
  }
  if (!ours.isEnabled) problems.push('disabled');
  if (!ours.eventSources.some((s) => s.toLowerCase() === 'alerts')) problems.push('does not export Alerts');
  if (!ours.scopePaths.some((s) => sameId(s, desired.scopePath))) problems.push('scope is not the subscription');
  // Automations have tags: ours carries one, more evidence that it is ours should its destination be changed.
  if (!carriesOurTag(own, ours.tags)) problems.push(`tag ${own.tag.name} missing or changed`);
  if (problems.length) changes.push({ kind: 'update', name: ours.name, scope: desired.resourceGroup, reason: `drifted: ${problems.join('; ')}`, coverage: 'repaired' });
  return changes;
}

/**
 * arm-security@5 (classic) declares only 204 for automations DELETE and throws a RestError carrying a 2xx
 * status when ARM answers 200 (the 2023-12-01-preview spec allows both): a 2xx is success.
 */
async function deleteAutomation(ctx: TargetContext, subscriptionId: string, resourceGroup: string, name: string): Promise<void> {
  try {
    await (await ctx.clients.security(subscriptionId)).automations.delete(resourceGroup, name);
  } catch (e) {
    const status = (e as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status >= 200 && status < 300) return;
    throw e;
  }
}

/** One list per subscription (not per RG): every automation in it. */
async function listAutomations(ctx: TargetContext, subscriptionId: string): Promise<ObservedAutomation[] | undefined> {
  const client = await ctx.clients.security(subscriptionId);
  try {
    const out: ObservedAutomation[] = [];
    for await (const a of client.automations.list()) {
      out.push({
        name: a.name ?? '',
        resourceGroup: parseArmId(a.id ?? '').resourceGroup,
        isEnabled: a.isEnabled !== false,
        eventSources: (a.sources ?? []).map((s) => s.eventSource ?? ''),
        scopePaths: (a.scopes ?? []).map((s) => s.scopePath ?? ''),
        eventHubActions: (a.actions ?? [])
          .filter((x): x is AutomationActionEventHub => x.actionType === 'EventHub')
          .map((x) => ({ eventHubResourceId: x.eventHubResourceId, sasPolicyName: x.sasPolicyName })),
        tags: a.tags,
      });
    }
    return out;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Connection string of the hub-level Send rule, from the provider subscription. Never logged or stored. */
async function sendConnectionString(ctx: TargetContext, sendRuleId: string): Promise<string> {
  const r = parseArmId(sendRuleId);
  let keys;
  try {
    const client = await ctx.clients.eventHub(r.subscriptionId);
    keys = await client.eventHubs.listKeys(r.resourceGroup, r.parts.get('namespaces') ?? '', r.parts.get('eventhubs') ?? '', r.parts.get('authorizationrules') ?? r.name);
  } catch (e) {
    const err = classifyArmError(e, 'listKeys');
    const why = e instanceof Error ? e.message : String(e);
    throw new ConnectorError(err.kind === 'transient' ? 'transient' : 'permanent', `read the keys of the tenant hub's Send rule ${sendRuleId} in the provider subscription${err.statusCode ? ` (HTTP ${err.statusCode})` : ''}: ${why}`, {
      cause: e,
      code: PROVIDER_SIDE,
    });
  }
  if (!keys.primaryConnectionString) throw new ConnectorError('permanent', `listKeys on ${sendRuleId} returned no connection string`, { code: PROVIDER_SIDE });
  return keys.primaryConnectionString;
}

/** Defender for Cloud continuous export of Alerts, as `Microsoft.Security/automations` in the subscription's automation RG → tenant hub. */
export const defenderExportTarget: ReconcileTarget<DesiredDefenderExport, ObservedAutomation[]> = {
  id: 'defender-export',
  desired: (item: TargetItem, hub: HubAssignment, prefix: string) => ({
    subscriptionId: item.subscriptionId,
    resourceGroup: parseArmId(item.resourceId).resourceGroup,
    location: item.region,
    name: `${prefix}-defender-export`,
    eventHubResourceId: `${hub.namespaceId}/eventhubs/${hub.hub}`,
    sendRuleId: hub.sendRuleId,
    scopePath: `/subscriptions/${item.subscriptionId}`,
  }),
  observe: (ctx, item) => listAutomations(ctx, item.subscriptionId),
  diff: diffDefenderExport,
  apply: async (ctx, desired, changes) => {
    const client = await ctx.clients.security(desired.subscriptionId);
    // Before any delete: without the Send rule's keys nothing can be written, and a working automation of ours
    // elsewhere must not be removed for a replacement that cannot be made.
    const connectionString = changes.some((c) => c.kind === 'create' || c.kind === 'update') ? await sendConnectionString(ctx, desired.sendRuleId) : undefined;
    for (const c of changes) {
      if (c.kind === 'delete') await deleteAutomation(ctx, desired.subscriptionId, c.scope ?? desired.resourceGroup, c.name);
      else if (c.kind === 'create' || c.kind === 'update') {
        const body: Automation = {
          location: desired.location,
          description: 'MDR continuous export of Defender for Cloud alerts (managed by azure-mdr; do not edit)',
          isEnabled: true,
          scopes: [{ description: 'subscription', scopePath: desired.scopePath }],
          sources: [{ eventSource: 'Alerts' }],
          actions: [{ actionType: 'EventHub', eventHubResourceId: desired.eventHubResourceId, connectionString }],
          tags: { [ctx.ownership.tag.name]: ctx.ownership.tag.value },
        };
        await client.automations.createOrUpdate(desired.resourceGroup, c.name, body);
      }
    }
  },
  owned: (actual, own) => actual.filter((a) => isOurs(own, evidenceOf(a))).map((a) => `${a.resourceGroup}/${a.name}`),
  remove: async (ctx, item, qualifiedName) => {
    const [rg, name] = qualifiedName.includes('/') ? (qualifiedName.split('/') as [string, string]) : [parseArmId(item.resourceId).resourceGroup, qualifiedName];
    await deleteAutomation(ctx, item.subscriptionId, rg, name);
  },
};
