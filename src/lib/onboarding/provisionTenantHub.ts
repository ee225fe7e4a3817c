import type { EventHubManagementClient } from '@azure/arm-eventhub';
import type { AzureClients } from '../azure/clientFactory.js';
import { classifyArmError, isNotFound } from '../azure/classifyError.js';
import type { Settings } from '../config/settings.js';
import type { HubAssignment, NamespaceRecord } from '../registry/types.js';

/** Names of what we create; the prefix marks ownership (offboarding deletes only these). */
export const hubNameFor = (prefix: string, tenantId: string) => `${prefix}-${tenantId}`;
export const namespaceRuleNameFor = (prefix: string) => `${prefix}-diagnostics`;
export const sendRuleNameFor = (prefix: string) => `${prefix}-send`;

/** Diagnostic settings require Manage, Send and Listen on the namespace rule they reference (azure-facts §4). */
const NAMESPACE_RIGHTS = ['Listen', 'Manage', 'Send'];
const SEND_RIGHTS = ['Send'];

export interface ProvisionOutcome {
  hub: HubAssignment;
  /** ARM objects written (created or corrected); empty when everything already matched. */
  writes: string[];
}

const sameRights = (a: readonly string[] | undefined, b: readonly string[]) => !!a && [...a].sort().join(',') === [...b].sort().join(',');

async function readOrUndefined<T>(read: () => Promise<T>, what: string): Promise<T | undefined> {
  try {
    return await read();
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw classifyArmError(e, `read ${what}`);
  }
}

async function write<T>(op: () => Promise<T>, what: string): Promise<T> {
  try {
    return await op();
  } catch (e) {
    throw classifyArmError(e, `write ${what}`);
  }
}

/**
 * Makes the tenant's hub in `ns` match the desired state: namespace rule, hub (partitions, retention), ingest
 * consumer group, hub-level Send rule. Reads before every write, so a repeated call writes nothing.
 * Partition count is only set at creation: Standard hubs cannot change it afterwards.
 */
export async function provisionTenantHub(
  deps: { settings: Pick<Settings, 'pool' | 'prefix' | 'provider'>; clients: AzureClients },
  tenantId: string,
  ns: NamespaceRecord,
  now: () => Date = () => new Date(),
): Promise<ProvisionOutcome> {
  const { pool, prefix, provider } = deps.settings;
  const rg = pool.resourceGroup;
  const eh: EventHubManagementClient = await deps.clients.eventHub(provider.subscriptionId);
  const hubName = hubNameFor(prefix, tenantId);
  const nsRule = namespaceRuleNameFor(prefix);
  const sendRule = sendRuleNameFor(prefix);
  const writes: string[] = [];

  const currentNsRule = await readOrUndefined(() => eh.namespaces.getAuthorizationRule(rg, ns.namespace, nsRule), `namespace rule ${nsRule}`);
  if (!sameRights(currentNsRule?.rights, NAMESPACE_RIGHTS)) {
    await write(() => eh.namespaces.createOrUpdateAuthorizationRule(rg, ns.namespace, nsRule, { rights: NAMESPACE_RIGHTS }), `namespace rule ${nsRule}`);
    writes.push(`${ns.namespaceId}/authorizationRules/${nsRule}`);
  }

  const currentHub = await readOrUndefined(() => eh.eventHubs.get(rg, ns.namespace, hubName), `event hub ${hubName}`);
  const retention = currentHub?.retentionDescription?.retentionTimeInHours ?? (currentHub?.messageRetentionInDays === undefined ? undefined : currentHub.messageRetentionInDays * 24);
  if (!currentHub || retention !== pool.retentionHours) {
    await write(
      () =>
        eh.eventHubs.createOrUpdate(rg, ns.namespace, hubName, {
          partitionCount: currentHub?.partitionCount ?? pool.partitionCount,
          retentionDescription: { cleanupPolicy: 'Delete', retentionTimeInHours: pool.retentionHours },
        }),
      `event hub ${hubName}`,
    );
    writes.push(`${ns.namespaceId}/eventhubs/${hubName}`);
  }

  const cg = await readOrUndefined(() => eh.consumerGroups.get(rg, ns.namespace, hubName, pool.consumerGroup), `consumer group ${pool.consumerGroup}`);
  if (!cg) {
    await write(() => eh.consumerGroups.createOrUpdate(rg, ns.namespace, hubName, pool.consumerGroup, { userMetadata: 'azure-mdr-connector ingest' }), `consumer group ${pool.consumerGroup}`);
    writes.push(`${ns.namespaceId}/eventhubs/${hubName}/consumergroups/${pool.consumerGroup}`);
  }

  const currentSend = await readOrUndefined(() => eh.eventHubs.getAuthorizationRule(rg, ns.namespace, hubName, sendRule), `hub rule ${sendRule}`);
  if (!sameRights(currentSend?.rights, SEND_RIGHTS)) {
    await write(() => eh.eventHubs.createOrUpdateAuthorizationRule(rg, ns.namespace, hubName, sendRule, { rights: SEND_RIGHTS }), `hub rule ${sendRule}`);
    writes.push(`${ns.namespaceId}/eventhubs/${hubName}/authorizationRules/${sendRule}`);
  }

  return {
    writes,
    hub: {
      tenantId,
      region: ns.region,
      namespace: ns.namespace,
      namespaceId: ns.namespaceId,
      hub: hubName,
      consumerGroup: pool.consumerGroup,
      namespaceRuleId: `${ns.namespaceId}/authorizationRules/${nsRule}`,
      sendRuleId: `${ns.namespaceId}/eventhubs/${hubName}/authorizationRules/${sendRule}`,
      state: 'ready',
      createdAt: now().toISOString(),
    },
  };
}

/** Deletes the tenant's hub (its consumer groups and hub rules go with it). A missing hub counts as deleted. */
export async function deleteTenantHub(deps: { settings: Pick<Settings, 'pool' | 'provider'>; clients: AzureClients }, hub: HubAssignment): Promise<void> {
  const eh = await deps.clients.eventHub(deps.settings.provider.subscriptionId);
  try {
    await eh.eventHubs.delete(deps.settings.pool.resourceGroup, hub.namespace, hub.hub);
  } catch (e) {
    if (!isNotFound(e)) throw classifyArmError(e, `delete event hub ${hub.hub}`);
  }
}
