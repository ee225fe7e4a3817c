import type { InvocationContext, Timer } from '@azure/functions';
import { contextLogger } from '../observability/contextLogger.js';
import { checkPoisonQueues, type QueueDepthSource } from './poisonQueues.js';
import { runHealthCheck, type HealthDeps } from './runHealthCheck.js';

export interface HealthTimerDeps extends HealthDeps {
  /** The queues whose `<queue>-poison` the timer reads (reconcile, onboarding): poisonQueues.ts. */
  poison?: { source: QueueDepthSource; queues: readonly string[] };
}

/**
 * Timer handler factory for the stream-health function (schedule: settings.health.schedule). `deps` may be a
 * factory so the registration module can build clients lazily on first run; the handler's own logger comes
 * from the invocation context. A failure to list tenants throws (the host records the failed run); per-tenant
 * failures are logged and do not stop the others. The poison queues are read after the health run, whatever it found.
 */
export function createHealthTimerHandler(deps: HealthTimerDeps | (() => Promise<HealthTimerDeps>)) {
  return async (timer: Timer, ctx: InvocationContext): Promise<void> => {
    const d = typeof deps === 'function' ? await deps() : deps;
    const logger = contextLogger(ctx);
    if (timer.isPastDue) logger.warn('health.past_due', { last: timer.scheduleStatus?.last });
    try {
      await runHealthCheck({ ...d, logger });
    } finally {
      if (d.poison) await checkPoisonQueues(d.poison.source, d.poison.queues, logger);
    }
  };
}
