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

/** Categories of each storage service (blob/queue/table/file): StorageRead/Write/Delete. */
export const STORAGE_CATEGORIES = ['StorageRead', 'StorageWrite', 'StorageDelete'] as const;

/** A storage service sub-resource (`<account>/<svc>Services/default`) → hub in the account's region. Only services that exist for the account kind are items (storageServices.ts). */
export const storageDiagnosticsTarget: ReconcileTarget<DesiredDiagnosticSetting, ObservedDiagnosticSetting[]> = {
  id: 'storage-diagnostics',
  desired: (item: TargetItem, hub: HubAssignment, prefix: string) => ({
    resourceId: item.resourceId,
    name: `${prefix}-export`,
    eventHubAuthorizationRuleId: hub.namespaceRuleId,
    eventHubName: hub.hub,
    categories: STORAGE_CATEGORIES,
  }),
  observe: async (ctx, item) => observeDiagnosticSettings((await ctx.clients.monitor()).diagnosticSettings, item.resourceId),
  diff: diffDiagnosticSetting,
  apply: async (ctx, desired, changes) => applyDiagnosticSetting((await ctx.clients.monitor()).diagnosticSettings, desired, changes),
  owned: ownedSettingNames,
  remove: async (ctx, item, name) => (await ctx.clients.monitor()).diagnosticSettings.delete(toResourceUri(item.resourceId), name),
};
