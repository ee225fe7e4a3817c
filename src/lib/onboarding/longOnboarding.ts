import { createHash } from 'node:crypto';
import type { InvocationContext } from '@azure/functions';
import { z } from 'zod';
import type { Settings } from '../config/settings.js';
import { ConnectorError, ensureError, isConflict } from '../errors.js';
import { silentLogger } from '../log.js';
import { contextLogger } from '../observability/contextLogger.js';
import type { TenantRegistry } from '../registry/tenantRegistry.js';
import { offboardingBegan, type OnboardingOperation } from '../registry/types.js';
import { queueClientFor, type StorageTarget } from '../storage/storageClients.js';
import type { AzureClients } from '../azure/clientFactory.js';
import { assertIngestRoom } from '../fleet/ingestPool.js';
import { choosePoolSlot, namespaceResourceId, nextNamespaceName, readPoolNamespace } from './namespacePool.js';
import { canonical, onboardTenant, type OnboardingDeps } from './onboardTenant.js';
import { tenantRequestSchema, type TenantRequest } from './tenantRequest.js';
import { guidFromText } from '../guid.js';

/**
 * Onboardings that outlast the HTTP request. Azure's front end drops an HTTP-triggered function's response after
 * 230 seconds whatever functionTimeout says (MicrosoftDocs/azure-docs includes/functions-timeout-duration.md), and
 * a new Event Hubs namespace can take minutes. So when the pool must grow (or a namespace the tenant needs is still
 * being created), `PUT /api/tenants/{id}` records an operation in the registry, queues it and answers 202 with
 * the operation's URL (Location, Operation-Location, Retry-After: the async pattern of the Azure REST API
 * guidelines); the queue function `onboarding-continue` runs the same onboardTenant; `GET …/operations/{id}`
 * reports NotStarted, Running, Succeeded (with the hubs) or Failed (with the problem).
 */

export const onboardingWorkItemSchema = z.object({ tenantId: z.string().uuid(), operationId: z.string().regex(/^[0-9a-f-]{36}$/) }).strict();
export type OnboardingWorkItem = z.infer<typeof onboardingWorkItemSchema>;

/** Where onboarding work items go: the `MDR_ONBOARDING_QUEUE` storage queue in the app, a list in tests. */
export interface OnboardingQueue {
  send(item: OnboardingWorkItem): Promise<void>;
}

/** The storage queue the `onboarding-continue` function reads. The Functions queue extension expects base64 text
 * by default (host.json extensions.queues.messageEncoding, default base64). */
export function storageOnboardingQueue(storage: StorageTarget, queueName: string): OnboardingQueue {
  let client: Promise<import('@azure/storage-queue').QueueClient> | undefined;
  const get = () =>
    (client ??= queueClientFor(storage, queueName).then(async (q) => {
      await q.createIfNotExists();
      return q;
    }));
  return {
    async send(item) {
      const q = await get();
      await q.sendMessage(Buffer.from(JSON.stringify(item), 'utf8').toString('base64'));
    },
  };
}

const requestHash = (request: TenantRequest) => createHash('sha256').update(JSON.stringify(canonical(request))).digest('hex');

/** A deterministic id per (tenant, n-th operation): two identical PUTs racing create the same row, one wins. */
function operationIdFor(tenantId: string, n: number): string {
  return guidFromText(`${tenantId}|${n}`);
}

const isActive = (o: OnboardingOperation) => o.status === 'NotStarted' || o.status === 'Running';

/**
 * Check before any write (reads only): will provisioning outlast the request? True when a region the tenant needs
 * has no ready namespace with a slot for it (the pool must grow: a namespace create takes minutes) or its slot is in
 * a namespace still being created. A namespace the pool would create that already exists in ARM and is ours (the
 * one infra/main.bicep deploys per region) is adopted within the request when it is provisioned, so only one still
 * provisioning makes the onboarding long; one that is not ours fails within the request (namespacePool.ts).
 */
export async function needsLongOnboarding(deps: { settings: Pick<Settings, 'pool' | 'provider'>; registry: TenantRegistry; clients: AzureClients }, tenantId: string, request: TenantRequest): Promise<boolean> {
  const current = await deps.registry.getTenant(tenantId);
  const regions = request.regions ?? current?.regions ?? deps.settings.pool.regions;
  const namespaces = await deps.registry.listNamespaces();
  for (const region of regions) {
    const d = choosePoolSlot(namespaces, tenantId, region, deps.settings.pool, (n) => namespaceResourceId(deps.settings, n));
    if ((d.kind === 'use' || d.kind === 'already') && d.namespace.state !== 'ready') return true;
    if (d.kind === 'grow' || d.kind === 'full') {
      const found = await readPoolNamespace(deps, region, nextNamespaceName(namespaces, region, deps.settings.pool.namePrefix));
      if (found.kind === 'ours' && found.record.state !== 'ready') return true;
      if (found.kind === 'absent' && d.kind === 'grow') return true;
    }
  }
  return false;
}

/**
 * The operation for this PUT: the tenant's active one when the body is the same (a retry), a new one otherwise.
 * A different body while one is active is a conflict (the client waits for it or polls it). Returns whether the
 * work item must be (re)queued: a NotStarted operation is queued again on every retry, the worker ignores repeats.
 */
export async function startOnboardingOperation(
  deps: { registry: TenantRegistry; now?: () => Date },
  tenantId: string,
  request: TenantRequest,
): Promise<OnboardingOperation> {
  const hash = requestHash(request);
  const now = (deps.now ?? (() => new Date()))().toISOString();
  for (let attempt = 0; attempt < 5; attempt++) {
    const ops = await deps.registry.listOperations(tenantId);
    const active = ops.find(isActive);
    if (active) {
      if (active.requestHash === hash) return active;
      throw new ConnectorError('conflict', `Onboarding operation ${active.operationId} of tenant ${tenantId} is still ${active.status} with a different request; poll it until it ends, then send this one again`);
    }
    try {
      return await deps.registry.putOperation({ tenantId, operationId: operationIdFor(tenantId, ops.length), requestHash: hash, request: request as Record<string, unknown>, status: 'NotStarted', createdAt: now, updatedAt: now, attempts: 0 });
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
  }
  throw new ConnectorError('transient', `Could not record the onboarding operation of ${tenantId} (contention); retry the request`);
}

/**
 * The PUT's long path: when the tenant has an operation under way, or provisioning will outlast the request, the
 * (existing or new) operation, queued; undefined when the onboarding can run within the request.
 */
export async function beginLongOnboarding(
  deps: { settings: Pick<Settings, 'pool' | 'provider' | 'fleet'>; registry: TenantRegistry; clients: AzureClients; onboardingQueue: OnboardingQueue; now?: () => Date },
  tenantId: string,
  request: TenantRequest,
): Promise<OnboardingOperation | undefined> {
  const underWay = (await deps.registry.listOperations(tenantId)).some(isActive);
  // A full ingest fleet is a capacity error now (503), not a 202 whose operation fails minutes later.
  if (!underWay) await assertIngestRoom(deps, tenantId, request.regions ?? (await deps.registry.getTenant(tenantId))?.regions ?? deps.settings.pool.regions);
  if (!underWay && !(await needsLongOnboarding(deps, tenantId, request))) return undefined;
  const op = await startOnboardingOperation(deps, tenantId, request);
  // Queued again on every retry while it has not started: a lost message cannot strand it; the worker ignores repeats.
  if (op.status === 'NotStarted') await deps.onboardingQueue.send({ tenantId, operationId: op.operationId });
  return op;
}

/** The operation as `GET /api/tenants/{id}/operations/{operationId}` shows it (no etag, no stored request). */
export function publicOperation(op: OnboardingOperation): Record<string, unknown> {
  const { etag: _e, request: _r, requestHash: _h, ...rest } = op;
  return { id: op.operationId, ...rest };
}

export const operationPath = (tenantId: string, operationId: string) => `/api/tenants/${tenantId}/operations/${operationId}`;

/** Replaces the stored operation with `patch` applied, re-reading on an etag conflict. */
async function update(registry: TenantRegistry, op: OnboardingOperation, patch: (o: OnboardingOperation) => Partial<OnboardingOperation>): Promise<OnboardingOperation> {
  let current = op;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await registry.putOperation({ ...current, ...patch(current), updatedAt: new Date().toISOString() });
    } catch (e) {
      if (!isConflict(e)) throw e;
      const fresh = (await registry.listOperations(op.tenantId)).find((o) => o.operationId === op.operationId);
      if (!fresh) throw e;
      current = fresh;
    }
  }
  throw new ConnectorError('transient', `could not update onboarding operation ${op.operationId} (contention)`);
}

const OFFBOARDED_MEANWHILE = 'canceled: the tenant was offboarded (DELETE) after this operation was accepted; PUT again to onboard it';

/**
 * Offboarding's part: every operation of the tenant that has not finished becomes Failed (kind 'conflict'), so a
 * queued onboarding accepted before the DELETE cannot bring the tenant back once it is offboarded. Returns their ids.
 */
export async function cancelOnboardingOperations(registry: TenantRegistry, tenantId: string): Promise<string[]> {
  const canceled: string[] = [];
  for (const op of (await registry.listOperations(tenantId)).filter(isActive)) {
    const done = await update(registry, op, (o) => (isActive(o) ? { status: 'Failed', progress: 'canceled', error: { kind: 'conflict', message: OFFBOARDED_MEANWHILE } } : {}));
    if (done.status === 'Failed') canceled.push(op.operationId);
  }
  return canceled;
}

/**
 * The queue worker: runs the operation's onboarding to its end and records the outcome. A repeated message for a
 * finished operation does nothing. A transient failure is rethrown while the host still retries (the operation
 * stays Running and says why), and recorded as Failed on the last delivery; anything else fails the operation.
 */
export async function runOnboardingOperation(deps: OnboardingDeps, message: unknown, delivery: { dequeueCount: number; maxDequeueCount: number }): Promise<OnboardingOperation | undefined> {
  const log = deps.logger ?? silentLogger;
  const item = onboardingWorkItemSchema.parse(typeof message === 'string' ? JSON.parse(message) : message);
  const op = (await deps.registry.listOperations(item.tenantId)).find((o) => o.operationId === item.operationId);
  if (!op) throw new ConnectorError('permanent', `onboarding operation ${item.operationId} of tenant ${item.tenantId} does not exist`);
  if (!isActive(op)) return op;
  // Accepted before an offboarding began: the DELETE is the newer intent. The offboarding cancels such operations
  // itself; this covers one recorded while it was listing them. A PUT accepted after the DELETE began is the newer
  // intent and re-onboards, whether the offboarding has finished by now or not.
  const tenant = await deps.registry.getTenant(op.tenantId);
  const offboardingFrom = tenant?.offboardingStartedAt ?? tenant?.updatedAt;
  if (tenant && offboardingBegan(tenant.status) && offboardingFrom !== undefined && op.createdAt <= offboardingFrom) {
    log.warn('onboarding.operation_canceled', { tenantId: op.tenantId, operationId: op.operationId, tenantStatus: tenant.status });
    return update(deps.registry, op, () => ({ status: 'Failed', progress: 'canceled', error: { kind: 'conflict', message: OFFBOARDED_MEANWHILE } }));
  }
  const running = await update(deps.registry, op, (o) => ({ status: 'Running', attempts: o.attempts + 1, progress: 'provisioning the tenant hubs (a new pool namespace takes minutes)' }));
  try {
    const request = tenantRequestSchema.parse(running.request);
    const r = await onboardTenant({ ...deps, logger: log.child({ tenantId: op.tenantId, operationId: op.operationId }) }, op.tenantId, request);
    const done = await update(deps.registry, running, () => ({ status: 'Succeeded', progress: 'done', result: { hubs: r.hubs, changed: r.changed, appSettings: r.appSettings?.status ?? 'unchanged' } }));
    log.info('onboarding.operation_succeeded', { tenantId: op.tenantId, operationId: op.operationId, hubs: r.hubs.length });
    return done;
  } catch (e) {
    const err = ensureError(e);
    const kind = e instanceof ConnectorError ? e.kind : 'internal';
    if (kind === 'transient' && delivery.dequeueCount < delivery.maxDequeueCount) {
      await update(deps.registry, running, () => ({ progress: `retrying after: ${err.message}` }));
      throw err;
    }
    log.error('onboarding.operation_failed', { tenantId: op.tenantId, operationId: op.operationId, kind, error: err.message });
    return update(deps.registry, running, () => ({ status: 'Failed', progress: 'failed', error: { kind, message: kind === 'internal' ? 'unexpected error; see the app log' : err.message } }));
  }
}

/** Queue trigger `onboarding-continue` (src/functions/onboardingQueue.ts). maxDequeueCount matches host.json. */
export function createOnboardingQueueHandler(deps: OnboardingDeps, maxDequeueCount = 5) {
  return async (message: unknown, ctx: InvocationContext): Promise<void> => {
    const dequeueCount = Number(ctx.triggerMetadata?.dequeueCount ?? 1);
    await runOnboardingOperation({ ...deps, logger: deps.logger ?? contextLogger(ctx) }, message, { dequeueCount, maxDequeueCount });
  };
}

