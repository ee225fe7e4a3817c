import type { SourceId } from '../ingest/types.js';
import type { CoverageState, TargetId } from '../registry/types.js';

/**
 * The one map from export targets (coverage ledger) to the ingest sources they feed (`source` of ingest's
 * last-seen records, see ingest/mappers). Stream health relates the two through it.
 * - `hub`: which tenant hub the target streams to — `primary` for non-regional sources (reconcile sends them to
 *   the tenant's first region), `regional` for resources (the hub in the entry's region).
 * - `sparse`: the source only emits when something happens (Defender alerts), so its own silence proves
 *   nothing; it is judged silent only when the hub it streams to is silent.
 */
export interface TargetSources {
  sources: readonly SourceId[];
  hub: 'primary' | 'regional';
  sparse: boolean;
}

export const TARGET_SOURCES: Readonly<Record<TargetId, TargetSources>> = {
  'activity-log': { sources: ['activity-log'], hub: 'primary', sparse: false },
  'storage-diagnostics': { sources: ['storage'], hub: 'regional', sparse: false },
  'keyvault-diagnostics': { sources: ['key-vault'], hub: 'regional', sparse: false },
  // Data export of the Entra tables (reconcile/entraLogs.ts): sign-ins (ADFS too) and audit are expected to flow;
  // risk detections (`entra-risk`) come only when Identity Protection detects something, so their quiet proves nothing.
  'entra-data-export': { sources: ['sign-in', 'entra-audit'], hub: 'regional', sparse: false },
  'defender-export': { sources: ['defender-alert'], hub: 'primary', sparse: true },
};

/** Ledger states in which our setting exists and data is expected to flow. */
export const EXPECTING_STATES: ReadonlySet<CoverageState> = new Set<CoverageState>(['streaming', 'created', 'repaired', 'silent']);
/** States written when a setting was just created/fixed: Azure needs up to 90 minutes before data flows. */
export const NEW_SETTING_STATES: ReadonlySet<CoverageState> = new Set<CoverageState>(['created', 'repaired']);
/** Azure Monitor: "data should start flowing within 90 minutes of creating a setting" (azure-facts §1). */
export const NEW_SETTING_GRACE_MINUTES = 90;
