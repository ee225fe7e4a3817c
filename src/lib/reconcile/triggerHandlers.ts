import type { InvocationContext, StorageQueueOutput, Timer } from '@azure/functions';
import type { AppServices } from '../app/appServices.js';
import { ConnectorError } from '../errors.js';
import { contextLogger } from '../observability/contextLogger.js';
import { syncIngestAppSettings } from '../onboarding/appSettingsSync.js';
import { buildFanOut, handleReconcileWorkItem, parseWorkItem } from './fanOut.js';
import type { EnsureHub } from './reconcileTenant.js';
import type { TargetedRunExtras } from '../eventDriven/targetedRun.js';

/**
 * Timer: one queue message per tenant (or per batch of subscriptions of a large tenant). It also re-derives the
 * ingest bindings from the registry: two onboardings finishing together can each write app settings that miss
 * the other's hub, and this periodic sync heals that (one settings read when nothing changed).
 */
export function createFanOutTimerHandler(services: AppServices, queue: StorageQueueOutput) {
  return async (_timer: Timer, ctx: InvocationContext): Promise<void> => {
    const log = contextLogger(ctx);
    const started = Date.now();
    const items = await buildFanOut({ registry: services.registry, clients: services.clients, split: services.settings.reconcile.splitSubscriptions });
    ctx.extraOutputs.set(queue, items.map((i) => JSON.stringify(i)));
    log.info('reconcile.fanout', { workItems: items.length, tenants: new Set(items.map((i) => i.tenantId)).size, durationMs: Date.now() - started });
    try {
      const sync = await syncIngestAppSettings({ ...services, logger: log });
      if (sync.status === 'updated') log.warn('ingest.bindings_resynced', { bindings: sync.bindings, reason: 'app settings had drifted from the registry' });
    } catch (e) {
      // The fan-out above still goes out; the next timer run retries the sync.
      log.error('ingest.bindings_sync_failed', { error: e instanceof Error ? e.message : String(e) });
    }
  };
}

/**
 * Queue: reconcile one work item. Transient failures rethrow (the host retries, then moves the message to
 * `<queue>-poison`); an invalid message throws a validation error whose message is the poison reason.
 * Per-target failures (403 on one subscription, a 404 mid-run) are coverage states, not invocation failures.
 */
export function createReconcileQueueHandler(services: AppServices, ensureHub?: EnsureHub, eventDriven?: (ctx: InvocationContext) => TargetedRunExtras) {
  return async (message: unknown, ctx: InvocationContext): Promise<void> => {
    const log = contextLogger(ctx, { dequeueCount: ctx.triggerMetadata?.dequeueCount });
    const started = Date.now();
    try {
      const report = await handleReconcileWorkItem(message, { ...services, logger: log, ensureHub, ...eventDriven?.(ctx) });
      if (report) log.info('reconcile.done', { tenantId: report.tenantId, counts: report.counts, durationMs: Date.now() - started });
    } catch (e) {
      const kind = e instanceof ConnectorError ? e.kind : 'unknown';
      // The tenant, when the message names one: the "reconcile failing" alert counts failed runs per tenant.
      log.error('reconcile.failed', { tenantId: tenantIdOf(message), kind, error: e instanceof Error ? e.message : String(e), durationMs: Date.now() - started });
      throw e;
    }
  };
}

function tenantIdOf(message: unknown): string | undefined {
  try {
    return parseWorkItem(message).tenantId;
  } catch {
    return undefined;
  }
}
