import { z } from 'zod';
import type { AzureClients } from '../azure/clientFactory.js';
import { ValidationError } from '../errors.js';
import type { TenantRecord } from '../registry/types.js';
import { silentLogger } from '../log.js';
import { reconcileTenant, type ReconcileDeps, type ReconcileReport } from './reconcileTenant.js';
import { targetedWorkSchema } from '../eventDriven/signalSink.js';
import { runTargetedWorkItem, type TargetedRunExtras } from '../eventDriven/targetedRun.js';

/**
 * A reconcile queue message: one tenant, optionally narrowed to some of its subscriptions (large tenants), or a
 * targeted item of event-driven coverage (src/lib/eventDriven: the targets that activity-log changes named).
 */
export const reconcileWorkItemSchema = z
  .object({
    tenantId: z.string().regex(/^[0-9a-fA-F-]{36}$/, 'tenantId must be a tenant GUID'),
    subscriptionIds: z.array(z.string().regex(/^[0-9a-fA-F-]{36}$/, 'each subscriptionId must be a subscription GUID')).min(1).optional(),
    dryRun: z.boolean().optional(),
    targeted: targetedWorkSchema.optional(),
  })
  .strict()
  .refine((m) => !(m.targeted && (m.subscriptionIds || m.dryRun)), { message: 'a targeted item carries its own scope: no subscriptionIds or dryRun', path: ['targeted'] });
export type ReconcileWorkItem = z.infer<typeof reconcileWorkItemSchema>;

/**
 * Tenants → work items (pure). Tenants with more than `split` subscriptions get one item per batch of `split`
 * subscriptions so one queue message stays well inside the function timeout; others get one whole-tenant item.
 */
export function planWorkItems(tenants: readonly TenantRecord[], subscriptionsByTenant: ReadonlyMap<string, readonly string[]>, split: number): ReconcileWorkItem[] {
  const out: ReconcileWorkItem[] = [];
  for (const t of tenants) {
    if (t.status !== 'active') continue;
    const subs = [...(subscriptionsByTenant.get(t.tenantId.toLowerCase()) ?? [])].sort();
    if (subs.length <= split) {
      out.push({ tenantId: t.tenantId });
      continue;
    }
    for (let i = 0; i < subs.length; i += split) out.push({ tenantId: t.tenantId, subscriptionIds: subs.slice(i, i + split) });
  }
  return out;
}

/** Timer body: one subscriptions.list for all tenants (the delegation shows each sub's home tenant), then planWorkItems. */
export async function buildFanOut(deps: { registry: { listTenants(): Promise<TenantRecord[]> }; clients: AzureClients; split: number }): Promise<ReconcileWorkItem[]> {
  const tenants = await deps.registry.listTenants();
  const bySub = new Map<string, string[]>();
  const client = await deps.clients.subscriptions();
  for await (const s of client.subscriptions.list()) {
    const state = (s.state ?? '').toLowerCase();
    if (!s.subscriptionId || !s.tenantId || state === 'disabled' || state === 'deleted') continue;
    const k = s.tenantId.toLowerCase();
    bySub.set(k, [...(bySub.get(k) ?? []), s.subscriptionId.toLowerCase()]);
  }
  return planWorkItems(tenants, bySub, deps.split);
}

/** Parses a queue message (object or JSON/base64-JSON string); invalid → ValidationError naming the problem (lands in poison). */
export function parseWorkItem(message: unknown): ReconcileWorkItem {
  let value = message;
  if (typeof message === 'string') {
    const text = message.trim().startsWith('{') ? message : Buffer.from(message, 'base64').toString('utf8');
    try {
      value = JSON.parse(text);
    } catch {
      throw new ValidationError(`reconcile work item is not JSON: ${message.slice(0, 80)}`);
    }
  }
  const r = reconcileWorkItemSchema.safeParse(value);
  if (!r.success) {
    const problems = r.error.issues.map((i) => ({ field: i.path.join('.') || '(message)', message: i.message }));
    throw new ValidationError(`invalid reconcile work item: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, problems);
  }
  return r.data;
}

/**
 * Queue-trigger body: validate → reconcile one tenant (or some of its subscriptions). An unknown or
 * offboarded tenant ends quietly (nothing to do); a transient error propagates so the host retries and,
 * after maxDequeueCount, moves the message to `<queue>-poison`; per-target failures are in the report.
 */
export async function handleReconcileWorkItem(message: unknown, deps: ReconcileDeps & TargetedRunExtras): Promise<ReconcileReport | undefined> {
  const item = parseWorkItem(message);
  const log = (deps.logger ?? silentLogger).child({ tenantId: item.tenantId });
  const tenant = await deps.registry.getTenant(item.tenantId);
  if (!tenant || tenant.status !== 'active') {
    log.warn('reconcile.skipped', { reason: tenant ? `tenant is ${tenant.status}` : 'tenant not registered' });
    return undefined;
  }
  if (item.targeted) return (await runTargetedWorkItem(tenant, item.targeted, { ...deps, logger: log })).report;
  return reconcileTenant(tenant, deps, { subscriptionIds: item.subscriptionIds, dryRun: item.dryRun });
}
