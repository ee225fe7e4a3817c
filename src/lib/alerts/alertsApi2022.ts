import { createSerializer, type OperationSpec, type OperationURLParameter, type OperationQueryParameter } from '@azure/core-client';
import type { SecurityCenter } from '@azure/arm-security';

/**
 * `inProgress` for Defender alerts. The only published @azure/arm-security (5.0.0) speaks alerts api-version
 * 2021-11-01, which has dismiss/resolve/activate but not inProgress (added in 2022-01-01). This sends the
 * operation through the same SecurityCenter client and pipeline (credential, retry, TLS, RestError), with an
 * operation spec written like the generated ones; drop it when the SDK ships `update…StateToInProgress`.
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

const subscriptionLevel: OperationSpec = {
  path: '/subscriptions/{subscriptionId}/providers/Microsoft.Security/locations/{ascLocation}/alerts/{alertName}/inProgress',
  httpMethod: 'POST',
  responses: { 204: {}, default: {} },
  queryParameters: [apiVersion],
  urlParameters: [host, subscriptionId, ascLocation, alertName],
  headerParameters: [accept],
  serializer,
};
const resourceGroupLevel: OperationSpec = {
  ...subscriptionLevel,
  path: '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Security/locations/{ascLocation}/alerts/{alertName}/inProgress',
  urlParameters: [host, subscriptionId, resourceGroupName, ascLocation, alertName],
};

export async function updateSubscriptionLevelStateToInProgress(client: SecurityCenter, location: string, name: string): Promise<void> {
  await client.sendOperationRequest({ ascLocation: location, alertName: name }, subscriptionLevel);
}

export async function updateResourceGroupLevelStateToInProgress(client: SecurityCenter, location: string, name: string, resourceGroup: string): Promise<void> {
  await client.sendOperationRequest({ ascLocation: location, alertName: name, resourceGroupName: resourceGroup }, resourceGroupLevel);
}
