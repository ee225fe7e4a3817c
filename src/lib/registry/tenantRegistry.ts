import type { ChangeMark, CoverageEntry, HubAssignment, IngestAppRecord, KnownSubscription, LastSeen, NamespaceRecord, OnboardingOperation, PartitionProgress, TenantRecord } from './types.js';

/**
 * The registry port. Implementations: tableRegistry.ts (Azure Table storage, production and integration
 * tests against Azurite) and memoryRegistry.ts (unit tests). Writes that can race (namespace slots,
 * tenant updates) use etags: a stale etag raises ConnectorError kind 'conflict'.
 */
export interface TenantRegistry {
  // tenants
  getTenant(tenantId: string): Promise<TenantRecord | undefined>;
  listTenants(opts?: { includeOffboarded?: boolean }): Promise<TenantRecord[]>;
  /** Create (etag undefined: fails with 'conflict' if it exists) or replace when the etag matches. Returns the stored record with its new etag. */
  putTenant(record: TenantRecord): Promise<TenantRecord>;

  // hubs
  listHubs(tenantId?: string): Promise<HubAssignment[]>;
  putHub(hub: HubAssignment): Promise<void>;
  deleteHub(tenantId: string, region: string): Promise<void>;

  // namespace pool
  listNamespaces(region?: string): Promise<NamespaceRecord[]>;
  /** Create (no etag) or conditional replace (etag): 'conflict' when someone else changed it first. */
  putNamespace(ns: NamespaceRecord): Promise<NamespaceRecord>;

  // ingest fleet (docs/fleet.md)
  listIngestApps(): Promise<IngestAppRecord[]>;
  /** Create (no etag: 'conflict' if it exists) or conditional replace (etag). */
  putIngestApp(app: IngestAppRecord): Promise<IngestAppRecord>;

  // coverage ledger
  listCoverage(tenantId: string): Promise<CoverageEntry[]>;
  /**
   * Upserts entries. Entries of the tenant absent from `entries` are kept, unless `replaceAll` (a whole-tenant
   * run) or they belong to one of `replaceSubscriptions` (a run over those subscriptions only).
   */
  putCoverage(tenantId: string, entries: CoverageEntry[], opts?: { replaceAll?: boolean; replaceSubscriptions?: readonly string[] }): Promise<void>;

  // change-feed marks (per subscription)
  listChangeMarks(tenantId: string): Promise<ChangeMark[]>;
  /** Upserts the marks of these subscriptions; others are kept. */
  putChangeMarks(tenantId: string, marks: ChangeMark[]): Promise<void>;

  // long-running onboarding operations
  listOperations(tenantId: string): Promise<OnboardingOperation[]>;
  /** Create (no etag: 'conflict' if it exists) or conditional replace (etag). */
  putOperation(op: OnboardingOperation): Promise<OnboardingOperation>;
  // known subscriptions (discovery's record of the tenant's own subscriptions; ingest trusts only these)
  listKnownSubscriptions(tenantId: string): Promise<KnownSubscription[]>;
  /**
   * Upserts. With `replaceAll` (a whole-tenant discovery) the tenant's other rows are removed; with `replaceSubscriptions`
   * (a discovery narrowed to those) only those among them that are absent from `subscriptions` are removed.
   */
  putKnownSubscriptions(tenantId: string, subscriptions: KnownSubscription[], opts: { replaceAll?: boolean; replaceSubscriptions?: readonly string[] }): Promise<void>;

  // ingest last-seen (stream health)
  listLastSeen(tenantId: string): Promise<LastSeen[]>;
  /** Merges: keeps the max of lastEventTime and adds counts. */
  recordLastSeen(entries: LastSeen[]): Promise<void>;

  // ingest progress per hub partition (stream health flags a stalled partition)
  listPartitionProgress(tenantId: string): Promise<PartitionProgress[]>;
  /** Replaces each (tenant, namespace, hub, partition) row: one instance owns a partition at a time. */
  recordPartitionProgress(entries: PartitionProgress[]): Promise<void>;
}
