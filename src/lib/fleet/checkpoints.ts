import type { ContainerClient } from '@azure/storage-blob';

/**
 * Where the Functions Event Hubs extension keeps its place in each partition (docs/fleet.md "Moving a hub").
 *
 * - The container is `azure-webjobs-eventhub` in the account of AzureWebJobsStorage: EventHubOptions.CheckpointContainer
 *   and EventHubClientFactory.GetCheckpointStoreClient (Azure/azure-sdk-for-net,
 *   sdk/eventhub/Microsoft.Azure.WebJobs.Extensions.EventHubs/src/Config/).
 * - A checkpoint is an empty blob `<fully qualified namespace>/<event hub>/<consumer group>/checkpoint/<partition id>`,
 *   the first three lower-cased, whose metadata `sequencenumber` and `offset` say where to resume; partition
 *   ownership (load balancing) is `…/ownership/<partition id>` with metadata `ownerid` (BlobCheckpointStoreInternal
 *   and BlobMetadataKey, sdk/eventhub/Azure.Messaging.EventHubs.Shared/src/BlobCheckpointStore/).
 *
 * Neither name contains the Function App or the function: every app whose AzureWebJobsStorage is the same account
 * reads the same checkpoints and competes for the same ownership blobs. That is what lets a hub move between ingest
 * apps without losing its place, and why two apps reading one hub during a move share its partitions instead of
 * each reading everything.
 */
export const CHECKPOINT_CONTAINER = 'azure-webjobs-eventhub';

const prefixOf = (fullyQualifiedNamespace: string, eventHub: string, consumerGroup: string) =>
  `${fullyQualifiedNamespace.toLowerCase()}/${eventHub.toLowerCase()}/${consumerGroup.toLowerCase()}`;

export function checkpointBlobName(fullyQualifiedNamespace: string, eventHub: string, consumerGroup: string, partitionId: string): string {
  return `${prefixOf(fullyQualifiedNamespace, eventHub, consumerGroup)}/checkpoint/${partitionId}`;
}

export function ownershipBlobName(fullyQualifiedNamespace: string, eventHub: string, consumerGroup: string, partitionId: string): string {
  return `${prefixOf(fullyQualifiedNamespace, eventHub, consumerGroup)}/ownership/${partitionId}`;
}

export interface PartitionCheckpoint {
  partitionId: string;
  /** Resume after this event (undefined: the extension falls back to the offset, or to its initial position). */
  sequenceNumber: number | undefined;
  offset: string | undefined;
}

/** The checkpoints of one hub and consumer group, read as the extension reads them (by partition, sorted). */
export async function readCheckpoints(container: ContainerClient, fullyQualifiedNamespace: string, eventHub: string, consumerGroup: string): Promise<PartitionCheckpoint[]> {
  const prefix = `${prefixOf(fullyQualifiedNamespace, eventHub, consumerGroup)}/checkpoint/`;
  const out: PartitionCheckpoint[] = [];
  for await (const b of container.listBlobsFlat({ prefix, includeMetadata: true })) {
    const seq = b.metadata?.sequencenumber;
    const n = seq === undefined || seq === '' ? undefined : Number(seq);
    out.push({ partitionId: b.name.slice(prefix.length), sequenceNumber: n !== undefined && Number.isFinite(n) ? n : undefined, offset: b.metadata?.offset || undefined });
  }
  return out.sort((a, b) => a.partitionId.localeCompare(b.partitionId, 'en', { numeric: true }));
}
