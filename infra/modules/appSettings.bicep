// Writes a Function App's app settings. `config/appsettings` is replaced as a whole on every deployment, but the
// control plane rewrites two kinds of settings of each ingest app at run time (onboarding → appSettingsSync.ts):
// MDR_INGEST_BINDINGS and one MDR_EHNS_<NAMESPACE>__fullyQualifiedNamespace per pool namespace. A redeploy must
// carry those over, or the app's ingest triggers would disappear until the next sync. They are taken from the
// current settings (`current`, {} for an app without any), everything else comes from the template.

param appName string

@description('Settings chosen by the template (operator parameters and wiring).')
param desired object

@secure()
@description('The app settings currently on the site ({} on the first deployment).')
param current object

var runtimeOwned = toObject(
  filter(items(current), s => s.key == 'MDR_INGEST_BINDINGS' || startsWith(s.key, 'MDR_EHNS_')),
  s => s.key,
  s => s.value
)

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: appName
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: union(desired, runtimeOwned)
}
