// One ingest Function App of the fleet (docs/fleet.md), deployed by main.bicep once per ingestAppCount: its own
// Flex Consumption plan and site running the same package with MDR_APP_ROLE=ingest, its deployment container, and
// the data-plane roles it needs — nothing on ARM. It reads the tenant hubs the control plane assigns to it
// (MDR_INGEST_BINDINGS, written into this site's settings by the control plane's identity, which gets the
// settings-writer role on this site only). Every ingest app uses the same storage account as AzureWebJobsStorage:
// Event Hubs checkpoints live there by namespace/hub/consumer group, not by app, so a hub moved to another app
// resumes where it was (src/lib/fleet/checkpoints.ts).

@description('Function App (site) name; distinct from the other apps sharing the storage account within its first 32 characters (the Functions host id).')
param appName string

param location string
param tags object

@description('Storage account shared by the control app and every ingest app (AzureWebJobsStorage).')
param storageAccountName string

@description('Blob container of this app\'s deployment package (created here).')
param deploymentContainerName string

@description('Blob containers the Functions host uses: keys and locks, and the Event Hubs checkpoints (shared by all ingest apps).')
param hostContainerNames array

param outputContainerName string
param deadLetterContainerName string

@description('MDR_RECONCILE_QUEUE: ingest enqueues targeted reconcile work items (activity-log change signals).')
param reconcileQueueName string

@description('Registry table of when ingest last saw each source (stream health): read-merge-write by etag.')
param lastSeenTableName string

@description('Registry table of each tenant\'s known subscriptions (discovery writes it): attribution trusts a record only when every subscription it names is there.')
param subscriptionsTableName string

@description('Registry table of the partitions whose batches got through (stream health tells a stalled partition from a quiet one).')
param ingestProgressTableName string

@description('Event-driven coverage: one coalescing marker per tenant, read and written by etag (the control app claims them).')
param pendingWorkTableName string

param appInsightsName string

param deployDownstream bool
param downstreamNamespaceName string
param downstreamEventHubName string

@description('App settings shared with the control app (cloud, provider, storage, outputs).')
param sharedSettings object

@description('True when this app existed before this deployment: the settings the control plane writes (MDR_INGEST_BINDINGS, MDR_EHNS_*) are carried over.')
param exists bool

@description('Object id of the control app\'s identity: it may write this app\'s settings (and nothing else of it).')
param controlPrincipalId string

@description('Resource id of the custom "MDR Function App settings writer" role definition.')
param settingsWriterRoleDefinitionId string

@description('Grant the control app the settings writer role on this app (autoUpdateIngestBindings).')
param grantSettingsWriter bool

@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@allowed([512, 2048, 4096])
param instanceMemoryMB int

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataMessageSender: 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  storageTableDataReader: '76199698-9eea-4c19-bc75-cec21354c6b6'
  eventHubsDataSender: '2b629674-e913-4c01-ae53-ef4638d8f975'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource packageContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: { publicAccess: 'None' }
}

resource hostContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = [for c in hostContainerNames: {
  parent: blobService
  name: c
}]

resource outputContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: outputContainerName
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: deadLetterContainerName
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource reconcileQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = {
  parent: queueService
  name: reconcileQueueName
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource lastSeenTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' existing = {
  parent: tableService
  name: lastSeenTableName
}

resource subscriptionsTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' existing = {
  parent: tableService
  name: subscriptionsTableName
}

resource ingestProgressTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' existing = {
  parent: tableService
  name: ingestProgressTableName
}

resource pendingWorkTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' existing = {
  parent: tableService
  name: pendingWorkTableName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource downstreamNamespace 'Microsoft.EventHub/namespaces@2024-01-01' existing = if (deployDownstream) {
  name: downstreamNamespaceName
}

resource downstreamHub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' existing = if (deployDownstream) {
  parent: downstreamNamespace
  name: downstreamEventHubName
}

// Flex Consumption: one app per plan.
resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${appName}-plan'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, { 'mdr-role': 'ingest' })
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
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
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

// ---------------------------------------------------------------- the ingest identity's roles (data plane only)
// docs/security.md §2.4 lists them; test/infra/securityRoles.test.ts keeps the two equal, and
// test/infra/rightsAudit.int.test.ts checks them against every storage request the ingest code makes.

// Functions host: keys (azure-webjobs-secrets), locks (azure-webjobs-hosts) and Event Hubs checkpoints and partition
// ownership (azure-webjobs-eventhub, shared by every ingest app so a moved hub resumes from its checkpoints).
resource raHostBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (c, i) in hostContainerNames: {
  name: guid(storage.id, c, site.id, roles.storageBlobDataOwner)
  scope: hostContainers[i]
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
    description: 'azure-mdr-connector ingest: Functions host storage (${c}).'
  }
}]

resource raDeployment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, deploymentContainerName, site.id, roles.storageBlobDataContributor)
  scope: packageContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
    description: 'azure-mdr-connector ingest: Flex Consumption deployment package.'
  }
}

resource raOutput 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, outputContainerName, site.id, roles.storageBlobDataContributor)
  scope: outputContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
    description: 'azure-mdr-connector ingest: OCSF blob output.'
  }
}

resource raDeadLetter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, deadLetterContainerName, site.id, roles.storageBlobDataContributor)
  scope: deadLetterContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
    description: 'azure-mdr-connector ingest: dead letters.'
  }
}

// Targeted reconcile work items from activity-log change signals: add messages, nothing else (the queue is created
// by main.bicep; this role cannot create it, and an ingest app never tries: src/lib/storage/storageClients.ts).
resource raReconcileQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, reconcileQueueName, site.id, roles.storageQueueDataMessageSender)
  scope: reconcileQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataMessageSender)
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
    description: 'azure-mdr-connector ingest: enqueue targeted reconcile work items.'
  }
}

resource raLastSeen 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, lastSeenTableName, site.id, roles.storageTableDataContributor)
  scope: lastSeenTable
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
    description: 'azure-mdr-connector ingest: last-seen times per source (stream health).'
  }
}

resource raSubscriptions 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, subscriptionsTableName, site.id, roles.storageTableDataReader)
  scope: subscriptionsTable
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataReader)
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
    description: 'azure-mdr-connector ingest: the tenant subscriptions attribution checks records against.'
  }
}

resource raIngestProgress 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, ingestProgressTableName, site.id, roles.storageTableDataContributor)
  scope: ingestProgressTable
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
    description: 'azure-mdr-connector ingest: partition progress (stream health).'
  }
}

// Event-driven coverage: the pending-work marker a change signal creates or joins (read, insert, replace by etag).
resource raPendingWork 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, pendingWorkTableName, site.id, roles.storageTableDataContributor)
  scope: pendingWorkTable
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
    description: 'azure-mdr-connector ingest: event-driven coverage markers (coalescing of change signals).'
  }
}

resource raMetrics 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, site.id, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
    description: 'azure-mdr-connector ingest: send telemetry to Application Insights with Entra ID.'
  }
}

resource raDownstream 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (deployDownstream) {
  name: guid(resourceId('Microsoft.EventHub/namespaces/eventhubs', downstreamNamespaceName, downstreamEventHubName), site.id, roles.eventHubsDataSender)
  scope: downstreamHub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventHubsDataSender)
    principalId: site.identity.principalId
    principalType: 'ServicePrincipal'
    description: 'azure-mdr-connector ingest: OCSF output.'
  }
}

// ---------------------------------------------------------------- the control plane may write this app's settings
// Scoped to this site: the control app never holds a role on its own configuration (Easy Auth, settings).
resource raControlSettingsWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (grantSettingsWriter) {
  name: guid(site.id, controlPrincipalId, 'mdr-app-settings-writer')
  scope: site
  properties: {
    roleDefinitionId: settingsWriterRoleDefinitionId
    principalId: controlPrincipalId
    principalType: 'ServicePrincipal'
    description: 'azure-mdr-connector control plane: write this ingest app\'s bindings (MDR_INGEST_BINDINGS, MDR_EHNS_*).'
  }
}

module settings 'appSettings.bicep' = {
  name: '${appName}-settings'
  params: {
    appName: site.name
    desired: union(sharedSettings, { MDR_APP_ROLE: 'ingest' })
    // Evaluated only when the site existed before (ARM evaluates just the taken branch of if()).
    current: exists ? list('${resourceId('Microsoft.Web/sites', appName)}/config/appsettings', '2024-04-01').properties : {}
  }
  // Start the host only once it can reach its storage.
  dependsOn: [raHostBlob, raDeployment, raOutput, raDeadLetter, raReconcileQueue, raLastSeen, raSubscriptions, raIngestProgress, raPendingWork, raMetrics]
}

output name string = site.name
output resourceId string = site.id
output principalId string = site.identity.principalId
