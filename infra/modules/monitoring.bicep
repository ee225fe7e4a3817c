// Paging and the operations workbook (README "Operating"): an action group, one log alert rule per condition an
// operator must act on, and an Azure Monitor workbook, all on the Application Insights resource the control app and
// every ingest app send to.
//
// Where the data comes from: each app writes `<event> {json}` lines through the Functions invocation context
// (src/lib/observability/contextLogger.ts). The Functions host logs a worker's context.log line with the invocation's
// logger, category `Function.<name>.User` (azure-functions-host GrpcWorkerChannel.Log; Microsoft docs "Configure
// monitoring for Azure Functions", categories), so each line is one row of Application Insights `traces`: `message` is
// the line as written, `severityLevel` its level (1 info, 2 warn, 3 error), `customDimensions` holds Category, LogLevel
// and InvocationId. The rules query the Application Insights resource (scope below), in its `traces` schema, which is
// also what Microsoft's Functions docs query ("Analyze Azure Functions telemetry in Application Insights"); in the
// Log Analytics workspace behind it the same rows are AppTraces (Message, SeverityLevel, Properties, TimeGenerated:
// "Migrate to workspace-based Application Insights", table schemas).
// The queries and the workbook are in monitoring/*.json; test/infra/logContract.int.test.ts runs the code paths that
// emit every event they read and checks each field against the lines actually written, and parses every query with
// Microsoft's Kusto language service against the `traces` schema.

@description('Region of the alert rules and the workbook (the Application Insights region).')
param location string

@description('Prefix of the resource names (resourcePrefix of main.bicep).')
param namePrefix string

param tags object = {}

@description('Resource id of the workspace-based Application Insights component the apps send to.')
param appInsightsId string

@description('E-mail addresses paged by every alert (the action group\'s e-mail receivers). Empty and no webhook: the rules fire in Azure Monitor without notifying anyone.')
param alertEmailAddresses array = []

@description('Optional webhook (e.g. the on-call tool\'s integration URL) called with the common alert schema.')
@secure()
param alertWebhookUrl string = ''

@description('Create the alert rules enabled.')
param alertsEnabled bool = true

@description('Dead-letter alert: percent of a hub\'s records dead-lettered in an hour above which it fires.')
@minValue(0)
@maxValue(100)
param deadLetterPercent int = 1

@description('Dead-letter alert: fewer dead letters than this in an hour never fire it.')
@minValue(1)
param deadLetterMinCount int = 100

@description('Reconcile alert: fires when this many latest runs of a tenant all failed or were partial.')
@minValue(1)
@maxValue(20)
param reconcileFailingRuns int = 3

@description('Health heartbeat alert: fires when no stream-health run finished for this long (minutes; keep above the healthSchedule period).')
@minValue(15)
@maxValue(60)
param healthRunMissingMinutes int = 30

var alertRules = loadJsonContent('monitoring/alertRules.json').rules
var hasReceivers = !empty(alertEmailAddresses) || !empty(alertWebhookUrl)

// Every {placeholder} of alertRules.json, filled from the parameter of the same name.
var queries = [for r in alertRules: replace(replace(replace(replace(join(r.query, '\n'), '{deadLetterPercent}', string(deadLetterPercent)), '{deadLetterMinCount}', string(deadLetterMinCount)), '{reconcileFailingRuns}', string(reconcileFailingRuns)), '{healthRunMissingMinutes}', string(healthRunMissingMinutes))]
var descriptions = [for r in alertRules: replace(replace(replace(replace('${r.description} Runbook: ${r.runbook}', '{deadLetterPercent}', string(deadLetterPercent)), '{deadLetterMinCount}', string(deadLetterMinCount)), '{reconcileFailingRuns}', string(reconcileFailingRuns)), '{healthRunMissingMinutes}', string(healthRunMissingMinutes))]

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (hasReceivers) {
  name: '${namePrefix}-oncall'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take('${namePrefix}-oncall', 12)
    enabled: true
    emailReceivers: [for (address, i) in alertEmailAddresses: {
      name: 'email-${i + 1}'
      emailAddress: address
      useCommonAlertSchema: true
    }]
    webhookReceivers: empty(alertWebhookUrl) ? [] : [
      {
        name: 'webhook'
        serviceUri: alertWebhookUrl
        useCommonAlertSchema: true
      }
    ]
  }
}

resource logAlerts 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for (r, i) in alertRules: {
  name: '${namePrefix}-${r.name}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: r.displayName
    description: descriptions[i]
    severity: r.severity
    enabled: alertsEnabled
    scopes: [appInsightsId]
    evaluationFrequency: r.evaluationFrequency
    windowSize: r.windowSize
    criteria: {
      allOf: [
        {
          query: queries[i]
          timeAggregation: 'Count'
          dimensions: r.dimensions
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    // Stateful: one notification when a dimension combination starts failing, resolved when it no longer returns rows.
    autoMitigate: true
    actions: {
      actionGroups: hasReceivers ? [actionGroup.id] : []
      customProperties: {
        runbook: r.runbook
      }
    }
  }
}]

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(appInsightsId, 'mdr-operations-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'MDR connector operations'
    category: 'workbook'
    sourceId: appInsightsId
    serializedData: replace(loadTextContent('monitoring/workbook.json'), '{appInsightsId}', appInsightsId)
    version: 'Notebook/1.0'
  }
}

output actionGroupId string = hasReceivers ? actionGroup.id : ''
output alertRuleNames array = [for (r, i) in alertRules: logAlerts[i].name]
output workbookId string = workbook.id
