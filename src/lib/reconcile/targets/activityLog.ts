import { diagnosticSettingTarget } from '../diagnosticSetting.js';

/** Every activity-log category (subscriptionDiagnosticsSettings 2021-05-01-preview). */
export const ACTIVITY_LOG_CATEGORIES = ['Administrative', 'Security', 'ServiceHealth', 'Alert', 'Recommendation', 'Policy', 'Autoscale', 'ResourceHealth'] as const;

/** Subscription activity log → the tenant's primary hub (non-regional source). Resource id: `/subscriptions/<id>`. */
export const activityLogTarget = diagnosticSettingTarget('activity-log', ACTIVITY_LOG_CATEGORIES);
