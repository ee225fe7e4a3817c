import type { TokenCredential } from '@azure/identity';
import type { EventHubConsumerClient } from '@azure/event-hubs';
import type { HubRuntime, PartitionInfoSource } from './partitionInfo.js';

export interface EventHubsPartitionInfoOptions {
  /**
   * Identity-based access (the app's managed identity; needs Azure Event Hubs Data Receiver or Owner on the
   * namespace). Used when no connection string is given; DefaultAzureCredential when both are absent.
   */
  credential?: TokenCredential;
  managedIdentityClientId?: string;
  /** Entra authority host for DefaultAzureCredential (sovereign clouds). */
  authorityHost?: string;
  /** Namespace-level connection string (Listen or Manage); `EntityPath` in it is ignored in favour of `hub`. */
  connectionString?: string;
  /** Runtime info does not depend on the consumer group; `$Default` always exists. */
  consumerGroup?: string;
}

/**
 * Production PartitionInfoSource: `getPartitionIds` + `getPartitionProperties` over AMQP ($management).
 * A client is opened per call and closed afterwards: the health timer runs every few minutes, so holding
 * one AMQP connection per tenant hub between runs would only cost connections (Standard: 5,000/namespace).
 */
export function createEventHubsPartitionInfo(opts: EventHubsPartitionInfoOptions = {}): PartitionInfoSource {
  const consumerGroup = opts.consumerGroup ?? '$Default';
  let credential: Promise<TokenCredential> | undefined;
  const getCredential = () =>
    (credential ??= opts.credential
      ? Promise.resolve(opts.credential)
      : import('@azure/identity').then(({ DefaultAzureCredential }) => new DefaultAzureCredential({ authorityHost: opts.authorityHost, managedIdentityClientId: opts.managedIdentityClientId })));

  async function open(namespaceFqdn: string, hub: string): Promise<EventHubConsumerClient> {
    const { EventHubConsumerClient } = await import('@azure/event-hubs');
    const retryOptions = { maxRetries: 2, timeoutInMs: 30_000 };
    if (opts.connectionString) {
      const cs = opts.connectionString.replace(/;?EntityPath=[^;]*/i, '');
      return new EventHubConsumerClient(consumerGroup, cs, hub, { retryOptions });
    }
    return new EventHubConsumerClient(consumerGroup, namespaceFqdn, hub, await getCredential(), { retryOptions });
  }

  return {
    async getHubRuntime(namespaceFqdn, hub): Promise<HubRuntime> {
      const client = await open(namespaceFqdn, hub);
      try {
        const ids = await client.getPartitionIds();
        const props = await Promise.all(ids.map((id) => client.getPartitionProperties(id)));
        return {
          partitions: props.map((p) => ({
            partitionId: p.partitionId,
            lastEnqueuedSequenceNumber: p.lastEnqueuedSequenceNumber,
            // The service reports epoch 0 / an invalid date for a partition that never held an event.
            lastEnqueuedOnUtc: !p.isEmpty && p.lastEnqueuedOnUtc instanceof Date && p.lastEnqueuedOnUtc.getTime() > 0 ? p.lastEnqueuedOnUtc : undefined,
            isEmpty: p.isEmpty,
          })),
        };
      } finally {
        await client.close();
      }
    },
  };
}
