import { z } from 'zod';

/**
 * What the provider knows about its customers, stored in Azure Table storage (tableRegistry.ts) or in
 * memory (memoryRegistry.ts, unit tests). Every entity read back is validated with these schemas.
 */

export const tenantStatusSchema = z.enum(['onboarding', 'active', 'offboarding', 'offboarded']);
export type TenantStatus = z.infer<typeof tenantStatusSchema>;

/** True once offboarding began (the tenant is 'offboarding' or 'offboarded'): the fence that stops reconcile writes. */
export const offboardingBegan = (status: TenantStatus | undefined): boolean => status === 'offboarding' || status === 'offboarded';

export const tenantOptionsSchema = z
  .object({
    /** Export activity log of every delegated subscription. */
    activityLog: z.boolean().default(true),
    storage: z.boolean().default(true),
    keyVault: z.boolean().default(true),
    entraDataExport: z.boolean().default(true),
    defenderAlerts: z.boolean().default(true),
    /** Storage services to cover; others are never configured (ours on a service dropped from the list is removed). */
    storageServices: z.array(z.enum(['blob', 'queue', 'table', 'file'])).default(['blob', 'queue', 'table', 'file']),
  })
  .strict();
export type TenantOptions = z.infer<typeof tenantOptionsSchema>;

export const tenantRecordSchema = z.object({
  tenantId: z.string(),
  displayName: z.string(),
  managementGroupId: z.string().optional(),
  /** Regions the provider provisions hubs for up front; others are provisioned lazily by the reconciler. */
  regions: z.array(z.string()),
  /** Log Analytics workspaces (ARM ids) that hold the tenant's Entra ID logs. */
  entraWorkspaceIds: z.array(z.string()),
  options: tenantOptionsSchema,
  status: tenantStatusSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
  /** When the latest offboarding began (DELETE): what a queued onboarding is compared with (longOnboarding.ts). */
  offboardingStartedAt: z.string().optional(),
  lastReconcile: z
    .object({ at: z.string(), result: z.enum(['succeeded', 'partial', 'failed']), durationMs: z.number(), summary: z.record(z.string(), z.number()) })
    .optional(),
  etag: z.string().optional(),
});
export type TenantRecord = z.infer<typeof tenantRecordSchema>;

/** A tenant's Event Hub in one region. Names only: secrets are never stored here (keys are fetched with listKeys when needed). */
export const hubAssignmentSchema = z.object({
  tenantId: z.string(),
  region: z.string(),
  namespace: z.string(),
  /** ARM id of the namespace. */
  namespaceId: z.string(),
  hub: z.string(),
  consumerGroup: z.string(),
  /** Namespace-level rule referenced by diagnostic settings (ARM id). */
  namespaceRuleId: z.string(),
  /** Hub-level Send-only rule used by Defender continuous export (ARM id). */
  sendRuleId: z.string(),
  state: z.enum(['provisioning', 'ready', 'deleting']),
  createdAt: z.string(),
});
export type HubAssignment = z.infer<typeof hubAssignmentSchema>;

/** One namespace of a region's pool and how many tenant hubs it holds (optimistic concurrency by etag). */
export const namespaceRecordSchema = z.object({
  region: z.string(),
  namespace: z.string(),
  namespaceId: z.string(),
  tier: z.enum(['Standard', 'Premium', 'Dedicated']),
  maxHubs: z.number().int(),
  hubCount: z.number().int(),
  /** tenantIds holding a slot; hubCount === tenants.length. */
  tenants: z.array(z.string()),
  state: z.enum(['provisioning', 'ready']),
  etag: z.string().optional(),
});
export type NamespaceRecord = z.infer<typeof namespaceRecordSchema>;

export const coverageStateSchema = z.enum([
  'streaming',
  'created',
  'repaired',
  'slots-exhausted',
  'no-hub-in-region',
  'unsupported',
  'forbidden',
  'failed',
  'silent',
  'disabled',
  'removed',
]);
export type CoverageState = z.infer<typeof coverageStateSchema>;

export const targetIdSchema = z.enum(['activity-log', 'storage-diagnostics', 'keyvault-diagnostics', 'entra-data-export', 'defender-export']);
export type TargetId = z.infer<typeof targetIdSchema>;

/** Per tenant and export target (a resource, or a storage service sub-resource): what streams and why not. */
export const coverageEntrySchema = z.object({
  tenantId: z.string(),
  /** ARM id of what is exported (subscription, storage service, vault, workspace, automation RG). */
  resourceId: z.string(),
  target: targetIdSchema,
  subscriptionId: z.string(),
  region: z.string(),
  state: coverageStateSchema,
  /** Human-readable reason (error message, names of the settings holding the 5 slots…). */
  detail: z.string().optional(),
  /** Name of our setting/rule/automation, when one exists. */
  settingName: z.string().optional(),
  /** Stable machine-readable reason next to `detail` (docs/reconcile.md "Reason codes"), e.g. `workspace-not-delegated`. */
  reasonCode: z.string().optional(),
  /**
   * Entra workspaces (entra-data-export): the Entra tables the workspace holds, which our rule exports, and those it
   * lacks, which are skipped (reconcile/entraLogs.ts), as its Tables API listed them when last read.
   */
  entraTables: z.object({ exported: z.array(z.string()), missing: z.array(z.string()) }).optional(),
  updatedAt: z.string(),
  /** When the reconciler last read this target from ARM (before the read went out); the change feed compares with it. */
  observedAt: z.string().optional(),
  /** When the reconciler's own write of it finished: activity-log events of that write are not news. */
  wroteAt: z.string().optional(),
  /** Fingerprint of the desired configuration it was reconciled to (hub, categories): a change forces a read. */
  desiredKey: z.string().optional(),
  /** The last tamper with our object here (deleted or re-pointed by someone else), as its Detection Finding reported it. */
  tamper: z
    .object({
      /** When the change happened (the activity-log event time). */
      at: z.string(),
      operation: z.string(),
      /** ARM id of the object changed. */
      object: z.string(),
      caller: z.string().optional(),
      callerIp: z.string().optional(),
      /** metadata.uid of the OCSF Detection Finding. */
      findingUid: z.string(),
      /** When the event-driven run found it and put ours back. */
      repairedAt: z.string().optional(),
    })
    .optional(),
  /**
   * Provenance: the objects of ours on this target (qualified names, `<rg>/<name>` for automations), recorded when
   * we wrote or found them. It is what makes a prefixed object ours after someone re-points it (ownership.ts).
   */
  ownedNames: z.array(z.string()).optional(),
});
export type CoverageEntry = z.infer<typeof coverageEntrySchema>;

/** A coverage entry's identity within its tenant: its target and resource id (ids compare case-insensitively). */
export const coverageKey = (e: { readonly target: string; readonly resourceId: string }): string => `${e.target}|${e.resourceId.toLowerCase()}`;

/**
 * How far the reconciler has read one subscription's activity log, its change feed: every change up to
 * `through` has been seen (the next read starts there, less the log's ingestion lag).
 */
export const changeMarkSchema = z.object({
  tenantId: z.string(),
  subscriptionId: z.string(),
  through: z.string(),
});
export type ChangeMark = z.infer<typeof changeMarkSchema>;

/**
 * An onboarding that outlasts its HTTP request (a new pool namespace can take minutes): `PUT /api/tenants/{id}`
 * answers 202 with its status URL, a queue-triggered function carries it out, `GET …/operations/{id}` reports it.
 * Status values as in the Azure REST API guidelines' long-running operations (NotStarted, Running, Succeeded, Failed).
 */
export const onboardingOperationSchema = z.object({
  tenantId: z.string(),
  operationId: z.string(),
  /** Canonical hash of the request body: a retried PUT with the same body gets the same operation. */
  requestHash: z.string(),
  /** The validated TenantRequest, replayed by the worker. */
  request: z.record(z.string(), z.unknown()),
  status: z.enum(['NotStarted', 'Running', 'Succeeded', 'Failed']),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** What the worker is doing or waiting for. */
  progress: z.string().optional(),
  attempts: z.number().int().default(0),
  result: z.object({ hubs: z.array(hubAssignmentSchema), changed: z.boolean(), appSettings: z.string() }).optional(),
  error: z.object({ kind: z.string(), message: z.string() }).optional(),
  etag: z.string().optional(),
});
export type OnboardingOperation = z.infer<typeof onboardingOperationSchema>;
/**
 * A subscription discovery found to be the tenant's own (home tenant = the tenant, docs/reconcile.md "Discovery"),
 * recorded at onboarding and by every reconcile. Ingest trusts records naming only these subscriptions.
 */
export const knownSubscriptionSchema = z.object({
  tenantId: z.string(),
  subscriptionId: z.string(),
  displayName: z.string(),
  discoveredAt: z.string(),
});
export type KnownSubscription = z.infer<typeof knownSubscriptionSchema>;

/** What ingest last saw per tenant/source/category (stream health compares it with expectations). */
export const lastSeenSchema = z.object({
  tenantId: z.string(),
  source: z.string(),
  category: z.string(),
  lastEventTime: z.string(),
  lastIngestTime: z.string(),
  count: z.number().int(),
});
export type LastSeen = z.infer<typeof lastSeenSchema>;

/**
 * When ingest last got a batch of one hub partition through (written at most every few minutes per partition;
 * see ingest/partitionProgress.ts). Stream health compares it with the partition's last enqueued event to flag a
 * partition whose deliveries keep failing (its checkpoint cannot advance while the host retries).
 */
export const partitionProgressSchema = z.object({
  tenantId: z.string(),
  namespace: z.string(),
  hub: z.string(),
  partitionId: z.string(),
  /** Last sequence number of the recorded batch, when the host gave sequence numbers. */
  sequenceNumber: z.number().int().optional(),
  /** Ingest time of the recorded batch (ISO). */
  at: z.string(),
});
export type PartitionProgress = z.infer<typeof partitionProgressSchema>;

/**
 * One ingest Function App of the fleet and the tenant hubs assigned to it (docs/fleet.md). `hubs` holds hub keys
 * (`<tenantId>/<region>`, hubKey in fleet/ingestPool.ts): the app's MDR_INGEST_BINDINGS is derived from exactly
 * this list, so a hub listed in two apps (a move in progress) is read by both. Optimistic concurrency by etag.
 */
export const ingestAppRecordSchema = z.object({
  /** Site name, lower-case (unique: Function App names are global DNS names). */
  name: z.string(),
  /** ARM id of the site (its settings are written through it). */
  resourceId: z.string(),
  hubs: z.array(z.string()),
  /** `draining`: no longer in MDR_INGEST_APPS; keeps its hubs until they are moved (`azure-mdr rebalance --drain`). */
  state: z.enum(['active', 'draining']),
  etag: z.string().optional(),
});
export type IngestAppRecord = z.infer<typeof ingestAppRecordSchema>;
