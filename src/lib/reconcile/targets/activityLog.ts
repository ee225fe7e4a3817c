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

/** Every activity-log category (subscriptionDiagnosticsSettings 2021-05-01-preview). */
export const ACTIVITY_LOG_CATEGORIES = ['Administrative', 'Security', 'ServiceHealth', 'Alert', 'Recommendation', 'Policy', 'Autoscale', 'ResourceHealth'] as const;

/** Subscription activity log → the tenant's primary hub (non-regional source). Resource id: `/subscriptions/<id>`. */
export const activityLogTarget: ReconcileTarget<DesiredDiagnosticSetting, ObservedDiagnosticSetting[]> = {
  id: 'activity-log',
  desired: (item: TargetItem, hub: HubAssignment, prefix: string) => ({
    resourceId: item.resourceId,
    name: `${prefix}-export`,
    eventHubAuthorizationRuleId: hub.namespaceRuleId,
    eventHubName: hub.hub,
    categories: ACTIVITY_LOG_CATEGORIES,
  }),
  observe: async (ctx, item) => observeDiagnosticSettings((await ctx.clients.monitor()).diagnosticSettings, item.resourceId),
  diff: diffDiagnosticSetting,
  apply: async (ctx, desired, changes) => applyDiagnosticSetting((await ctx.clients.monitor()).diagnosticSettings, desired, changes),
  owned: ownedSettingNames,
  remove: async (ctx, item, name) => (await ctx.clients.monitor()).diagnosticSettings.delete(toResourceUri(item.resourceId), name),
};
