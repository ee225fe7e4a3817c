// Custom role definitions for the connector's managed identity. Role definitions live at subscription level,
// so main.bicep (a resource-group deployment) deploys this module at subscription scope. Each role's assignable
// scope is exactly the resource group it is meant for.
targetScope = 'subscription'

@description('Resource group holding the Event Hubs namespace pool (MDR_EH_POOL_RESOURCE_GROUP).')
param poolResourceGroupName string

@description('Resource group of the Function App.')
param appResourceGroupName string

var poolRgId = '${subscription().id}/resourceGroups/${poolResourceGroupName}'
var appRgId = '${subscription().id}/resourceGroups/${appResourceGroupName}'

// Pool management: exactly what onboarding, pool growth, offboarding and the reconciler do to the pool.
// Deliberately NOT included: namespaces/delete (removing a namespace is an operator decision), anything outside
// Microsoft.EventHub, and Microsoft.Authorization/* (the app never grants access to anyone).
resource poolManager 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, poolResourceGroupName, 'mdr-eventhubs-pool-manager')
  properties: {
    roleName: 'MDR Event Hubs pool manager (${poolResourceGroupName}, ${take(subscription().subscriptionId, 8)})'
    description: 'azure-mdr-connector: create pool namespaces, per-tenant hubs, consumer groups and SAS rules; list keys of the diagnostics (namespace) and send (hub) rules.'
    type: 'CustomRole'
    assignableScopes: [poolRgId]
    permissions: [
      {
        actions: [
          'Microsoft.Resources/subscriptions/resourceGroups/read'
          // Namespaces: read (slot accounting, provisioning state) and create (pool growth). The '*/read' wildcard
          // covers every sub-resource GET, including the async operation results polled during namespace creation.
          'Microsoft.EventHub/namespaces/read'
          'Microsoft.EventHub/namespaces/*/read'
          'Microsoft.EventHub/namespaces/write'
          // Per-tenant hub and its ingest consumer group: created at onboarding (or lazily by the reconciler),
          // deleted at offboarding.
          'Microsoft.EventHub/namespaces/eventhubs/write'
          'Microsoft.EventHub/namespaces/eventhubs/delete'
          'Microsoft.EventHub/namespaces/eventhubs/consumergroups/write'
          'Microsoft.EventHub/namespaces/eventhubs/consumergroups/delete'
          // Namespace rule <prefix>-diagnostics (Manage/Send/Listen): diagnostic settings reference it, and Azure
          // Monitor requires the caller that writes such a setting to hold listkeys on the rule. The app never
          // reads the keys of this rule itself.
          'Microsoft.EventHub/namespaces/authorizationRules/write'
          'Microsoft.EventHub/namespaces/authorizationRules/listkeys/action'
          // Hub rule <prefix>-send (Send only): Defender continuous export accepts only a connection string, which
          // the reconciler fetches with listKeys and writes straight into the customer's automation.
          'Microsoft.EventHub/namespaces/eventhubs/authorizationRules/write'
          'Microsoft.EventHub/namespaces/eventhubs/authorizationRules/delete'
          'Microsoft.EventHub/namespaces/eventhubs/authorizationRules/listkeys/action'
        ]
        notActions: []
        // Log Analytics data export to an Event Hubs namespace requires the rule's creator to be able to send to
        // the destination (azure-facts §2). This adds no effective power: listkeys on the Manage rule above already
        // allows sending with SAS.
        dataActions: [
          'Microsoft.EventHub/namespaces/messages/send/action'
        ]
        notDataActions: []
      }
    ]
  }
}

// Settings writer: read and replace an ingest app's app settings (webApps.listApplicationSettings /
// updateApplicationSettings) when its set of tenant hubs changes. Assigned to the control app's identity on each
// ingest app's site only (modules/ingestApp.bicep), never on the control app itself. Narrower than Website
// Contributor, which would also let the identity deploy code, change networking or delete the site.
resource appSettingsWriter 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, appResourceGroupName, 'mdr-app-settings-writer')
  properties: {
    roleName: 'MDR Function App settings writer (${appResourceGroupName}, ${take(subscription().subscriptionId, 8)})'
    description: 'azure-mdr-connector: read the site and list/replace its app settings (no code deployment, no delete).'
    type: 'CustomRole'
    assignableScopes: [appRgId]
    permissions: [
      {
        actions: [
          'Microsoft.Web/sites/read'
          'Microsoft.Web/sites/config/read'
          'Microsoft.Web/sites/config/list/action'
          'Microsoft.Web/sites/config/write'
        ]
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
  }
}

output poolManagerRoleDefinitionId string = poolManager.id
output appSettingsWriterRoleDefinitionId string = appSettingsWriter.id
