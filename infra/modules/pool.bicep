// The Event Hubs namespace pool (deployed into MDR_EH_POOL_RESOURCE_GROUP): the first namespace of each configured
// region, and the roles of the control app's and the ingest apps' identities on the pool resource group. Further
// namespaces are created by the control app itself when a region's namespaces are full (pool growth), so every role
// here is granted at the RESOURCE GROUP scope: a namespace created later is covered without a new role assignment
// (no app can assign roles).

@description('Regions that get a first pool namespace, e.g. ["westeurope","eastus2"] (MDR_EH_POOL_REGIONS).')
param regions array

@description('MDR_EH_POOL_NAME_PREFIX: namespaces are <prefix>-<region>-<nn>, the naming the app uses (namespacePool.ts namespaceNameFor).')
param namePrefix string

@allowed(['Standard', 'Premium'])
param tier string

@minValue(1)
@maxValue(40)
param capacity int

@description('Object id of the control app\'s system-assigned identity.')
param appPrincipalId string

@description('Object ids of the ingest apps\' identities: each reads the hubs of its shard (Data Receiver only).')
param ingestPrincipalIds array

@description('Resource id of the Function App (only used to name role assignments deterministically).')
param appResourceId string

@description('Resource id of the custom "MDR Event Hubs pool manager" role definition.')
param poolManagerRoleDefinitionId string

@description('Optional: object id of the operators group (gets Data Receiver for `azure-mdr health`). Empty = none.')
param operatorGroupObjectId string = ''

var eventHubsDataReceiver = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde')

// Same rule as namespacePool.ts namespaceNameFor(prefix, region, 1): '<prefix>-<region>-01', the prefix cut so the
// name fits the 50-character namespace limit and never ends with '-'.
func namespaceNameFor(prefix string, region string) string => '${endsWith(take(prefix, max(1, 50 - length('-${region}-01'))), '-') ? substring(take(prefix, max(1, 50 - length('-${region}-01'))), 0, length(take(prefix, max(1, 50 - length('-${region}-01')))) - 1) : take(prefix, max(1, 50 - length('-${region}-01')))}-${region}-01'

// Properties match what the app writes when it grows the pool (namespacePool.ts), so the app adopts these
// namespaces as they are (it reads before writing and never rewrites an existing namespace).
resource namespaces 'Microsoft.EventHub/namespaces@2024-01-01' = [for region in regions: {
  name: namespaceNameFor(namePrefix, region)
  location: region
  sku: {
    name: tier
    tier: tier
    capacity: capacity
  }
  tags: {
    'mdr-pool': region
    'mdr-managed-by': 'azure-mdr-connector'
  }
  properties: {
    minimumTlsVersion: '1.2'
    // Local (SAS) auth must stay enabled: diagnostic settings stream through a namespace SAS rule and Defender
    // continuous export accepts only a connection string. The app itself reads with Entra ID (Data Receiver).
    disableLocalAuth: false
  }
}]

// Stream health (getPartitionProperties over AMQP $management) needs Listen, i.e.
// Microsoft.EventHub/namespaces/messages/receive/action. ARM reads of hubs are already in the pool manager role; no
// Monitoring Reader is needed.
resource receiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, appResourceId, 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde')
  properties: {
    roleDefinitionId: eventHubsDataReceiver
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'azure-mdr-connector control plane: stream health reads every pool namespace (including ones created later by pool growth).'
  }
}

// Ingest triggers (<conn>__fullyQualifiedNamespace, identity-based). On the resource group, so hubs in namespaces the
// control plane creates later, and hubs moved between apps, need no new assignment.
resource ingestReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (principalId, i) in ingestPrincipalIds: {
  name: guid(resourceGroup().id, principalId, 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde')
  properties: {
    roleDefinitionId: eventHubsDataReceiver
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'azure-mdr-connector ingest app ${i + 1}: read the tenant hubs of its shard.'
  }
}]

// Pool management (namespaces, hubs, consumer groups, SAS rules, listKeys). Custom role: see roleDefinitions.bicep.
resource poolManager 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, appResourceId, 'mdr-eventhubs-pool-manager')
  properties: {
    roleDefinitionId: poolManagerRoleDefinitionId
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    description: 'azure-mdr-connector: provision per-tenant hubs and grow the namespace pool.'
  }
}

// Operators running `azure-mdr health` from their workstation read partition properties with their own identity.
resource operatorReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorGroupObjectId)) {
  name: guid(resourceGroup().id, operatorGroupObjectId, 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde')
  properties: {
    roleDefinitionId: eventHubsDataReceiver
    principalId: operatorGroupObjectId
    principalType: 'Group'
    description: 'azure-mdr-connector operators: azure-mdr health (partition runtime properties).'
  }
}

output namespaceNames array = [for (region, i) in regions: namespaces[i].name]
