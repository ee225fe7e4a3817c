import { createSerializer, type OperationSpec, type OperationURLParameter, type OperationQueryParameter } from '@azure/core-client';
import type { SecurityCenter } from '@azure/arm-security';
import { z } from 'zod';

/**
 * The Defender alerts operations the app needs at api-version 2022-01-01, sent through the SecurityCenter client's
 * own pipeline (credential, retry, TLS, RestError) with operation specs written like the generated ones.
 *
 * Why: the only published @azure/arm-security is 5.0.0 (the registry lists 2.0.0 and 5.0.0; `…ToInProgress` exists
 * only in the unpublished 6.0.0-beta, per its CHANGELOG — azure-facts §3 correction). 5.0.0 speaks alerts at
 * 2021-11-01, which has no `inProgress` action and whose status enum is Active, Resolved, Dismissed
 * (stable/2021-11-01/alerts.json). 2022-01-01 adds both (stable/2022-01-01/alerts.json: AlertStatus Active,
 * InProgress, Resolved, Dismissed). So the alert is read here, at a version that can name every state we write;
 * dismiss/resolve/activate stay on the SDK (same effect at either version). Drop this when the SDK ships 2022-01-01.
 */
const serializer = createSerializer({}, false);

const str = (name: string) => ({ serializedName: name, required: true, type: { name: 'String' } }) as const;
const host: OperationURLParameter = { parameterPath: '$host', mapper: str('$host'), skipEncoding: true };
const subscriptionId: OperationURLParameter = { parameterPath: 'subscriptionId', mapper: str('subscriptionId') };
const resourceGroupName: OperationURLParameter = { parameterPath: 'resourceGroupName', mapper: str('resourceGroupName') };
const ascLocation: OperationURLParameter = { parameterPath: 'ascLocation', mapper: str('ascLocation') };
const alertName: OperationURLParameter = { parameterPath: 'alertName', mapper: str('alertName') };
const apiVersion: OperationQueryParameter = {
  parameterPath: 'apiVersion',
  mapper: { defaultValue: '2022-01-01', isConstant: true, serializedName: 'api-version', type: { name: 'String' } },
};
const accept = { parameterPath: 'accept', mapper: { defaultValue: 'application/json', isConstant: true, serializedName: 'Accept', type: { name: 'String' } } } as const;

const SUB_ALERT = '/subscriptions/{subscriptionId}/providers/Microsoft.Security/locations/{ascLocation}/alerts/{alertName}';
const RG_ALERT = '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Security/locations/{ascLocation}/alerts/{alertName}';
const subLevel = { queryParameters: [apiVersion], urlParameters: [host, subscriptionId, ascLocation, alertName], headerParameters: [accept], serializer };
const rgLevel = { ...subLevel, urlParameters: [host, subscriptionId, resourceGroupName, ascLocation, alertName] };

// Alerts_UpdateSubscriptionLevelStateToInProgress / _UpdateResourceGroupLevelStateToInProgress: POST → 204.
const inProgressSub: OperationSpec = { ...subLevel, path: `${SUB_ALERT}/inProgress`, httpMethod: 'POST', responses: { 204: {}, default: {} } };
const inProgressRg: OperationSpec = { ...rgLevel, path: `${RG_ALERT}/inProgress`, httpMethod: 'POST', responses: { 204: {}, default: {} } };
// Alerts_GetSubscriptionLevel / _GetResourceGroupLevel: GET → 200 Alert. No body mapper: the raw wire shape is parsed below.
const getSub: OperationSpec = { ...subLevel, path: SUB_ALERT, httpMethod: 'GET', responses: { 200: {}, default: {} } };
const getRg: OperationSpec = { ...rgLevel, path: RG_ALERT, httpMethod: 'GET', responses: { 200: {}, default: {} } };

export async function updateSubscriptionLevelStateToInProgress(client: SecurityCenter, location: string, name: string): Promise<void> {
  await client.sendOperationRequest({ ascLocation: location, alertName: name }, inProgressSub);
}

export async function updateResourceGroupLevelStateToInProgress(client: SecurityCenter, location: string, name: string, resourceGroup: string): Promise<void> {
  await client.sendOperationRequest({ ascLocation: location, alertName: name, resourceGroupName: resourceGroup }, inProgressRg);
}

// Without a body mapper core-client hands the parsed JSON back wrapped as `{ body }` (flattenResponse/isPrimitiveBody).
const alertResponse = z.object({ body: z.object({ properties: z.object({ status: z.string().optional() }).passthrough().optional() }).passthrough() }).passthrough();

/** The alert's status as 2022-01-01 names it (Active, InProgress, Resolved, Dismissed); undefined when the body has none. */
export async function readAlertStatus(client: SecurityCenter, location: string, name: string, resourceGroup?: string): Promise<string | undefined> {
  const raw: unknown = resourceGroup
    ? await client.sendOperationRequest({ ascLocation: location, alertName: name, resourceGroupName: resourceGroup }, getRg)
    : await client.sendOperationRequest({ ascLocation: location, alertName: name }, getSub);
  const parsed = alertResponse.safeParse(raw);
  return parsed.success ? parsed.data.body.properties?.status : undefined;
}
