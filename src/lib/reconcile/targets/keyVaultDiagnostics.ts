import type { HubAssignment } from '../../registry/types.js';
import {
  applyDiagnosticSetting,
  diffDiagnosticSetting,
  observeDiagnosticSettings,
  ownedSettingNames,
  toResourceUri,
  type DesiredDiagnosticSetting,
  type ObservedDiagnosticSetting,
} from '../diagnosticSetting.js';
import type { ReconcileTarget, TargetItem } from '../target.js';

/** Key Vault log categories; a setting of ours using the `allLogs` group also counts as in sync. */
export const KEY_VAULT_CATEGORIES = ['AuditEvent', 'AzurePolicyEvaluationDetails'] as const;

/** A Key Vault → hub in the vault's region. */
export const keyVaultDiagnosticsTarget: ReconcileTarget<DesiredDiagnosticSetting, ObservedDiagnosticSetting[]> = {
  id: 'keyvault-diagnostics',
  desired: (item: TargetItem, hub: HubAssignment, prefix: string) => ({
    resourceId: item.resourceId,
    name: `${prefix}-export`,
    eventHubAuthorizationRuleId: hub.namespaceRuleId,
    eventHubName: hub.hub,
    categories: KEY_VAULT_CATEGORIES,
  }),
  observe: async (ctx, item) => observeDiagnosticSettings((await ctx.clients.monitor()).diagnosticSettings, item.resourceId),
  diff: diffDiagnosticSetting,
  apply: async (ctx, desired, changes) => applyDiagnosticSetting((await ctx.clients.monitor()).diagnosticSettings, desired, changes),
  owned: ownedSettingNames,
  remove: async (ctx, item, name) => (await ctx.clients.monitor()).diagnosticSettings.delete(toResourceUri(item.resourceId), name),
};
