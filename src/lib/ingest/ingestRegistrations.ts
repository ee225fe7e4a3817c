import { output, type EventHubFunctionOptions } from '@azure/functions';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { AppServices } from '../app/appServices.js';
import type { Logger } from '../log.js';
import { ingestTriggers } from '../onboarding/ingestTriggers.js';
import { createIngestHandler } from './ingestHandler.js';
import { lazyOnce } from '../lazy.js';
import { eventDrivenStores, ingestChangeHook } from '../eventDriven/eventDrivenServices.js';
import { knownSubscriptionIds } from '../reconcile/knownSubscriptions.js';

/** How long a tenant's known subscription list (recorded by discovery) is reused before re-reading it. */
const SUBSCRIPTIONS_TTL_MS = 5 * 60_000;

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
  const blobServiceClient = lazyOnce(async (): Promise<BlobServiceClient> => {
    const { BlobServiceClient } = await import('@azure/storage-blob');
    return storage.kind === 'connectionString' ? BlobServiceClient.fromConnectionString(storage.connectionString) : new BlobServiceClient(storage.url('blob'), storage.credential);
  });

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

  return specs.map((spec) => {
    const { binding } = spec;
    const handler = createIngestHandler({
      binding,
      outputMode: settings.ingest.outputMode,
      blobServiceClient,
      eventsContainer: settings.ingest.outputContainer,
      deadLetterContainer: settings.ingest.deadLetterContainer,
      eventHubOutput: downstream,
      subscriptionIds,
      onEvents: ingestChangeHook(services, stores, binding.tenantId),
      onBatch: async (result) => {
        const now = new Date().toISOString();
        await registry.recordLastSeen(
          result.lastSeen.map((s) => ({ ...s, tenantId: s.tenantId ?? binding.tenantId, lastEventTime: Number.isFinite(s.lastEventTime) ? new Date(s.lastEventTime).toISOString() : now, lastIngestTime: now })),
        );
      },
    });
    return {
      functionName: spec.functionName,
      options: {
        connection: spec.connection,
        eventHubName: spec.eventHubName,
        consumerGroup: spec.consumerGroup,
        cardinality: 'many',
        // Output failures throw; the host redelivers the batch with backoff instead of checkpointing it.
        retry: { strategy: 'exponentialBackoff', maxRetryCount: 8, minimumInterval: { seconds: 10 }, maximumInterval: { minutes: 15 } },
        extraOutputs: downstream ? [downstream] : [],
        handler: (messages, context) => handler(Array.isArray(messages) ? messages : [messages], context),
      },
    };
  });
}
