import { output, trigger, type EventHubFunctionOptions } from '@azure/functions';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { AppServices } from '../app/appServices.js';
import type { Logger } from '../log.js';
import { ingestTriggers } from '../onboarding/ingestTriggers.js';
import { createIngestHandler } from './ingestHandler.js';
import { createPartitionProgressRecorder } from './partitionProgress.js';
import { lazyOnce } from '../lazy.js';
import { blobServiceClientFor } from '../storage/storageClients.js';
import { eventDrivenStores, ingestChangeHook } from '../eventDriven/eventDrivenServices.js';
import { knownSubscriptionIds } from '../reconcile/knownSubscriptions.js';

/** How long a tenant's known subscription list (recorded by discovery) is reused before re-reading it. */
const SUBSCRIPTIONS_TTL_MS = 5 * 60_000;

const BINARY = { dataType: 'binary' } as Record<string, unknown>;

/**
 * No-loss policy: a failed delivery (an output write failed) is retried until it succeeds, with exponential backoff
 * from 10 s up to 15 min. `-1` means retry indefinitely; the Event Hubs checkpoint is not written until the retry
 * policy completes, and after a last failed retry the host checkpoints past the batch anyway (Microsoft docs:
 * azure-functions/functions-bindings-error-pages.md "Retry policies" and functions-reliable-event-processing.md).
 * A finite budget therefore loses every record of a batch whose outage outlasts it. Decoding never throws (bad
 * records become dead letters), so only output failures reach the host; a stalled partition is logged
 * (ingest.partition_stalled) and shows in stream health.
 */
export const INGEST_RETRY = { strategy: 'exponentialBackoff', maxRetryCount: -1, minimumInterval: { seconds: 10 }, maximumInterval: { minutes: 15 } } as const;

export interface IngestRegistration {
  functionName: string;
  options: EventHubFunctionOptions;
}

/**
 * One Event Hub trigger per (tenant, region) hub in MDR_INGEST_BINDINGS. Connections are identity-based
 * (`<connection>__fullyQualifiedNamespace`); a binding whose connection setting is missing is skipped
 * with a warning rather than failing every other trigger at host start.
 */
export function ingestRegistrations(services: AppServices, env: Record<string, string | undefined>, log: Logger): IngestRegistration[] {
  const { settings, registry, storage } = services;
  const specs = ingestTriggers(settings, env, (functionName, setting) =>
    log.warn('ingest.binding_skipped', { functionName, reason: `app setting ${setting} is missing` }),
  );
  const downstream =
    settings.ingest.outputMode === 'blob'
      ? undefined
      : output.eventHub({ eventHubName: settings.ingest.downstreamEventHub, connection: settings.ingest.downstreamConnection });

  // Dead letters always go to blob, whatever the output mode.
  // The SDK is loaded on the first batch, not at cold start.
  const blobServiceClient = lazyOnce((): Promise<BlobServiceClient> => blobServiceClientFor(storage));

  // Event-driven coverage: change signals of each batch → targeted reconcile items (src/lib/eventDriven).
  const stores = settings.eventDriven.enabled ? eventDrivenStores(services) : undefined;

  const subscriptionCache = new Map<string, { at: number; ids: string[] }>();
  const subscriptionIds = async (tenantId: string): Promise<string[]> => {
    const hit = subscriptionCache.get(tenantId);
    if (hit && Date.now() - hit.at < SUBSCRIPTIONS_TTL_MS) return hit.ids;
    const ids = await knownSubscriptionIds(registry, tenantId);
    subscriptionCache.set(tenantId, { at: Date.now(), ids });
    return ids;
  };

  const recordProgress = createPartitionProgressRecorder((rows) => registry.recordPartitionProgress(rows));

  return specs.map((spec) => {
    const { binding } = spec;
    const handler = createIngestHandler({
      binding,
      outputMode: settings.ingest.outputMode,
      blobServiceClient,
      eventsContainer: settings.ingest.outputContainer,
      deadLetterContainer: settings.ingest.deadLetterContainer,
      compression: settings.ingest.compression,
      unmapped: settings.ingest.unmapped,
      eventHubOutput: downstream,
      subscriptionIds,
      onEvents: ingestChangeHook(services, stores, binding.tenantId),
      onBatch: async (result) => {
        const now = new Date().toISOString();
        await registry.recordLastSeen(
          result.lastSeen.map((s) => ({ ...s, tenantId: s.tenantId ?? binding.tenantId, lastEventTime: Number.isFinite(s.lastEventTime) ? new Date(s.lastEventTime).toISOString() : now, lastIngestTime: now })),
        );
        await recordProgress(binding, result);
      },
    });
    const triggerOptions = { connection: spec.connection, eventHubName: spec.eventHubName, consumerGroup: spec.consumerGroup, cardinality: 'many' as const };
    return {
      functionName: spec.functionName,
      options: {
        ...triggerOptions,
        // Binary: the host sends each message's bytes (RPC collectionBytes, one Buffer each) instead of strings that
        // the library JSON-parses, so raw_data and dead letters keep the exact bytes, and an empty message keeps its
        // place next to its metadata (the host drops empty strings from a string collection for this worker).
        // EventHubTriggerOptions has no dataType: the trigger object carries it into the binding metadata.
        trigger: trigger.eventHub({ ...triggerOptions, ...BINARY }),
        retry: INGEST_RETRY,
        extraOutputs: downstream ? [downstream] : [],
        handler: (messages, context) => handler(Array.isArray(messages) ? messages : [messages], context),
      },
    };
  });
}
