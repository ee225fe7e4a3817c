/**
 * Port for Event Hub runtime information (last enqueued sequence/time per partition). Production adapter:
 * eventHubsPartitionInfo.ts (@azure/event-hubs getPartitionProperties); tests: memoryPartitionInfo.ts.
 */
export interface PartitionRuntime {
  partitionId: string;
  lastEnqueuedSequenceNumber: number;
  /** Absent when the partition has never held an event. */
  lastEnqueuedOnUtc?: Date;
  isEmpty: boolean;
}

export interface HubRuntime {
  partitions: PartitionRuntime[];
}

export interface PartitionInfoSource {
  /** `namespaceFqdn` like `mdr-ingest-eastus-1.servicebus.windows.net`; `hub` is the event hub name. */
  getHubRuntime(namespaceFqdn: string, hub: string): Promise<HubRuntime>;
  /** Releases connections (the production adapter caches one client per hub). */
  close?(): Promise<void>;
}

/** Latest enqueue time over a hub's partitions, or undefined when every partition is empty. */
export function lastEnqueuedOf(runtime: HubRuntime): Date | undefined {
  let latest: Date | undefined;
  for (const p of runtime.partitions) {
    if (p.isEmpty || !p.lastEnqueuedOnUtc) continue;
    if (!latest || p.lastEnqueuedOnUtc > latest) latest = p.lastEnqueuedOnUtc;
  }
  return latest;
}
