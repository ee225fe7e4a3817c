import type { HubRuntime, PartitionInfoSource } from './partitionInfo.js';

/**
 * In-memory PartitionInfoSource for tests and the sandbox: `set` a hub's runtime, `fail` a hub to make
 * reads throw (an unreachable namespace). Unknown hubs throw like the real service (entity not found).
 */
export interface MemoryPartitionInfo extends PartitionInfoSource {
  set(namespaceFqdn: string, hub: string, runtime: HubRuntime): void;
  fail(namespaceFqdn: string, hub: string, error: Error): void;
  /** Every getHubRuntime call, in order. */
  readonly calls: { namespaceFqdn: string; hub: string }[];
}

export function createMemoryPartitionInfo(): MemoryPartitionInfo {
  const hubs = new Map<string, HubRuntime | Error>();
  const key = (ns: string, hub: string) => `${ns.toLowerCase()}/${hub.toLowerCase()}`;
  const calls: { namespaceFqdn: string; hub: string }[] = [];
  return {
    calls,
    set(ns, hub, runtime) {
      hubs.set(key(ns, hub), structuredClone(runtime));
    },
    fail(ns, hub, error) {
      hubs.set(key(ns, hub), error);
    },
    async getHubRuntime(namespaceFqdn, hub) {
      calls.push({ namespaceFqdn, hub });
      const v = hubs.get(key(namespaceFqdn, hub));
      if (v === undefined) throw new Error(`The messaging entity '${namespaceFqdn}/${hub}' could not be found.`);
      if (v instanceof Error) throw v;
      return structuredClone(v);
    },
  };
}
