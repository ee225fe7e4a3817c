import type { InvocationContext } from '@azure/functions';
import type { OcsfEvent } from '../ingest/types.js';
import { contextLogger } from '../observability/contextLogger.js';
import type { SignalSink } from './signalSink.js';

/**
 * The ingest handler's `onEvents`: change signals of a batch → the tenant's pending item. It never fails the batch:
 * telemetry is the primary job and is already written, and the reconcile timer stays the backstop, so a Table or
 * Queue outage costs event-driven latency, not data (logged as `eventDriven.signalsFailed`).
 */
export function createIngestChangeHook(deps: { tenantId: string; sink: SignalSink; self: ReadonlySet<string>; automationResourceGroup: string; prefix?: string }) {
  return async (events: readonly OcsfEvent[], subscriptionIds: readonly string[], context: InvocationContext, arrival?: { from: number; to: number }): Promise<void> => {
    try {
      const r = await deps.sink(deps.tenantId, events, { knownSubscriptions: new Set(subscriptionIds.map((s) => s.toLowerCase())), self: deps.self, automationResourceGroup: deps.automationResourceGroup, prefix: deps.prefix, arrival });
      if (r.signals > 0) contextLogger(context, { tenantId: deps.tenantId }).info('eventDriven.signals', { signals: r.signals, taken: r.taken, duplicates: r.duplicates, newItem: r.send?.itemId });
    } catch (e) {
      contextLogger(context, { tenantId: deps.tenantId }).error('eventDriven.signalsFailed', { error: e instanceof Error ? e.message : String(e) });
    }
  };
}
