// Provider-side deployment of azure-mdr-connector (resource-group scope: the Function Apps' resource group).
//
//   control app (Flex Consumption, Node 22, system-assigned identity, MDR_APP_ROLE=control) + plan: HTTP API,
//     reconcile, onboarding continuation, health, alert state
//   ingest apps (module, ingestAppCount of them, MDR_APP_ROLE=ingest): each reads the tenant hubs of its shard
//   storage account (AzureWebJobsStorage of every app, by identity, no shared keys): deployment containers, host
//     containers (Event Hubs checkpoints shared by the ingest apps), the registry tables ingest uses, reconcile and
//     onboarding queues, OCSF output and dead-letter containers (blob roles per container; every table, queue and
//     container a role is scoped to is created here: test/infra/rightsAudit.int.test.ts)
//   Log Analytics workspace + workspace-based Application Insights (Entra-only ingestion)
//   downstream Event Hubs namespace + hub `ocsf-events` (when MDR_OUTPUT_MODE is eventhub or both)
//   pool resource group (module): first namespace per region + the identities' pool roles
//   custom roles (module, subscription scope): pool manager, app-settings writer
//
// After deploying: add the control app's identity (output appPrincipalId) to the ingest Entra group, publish the
// same package to the control app and every ingest app. See infra/README.md and docs/fleet.md.

// ---------------------------------------------------------------- naming
@description('Short prefix of resources the connector names (hubs <prefix>-<tenantId>, rules <prefix>-send / <prefix>-diagnostics, customer-side settings). MDR_RESOURCE_PREFIX.')
@minLength(2)
@maxLength(12)
param resourcePrefix string = 'mdr'  // lowercase letters/digits only (settings.ts), so it is also valid in storage account names

@description('Region of the Function App, its storage, monitoring and the downstream hub.')
param location string = resourceGroup().location

@description('Function App name (globally unique: <name>.azurewebsites.net).')
param appName string = '${resourcePrefix}-func-${uniqueString(resourceGroup().id)}'

@description('Storage account name (3-24 lowercase letters/digits, globally unique).')
@maxLength(24)
param storageAccountName string = take('${resourcePrefix}st${uniqueString(resourceGroup().id)}', 24)

// ---------------------------------------------------------------- ingest fleet (docs/fleet.md)
@description('Number of ingest Function Apps. Each serves up to ingestAppMaxHubs tenant hubs; to add capacity, deploy again with a larger number (and existingIngestAppCount = the previous one).')
@minValue(1)
@maxValue(99)
param ingestAppCount int = 1

@description('How many ingest apps exist already (the ingestAppCount of the previous deployment; 0 the first time). Their settings written by the control plane (MDR_INGEST_BINDINGS, MDR_EHNS_*) are carried over. infra/README.md shows how to compute it.')
@minValue(0)
@maxValue(99)
param existingIngestAppCount int = 0

@description('MDR_INGEST_APP_MAX_HUBS: tenant hubs per ingest app (the shard size; docs/fleet.md#shard-size).')
@minValue(1)
@maxValue(360)
param ingestAppMaxHubs int = 100

@description('Let the control plane rewrite an ingest app\'s bindings when its hubs change (custom settings-writer role on each ingest app\'s site, never on the control app). false: MDR_INGEST_SETTINGS_SYNC=manual and an operator runs `azure-mdr bindings` after onboardings (docs/fleet.md).')
param autoUpdateIngestBindings bool = true

@description('Flex Consumption instance cap of each ingest app: per-function scaling gives each busy hub instances of its own, up to its partition count.')
@minValue(1)
@maxValue(1000)
param ingestMaximumInstanceCount int = 100

@description('Instance memory of the ingest apps (Flex Consumption sizes; ingest is I/O bound).')
@allowed([512, 2048, 4096])
param ingestInstanceMemoryMB int = 2048

// ---------------------------------------------------------------- cloud & provider identity
@description('MDR_AZURE_CLOUD. Defaults to the cloud this deployment runs in.')
@allowed(['AzureCloud', 'AzureChinaCloud', 'AzureUSGovernment', 'Custom'])
param azureCloud string = environment().name == 'AzureCloud' || environment().name == 'AzureChinaCloud' || environment().name == 'AzureUSGovernment' ? environment().name : 'Custom'

@description('MDR_ARM_ENDPOINT (only for azureCloud=Custom, else empty).')
param armEndpoint string = ''

@description('MDR_AUTHORITY_HOST (only for azureCloud=Custom, else empty).')
param authorityHost string = ''

@description('MDR_EVENTHUBS_SUFFIX (only for azureCloud=Custom, else empty).')
param eventHubsSuffix string = ''

@description('MDR_PROVIDER_TENANT_ID: the provider (managing) tenant. Defaults to the tenant of this deployment.')
param providerTenantId string = tenant().tenantId

@description('MDR_INGEST_PRINCIPAL_ID: object id of the Entra security group the customers delegate to through Azure Lighthouse. The Function App identity must be made a member (output addToIngestGroupCommand).')
@minLength(36)
@maxLength(36)
param ingestGroupObjectId string

@description('MDR_INGEST_PRINCIPAL_DISPLAY_NAME: how the group appears in the customer\'s delegation.')
@maxLength(100)
param ingestGroupDisplayName string = 'MDR Log Ingest'

@description('MDR_OFFER_NAME: Lighthouse offer name shown to customers.')
@maxLength(100)
param offerName string = 'MDR telemetry'

@description('MDR_AUTOMATION_RESOURCE_GROUP: resource group kept in every customer subscription for the Defender continuous-export automation.')
param automationResourceGroup string = 'MDRAutomation'

// ---------------------------------------------------------------- Event Hubs pool
@description('MDR_EH_POOL_RESOURCE_GROUP: resource group of the namespace pool (must exist; create it first). Keep it separate from this one: the pool-manager role is granted on the whole group.')
param poolResourceGroupName string = 'mdr-ingest'

@description('MDR_EH_POOL_NAME_PREFIX: namespaces are <prefix>-<region>-<nn>. Namespace names are global DNS names: choose a prefix unique to you (e.g. contoso-mdr).')
@minLength(3)
@maxLength(31)
param poolNamePrefix string

@description('MDR_EH_POOL_REGIONS: regions that get a first namespace now (others are created by the app on demand). Lowercase names, e.g. ["westeurope"].')
@minLength(1)
param poolRegions array

@description('MDR_EH_POOL_TIER. Standard: 10 hubs (tenants) per namespace; Premium: 100 per processing unit. (Dedicated needs a cluster and is not deployed by this template.)')
@allowed(['Standard', 'Premium'])
param poolTier string = 'Standard'

@description('MDR_EH_POOL_CAPACITY: throughput units (Standard) or processing units (Premium) per namespace.')
@minValue(1)
@maxValue(40)
param poolCapacity int = 1

@description('MDR_EH_POOL_GROWTH: let the app create a new namespace when a region is full.')
param poolGrowth bool = true

@description('MDR_EH_PARTITION_COUNT per tenant hub.')
@minValue(1)
@maxValue(32)
param partitionCount int = 4

@description('MDR_EH_RETENTION_HOURS per tenant hub (Standard allows at most 168).')
@minValue(1)
@maxValue(2160)
param retentionHours int = 168

@description('MDR_EH_CONSUMER_GROUP the ingest triggers read with.')
param consumerGroup string = 'mdr-ingest'

// ---------------------------------------------------------------- storage, reconcile, ingest, health
@description('MDR_TABLE_PREFIX of the registry tables.')
param tablePrefix string = 'mdr'

@description('MDR_RECONCILE_SCHEDULE (six-field NCRONTAB).')
param reconcileSchedule string = '0 */15 * * * *'

@description('MDR_RECONCILE_QUEUE.')
param reconcileQueue string = 'mdr-reconcile'

@description('MDR_RECONCILE_CONCURRENCY.')
@minValue(1)
@maxValue(128)
param reconcileConcurrency int = 16

@description('MDR_RECONCILE_PER_SUBSCRIPTION_CONCURRENCY.')
@minValue(1)
@maxValue(32)
param reconcilePerSubscriptionConcurrency int = 4

@description('MDR_RECONCILE_SPLIT_SUBSCRIPTIONS.')
@minValue(1)
@maxValue(10000)
param reconcileSplitSubscriptions int = 50

@description('MDR_RECONCILE_LAZY_HUBS.')
param reconcileLazyHubs bool = true

@description('MDR_OUTPUT_MODE: where OCSF events go.')
@allowed(['eventhub', 'blob', 'both'])
param outputMode string = 'both'

@description('Downstream Event Hubs namespace for OCSF events (created when outputMode is eventhub or both).')
param downstreamNamespaceName string = '${resourcePrefix}-ocsf-${uniqueString(resourceGroup().id)}'

@description('MDR_DOWNSTREAM_EVENTHUB_NAME.')
param downstreamEventHubName string = 'ocsf-events'

@description('MDR_OUTPUT_CONTAINER (blob output of OCSF events).')
param outputContainer string = 'ocsf-events'

@description('MDR_DEADLETTER_CONTAINER.')
param deadLetterContainer string = 'dead-letters'

@description('MDR_HEALTH_SCHEDULE (six-field NCRONTAB).')
param healthSchedule string = '0 */10 * * * *'

@description('MDR_SILENCE_THRESHOLD_MINUTES.')
@minValue(5)
@maxValue(10080)
param silenceThresholdMinutes int = 120

@description('MDR_ONBOARDING_QUEUE: work items of onboardings that outlast an HTTP request (a new pool namespace).')
param onboardingQueue string = 'mdr-onboarding'

// ---------------------------------------------------------------- hosting
@description('Flex Consumption: upper bound of instances (also bounds concurrent ARM calls against customers).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@allowed([2048, 4096])
param instanceMemoryMB int = 2048

@description('Log Analytics retention in days.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 90

// ---------------------------------------------------------------- operators & HTTP authentication
@description('Optional: object id of the provider\'s operators group: may call the HTTP API when Easy Auth is on, and can read the registry and the pool for `azure-mdr health`.')
param operatorGroupObjectId string = ''

@description('Optional: client id of an Entra app registration that protects the HTTP API (App Service authentication / Easy Auth). Empty = function keys only.')
param easyAuthClientId string = ''

@description('Accepted token audiences when Easy Auth is on (default api://<client id> and the client id).')
param easyAuthAudiences array = []

// ================================================================ resources
var tags = { 'mdr-managed-by': 'azure-mdr-connector' }
var deploymentContainer = 'app-package'
var deployDownstream = outputMode != 'blob'

// Containers the Functions host itself uses with an identity-based AzureWebJobsStorage: locks and timer state, and
// the host/function keys. Created here so no app needs an account-wide right to create containers.
var hostContainers = ['azure-webjobs-hosts', 'azure-webjobs-secrets']
// Event Hubs checkpoints and partition ownership of the ingest triggers (EventHubOptions.CheckpointContainer),
// named by namespace/hub/consumer group: shared by every ingest app, so a hub moved between apps resumes.
var checkpointContainer = 'azure-webjobs-eventhub'
var ingestHostContainers = concat(hostContainers, [checkpointContainer])
// Registry tables an ingest app uses, created here: its roles are data roles on these tables only, and a data role on
// a table cannot create it (an ingest app never creates a table: src/lib/storage/storageClients.ts). LastSeen: when
// ingest last saw each source; Subscriptions: a tenant's known subscriptions, read for attribution; IngestProgress:
// partitions whose batches got through (stream health); PendingWork: coalescing markers of event-driven coverage.
var lastSeenTable = '${tablePrefix}LastSeen'
var subscriptionsTable = '${tablePrefix}Subscriptions'
var ingestProgressTable = '${tablePrefix}IngestProgress'
var pendingWorkTable = '${tablePrefix}PendingWork'
var ingestAppNames = [for i in range(0, ingestAppCount): '${resourcePrefix}-ingest${padLeft(string(i + 1), 2, '0')}-${uniqueString(resourceGroup().id)}']

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  storageTableDataReader: '76199698-9eea-4c19-bc75-cec21354c6b6'
  eventHubsDataSender: '2b629674-e913-4c01-ae53-ef4638d8f975'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    // Identity only: the host (AzureWebJobsStorage__accountName), the Flex deployment container, the registry and
    // the outputs all use the managed identity, so no account key is ever needed.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    // Dead letters are the only copy of records that could not be delivered: protect them from accidental delete.
    deleteRetentionPolicy: { enabled: true, days: 14 }
    containerDeleteRetentionPolicy: { enabled: true, days: 14 }
    // The app identity can write its own deployment package (Flex needs it, see raDeployment): versions keep every
    // package that was ever there, so a replaced one can be found and restored.
    isVersioningEnabled: true
  }
}

resource deploymentContainerRes 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainer
  properties: { publicAccess: 'None' }
}

resource outputContainerRes 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: outputContainer
  properties: { publicAccess: 'None' }
}

resource deadLetterContainerRes 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deadLetterContainer
  properties: { publicAccess: 'None' }
}

resource hostContainerRes 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for c in hostContainers: {
  parent: blobService
  name: c
  properties: { publicAccess: 'None' }
}]

resource checkpointContainerRes 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: checkpointContainer
  properties: { publicAccess: 'None' }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource lastSeenTableRes 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: tableService
  name: lastSeenTable
}

resource subscriptionsTableRes 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: tableService
  name: subscriptionsTable
}

resource ingestProgressTableRes 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: tableService
  name: ingestProgressTable
}

resource pendingWorkTableRes 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: tableService
  name: pendingWorkTable
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource reconcileQueueResource 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: reconcileQueue
}

resource onboardingQueueResource 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: onboardingQueue
}

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${resourcePrefix}-log-${uniqueString(resourceGroup().id)}'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: logRetentionDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${resourcePrefix}-appi-${uniqueString(resourceGroup().id)}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    // Telemetry is accepted only with an Entra token (APPLICATIONINSIGHTS_AUTHENTICATION_STRING below), so the
    // connection string in the app settings is not a credential.
    DisableLocalAuth: true
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${resourcePrefix}-plan-${uniqueString(resourceGroup().id)}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, { 'mdr-role': 'control' })
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: { name: 'node', version: '22' }
    }
  }
}

// No FTP / basic-auth publishing: deployments use Entra ID (func publish / az functionapp deployment).
resource ftpPolicy 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: { allow: false }
}

resource scmPolicy 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: { allow: false }
}

// ---------------------------------------------------------------- downstream OCSF hub
resource downstreamNamespace 'Microsoft.EventHub/namespaces@2024-01-01' = if (deployDownstream) {
  name: downstreamNamespaceName
  location: location
  tags: tags
  sku: { name: 'Standard', tier: 'Standard', capacity: 1 }
  properties: {
    minimumTlsVersion: '1.2'
    // Our own output: the app sends and the provider's SIEM reads with Entra ID, so SAS keys are switched off.
    disableLocalAuth: true
  }
}

resource downstreamHub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = if (deployDownstream) {
  parent: downstreamNamespace
  name: downstreamEventHubName
  properties: {
    partitionCount: 8
    messageRetentionInDays: 7
  }
}

// ---------------------------------------------------------------- custom roles + pool (other scopes)
module roleDefs 'modules/roleDefinitions.bicep' = {
  name: 'mdr-role-definitions'
  scope: subscription()
  params: {
    poolResourceGroupName: poolResourceGroupName
    appResourceGroupName: resourceGroup().name
  }
}

module pool 'modules/pool.bicep' = {
  name: 'mdr-eventhubs-pool'
  scope: resourceGroup(poolResourceGroupName)
  params: {
    regions: poolRegions
    namePrefix: poolNamePrefix
    tier: poolTier
    capacity: poolCapacity
    appPrincipalId: site.identity.principalId
    appResourceId: site.id
    ingestPrincipalIds: [for i in range(0, ingestAppCount): ingestApps[i].outputs.principalId]
    poolManagerRoleDefinitionId: roleDefs.outputs.poolManagerRoleDefinitionId
    operatorGroupObjectId: operatorGroupObjectId
  }
}

// ---------------------------------------------------------------- role assignments of the control app's identity
// Blob data roles are granted per container, never on the account: docs/security.md has the table of every role,
// its scope, why, and what an attacker holding it could do (test/infra/securityRoles.test.ts keeps the two equal).
// The ingest apps' roles are in modules/ingestApp.bicep.

// Functions host with an identity-based AzureWebJobsStorage: blob locks, timer state and keys live in these two
// containers. The host documents Storage Blob Data Owner for AzureWebJobsStorage.
resource raHostBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (c, i) in hostContainers: {
  name: guid(storage.id, c, site.id, roles.storageBlobDataOwner)
  scope: hostContainerRes[i]
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
    description: 'azure-mdr-connector: Functions host storage (${c}).'
  }
}]

// Flex Consumption reads the package from this container with the identity named in
// functionAppConfig.deployment.storage.authentication, and writes it there on every publish (OneDeploy).
resource raDeployment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, deploymentContainer, site.id, roles.storageBlobDataContributor)
  scope: deploymentContainerRes
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
    description: 'azure-mdr-connector: Flex Consumption deployment package.'
  }
}

// Reconcile fan-out queue (output binding + queue trigger, including the host-created poison queue).
resource raQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, site.id, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
    description: 'azure-mdr-connector: reconcile queue.'
  }
}

// Tenant registry: every <prefix>* table (Tenants, Hubs, Namespaces, IngestApps, Coverage, LastSeen, ChangeFeed,
// Operations, Subscriptions, IngestProgress, PendingWork); the control app creates the ones infra does not on first use.
resource raTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, site.id, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
    description: 'azure-mdr-connector: tenant registry tables.'
  }
}

// Tamper Detection Findings of event-driven coverage (src/lib/eventDriven/eventDrivenServices.ts reconcileQueueExtras):
// the reconcile queue handler writes them where OCSF events go, next to the ingest apps' events — the blob output
// container and, with MDR_OUTPUT_MODE eventhub or both, the downstream hub (the queue function's output binding).
// Nothing on the dead-letter container: findings are events, never dead letters.
resource raFindingsBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, outputContainer, site.id, roles.storageBlobDataContributor)
  scope: outputContainerRes
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
    description: 'azure-mdr-connector: tamper Detection Findings to the OCSF blob output.'
  }
}

resource raFindingsDownstream 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (deployDownstream) {
  name: guid(resourceId('Microsoft.EventHub/namespaces/eventhubs', downstreamNamespaceName, downstreamEventHubName), site.id, roles.eventHubsDataSender)
  scope: downstreamHub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventHubsDataSender)
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
    description: 'azure-mdr-connector: tamper Detection Findings to the downstream OCSF hub.'
  }
}

// Entra-authenticated telemetry ingestion (Application Insights has local auth disabled).
resource raMetrics 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, site.id, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
    description: 'azure-mdr-connector: send telemetry to Application Insights with Entra ID.'
  }
}

// Operators: read the registry for `azure-mdr health` / `coverage` from a workstation.
resource raOperatorTables 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorGroupObjectId)) {
  name: guid(storage.id, operatorGroupObjectId, roles.storageTableDataReader)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataReader)
    principalId: operatorGroupObjectId
    principalType: 'Group'
    description: 'azure-mdr-connector operators: read the tenant registry.'
  }
}

// ---------------------------------------------------------------- app settings (every MDR_* the app reads)
// serviceBusEndpoint is https://<name>.<suffix>:443/ — the host name is what <conn>__fullyQualifiedNamespace wants.
var downstreamFqns = deployDownstream ? split(replace(downstreamNamespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0] : ''

// What the control app and every ingest app share (the ingest apps add MDR_APP_ROLE=ingest and their bindings).
var sharedAppSettings = {
  // Functions host: identity-based storage (Flex sets the worker runtime from functionAppConfig.runtime, so
  // FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION must not be set).
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
  // cloud & identity
  MDR_AZURE_CLOUD: azureCloud
  MDR_ARM_ENDPOINT: armEndpoint
  MDR_AUTHORITY_HOST: authorityHost
  MDR_EVENTHUBS_SUFFIX: eventHubsSuffix
  MDR_STORAGE_SUFFIX: environment().suffixes.storage
  // provider
  MDR_PROVIDER_TENANT_ID: providerTenantId
  MDR_PROVIDER_SUBSCRIPTION_ID: subscription().subscriptionId
  MDR_INGEST_PRINCIPAL_ID: ingestGroupObjectId
  MDR_INGEST_PRINCIPAL_DISPLAY_NAME: ingestGroupDisplayName
  MDR_OFFER_NAME: offerName
  MDR_AUTOMATION_RESOURCE_GROUP: automationResourceGroup
  MDR_RESOURCE_PREFIX: resourcePrefix
  // storage
  MDR_TABLE_PREFIX: tablePrefix
  MDR_RECONCILE_QUEUE: reconcileQueue
  // ingest outputs
  MDR_OUTPUT_MODE: outputMode
  MDR_DOWNSTREAM_EVENTHUB_CONNECTION: 'MDR_DOWNSTREAM'
  MDR_DOWNSTREAM__fullyQualifiedNamespace: downstreamFqns
  MDR_DOWNSTREAM_EVENTHUB_NAME: downstreamEventHubName
  MDR_OUTPUT_CONTAINER: outputContainer
  MDR_DEADLETTER_CONTAINER: deadLetterContainer
  // event-driven coverage: activity-log records written by this identity (the control app's, which writes ARM
  // through Lighthouse) are the app's own writes: no change signal (ingest apps) and no tamper finding (control app)
  MDR_APP_PRINCIPAL_IDS: site.identity.principalId
}

var controlAppSettings = {
  MDR_APP_ROLE: 'control'
  // The fleet (src/lib/fleet/ingestPool.ts): the control plane assigns hubs to these apps and writes their bindings.
  MDR_INGEST_APPS: join([for i in range(0, ingestAppCount): ingestApps[i].outputs.resourceId], ',')
  MDR_INGEST_APP_MAX_HUBS: string(ingestAppMaxHubs)
  MDR_INGEST_SETTINGS_SYNC: autoUpdateIngestBindings ? 'auto' : 'manual'
  // Only for a single app running everything (MDR_APP_ROLE=all); the control app is never an ingest app.
  MDR_FUNCTION_APP_RESOURCE_ID: ''
  // pool
  MDR_EH_POOL_RESOURCE_GROUP: poolResourceGroupName
  MDR_EH_POOL_NAME_PREFIX: poolNamePrefix
  MDR_EH_POOL_TIER: poolTier
  MDR_EH_POOL_CAPACITY: string(poolCapacity)
  MDR_EH_POOL_GROWTH: poolGrowth ? 'true' : 'false'
  MDR_EH_POOL_REGIONS: join(poolRegions, ',')
  MDR_EH_PARTITION_COUNT: string(partitionCount)
  MDR_EH_RETENTION_HOURS: string(retentionHours)
  MDR_EH_CONSUMER_GROUP: consumerGroup
  // reconcile
  MDR_RECONCILE_SCHEDULE: reconcileSchedule
  MDR_RECONCILE_CONCURRENCY: string(reconcileConcurrency)
  MDR_RECONCILE_PER_SUBSCRIPTION_CONCURRENCY: string(reconcilePerSubscriptionConcurrency)
  MDR_RECONCILE_SPLIT_SUBSCRIPTIONS: string(reconcileSplitSubscriptions)
  MDR_RECONCILE_LAZY_HUBS: reconcileLazyHubs ? 'true' : 'false'
  // onboarding
  MDR_ONBOARDING_QUEUE: onboardingQueue
  // health
  MDR_HEALTH_SCHEDULE: healthSchedule
  MDR_SILENCE_THRESHOLD_MINUTES: string(silenceThresholdMinutes)
  // HTTP API: trust Easy Auth's caller and check app roles (infra/apiAppRoles.json) when Easy Auth is deployed
  MDR_EASY_AUTH: empty(easyAuthClientId) ? 'false' : 'true'
}

module appSettings 'modules/appSettings.bicep' = {
  name: 'mdr-app-settings'
  params: {
    appName: site.name
    desired: union(sharedAppSettings, controlAppSettings)
    // The control app carries no bindings of its own: nothing to keep from its current settings.
    current: {}
  }
  // Start the host only once it can reach its storage and the pool.
  dependsOn: [raHostBlob, raDeployment, raQueue, raTable, raFindingsBlob, raFindingsDownstream, raMetrics, pool, hostContainerRes, onboardingQueueResource, reconcileQueueResource]
}

// ---------------------------------------------------------------- the ingest apps (docs/fleet.md)
module ingestApps 'modules/ingestApp.bicep' = [for i in range(0, ingestAppCount): {
  name: 'mdr-ingest-app-${i + 1}'
  params: {
    appName: ingestAppNames[i]
    location: location
    tags: tags
    storageAccountName: storage.name
    deploymentContainerName: '${deploymentContainer}-ingest${padLeft(string(i + 1), 2, '0')}'
    hostContainerNames: ingestHostContainers
    outputContainerName: outputContainer
    deadLetterContainerName: deadLetterContainer
    reconcileQueueName: reconcileQueue
    lastSeenTableName: lastSeenTable
    subscriptionsTableName: subscriptionsTable
    ingestProgressTableName: ingestProgressTable
    pendingWorkTableName: pendingWorkTable
    appInsightsName: appInsights.name
    deployDownstream: deployDownstream
    downstreamNamespaceName: downstreamNamespaceName
    downstreamEventHubName: downstreamEventHubName
    sharedSettings: sharedAppSettings
    exists: i < existingIngestAppCount
    controlPrincipalId: site.identity.principalId
    settingsWriterRoleDefinitionId: roleDefs.outputs.appSettingsWriterRoleDefinitionId
    grantSettingsWriter: autoUpdateIngestBindings
    maximumInstanceCount: ingestMaximumInstanceCount
    instanceMemoryMB: ingestInstanceMemoryMB
  }
  dependsOn: [hostContainerRes, checkpointContainerRes, outputContainerRes, deadLetterContainerRes, reconcileQueueResource, lastSeenTableRes, subscriptionsTableRes, ingestProgressTableRes, pendingWorkTableRes, downstreamHub]
}]

// ---------------------------------------------------------------- Easy Auth in front of the HTTP API (optional)
resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = if (!empty(easyAuthClientId)) {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
    }
    httpSettings: { requireHttps: true }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: easyAuthClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${providerTenantId}/v2.0'
        }
        validation: {
          allowedAudiences: empty(easyAuthAudiences) ? ['api://${easyAuthClientId}', easyAuthClientId] : easyAuthAudiences
          defaultAuthorizationPolicy: {
            allowedPrincipals: {
              groups: empty(operatorGroupObjectId) ? [] : [operatorGroupObjectId]
            }
          }
        }
      }
    }
  }
  dependsOn: [appSettings]
}

// ================================================================ outputs
output appName string = site.name
output appResourceId string = site.id
output ingestAppNames array = [for i in range(0, ingestAppCount): ingestApps[i].outputs.name]
output ingestAppResourceIds array = [for i in range(0, ingestAppCount): ingestApps[i].outputs.resourceId]
output appUrl string = 'https://${site.properties.defaultHostName}'
@description('Object id of the app\'s managed identity: add it to the ingest Entra group.')
output appPrincipalId string = site.identity.principalId
output addToIngestGroupCommand string = 'az ad group member add --group ${ingestGroupObjectId} --member-id ${site.identity.principalId}'
output functionKeyCommand string = 'az functionapp keys list --resource-group ${resourceGroup().name} --name ${site.name} --query functionKeys.default --output tsv'
output storageAccountName string = storage.name
output poolNamespaces array = pool.outputs.namespaceNames
output downstreamFullyQualifiedNamespace string = downstreamFqns

// ================================================================ paging and the operations workbook (README "Operating")
@description('E-mail addresses the alert rules page (action group). Empty, and no alertWebhookUrl: the rules still fire in Azure Monitor, nobody is notified.')
param alertEmailAddresses array = []

@description('Optional webhook the alert rules call (common alert schema), e.g. the on-call tool\'s integration URL.')
@secure()
param alertWebhookUrl string = ''

@description('Create the log alert rules enabled.')
param alertsEnabled bool = true

@description('Dead-letter alert: percent of a hub\'s records dead-lettered within an hour above which it fires.')
@minValue(0)
@maxValue(100)
param deadLetterPercent int = 1

@description('Dead-letter alert: fewer dead letters than this within an hour never fire it.')
@minValue(1)
param deadLetterMinCount int = 100

@description('Reconcile alert: fires when this many latest reconcile runs of a tenant all failed or were partial.')
@minValue(1)
@maxValue(20)
param reconcileFailingRuns int = 3

@description('Health heartbeat alert: fires when no stream-health run finished for this many minutes (keep it above the healthSchedule period).')
@minValue(15)
@maxValue(60)
param healthRunMissingMinutes int = 30

module monitoring 'modules/monitoring.bicep' = {
  name: 'mdr-monitoring'
  params: {
    location: location
    namePrefix: resourcePrefix
    tags: tags
    appInsightsId: appInsights.id
    alertEmailAddresses: alertEmailAddresses
    alertWebhookUrl: alertWebhookUrl
    alertsEnabled: alertsEnabled
    deadLetterPercent: deadLetterPercent
    deadLetterMinCount: deadLetterMinCount
    reconcileFailingRuns: reconcileFailingRuns
    healthRunMissingMinutes: healthRunMissingMinutes
  }
}

output alertRuleNames array = monitoring.outputs.alertRuleNames
output workbookId string = monitoring.outputs.workbookId
