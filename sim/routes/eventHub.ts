import { createHash, randomUUID } from 'node:crypto';
import type { Reply, RouteContext, Router } from '../http.js';
import { armError, badRequest, notFound, objectBody, paged, propsOf } from '../http.js';
import type { AsyncOperation, SimResource } from '../state.js';
import { addHub, addNamespace, rgId } from '../state.js';
import { wire } from './resources.js';

const HUBS_PER_NAMESPACE: Record<string, number> = { basic: 10, standard: 10, premium: 100, dedicated: 1000 };
const CONSUMER_GROUPS_PER_HUB: Record<string, number> = { basic: 1, standard: 20, premium: 100, dedicated: 1000 };
/**
 * Per-tier hub limits (Microsoft docs, Event Hubs quotas: articles/event-hubs/includes/event-hubs-tier-limits.md):
 * retention 1 / 7 / 90 / 90 days, partitions per hub 32 / 32 / 100 / 1024; Premium also caps a namespace at 200
 * partitions per processing unit. Kept apart from the app's own table (src/lib/config/eventHubTiers.ts) on purpose:
 * the simulator stands for Azure, so a wrong limit in the app shows up against it.
 */
const MAX_RETENTION_DAYS: Record<string, number> = { basic: 1, standard: 7, premium: 90, dedicated: 90 };
const PARTITIONS_PER_HUB: Record<string, number> = { basic: 32, standard: 32, premium: 100, dedicated: 1024 };
const PREMIUM_PARTITIONS_PER_PU = 200;
const tierName = (t: string) => `${t.charAt(0).toUpperCase()}${t.slice(1)}`;

/**
 * A hub PUT's partitions and retention against the namespace's tier. The wording follows the one Microsoft
 * documents for Basic ("The value '#' for MessageRetentionInDays isn't valid for the Basic tier. the value can't
 * exceed '1' day(s).", BadRequest 40000, articles/event-hubs/resource-manager-exceptions.md); the same sentence for
 * the other tiers, for retentionTimeInHours and for PartitionCount is our assumption (not documented).
 */
function hubTierError(ctx: RouteContext, ns: SimResource, props: Record<string, unknown>, existing: SimResource | undefined): Reply | undefined {
  const tier = tierOf(ns);
  const days = MAX_RETENTION_DAYS[tier] ?? 7;
  const bad = (field: string, value: unknown, limit: number, unit = '') =>
    badRequest('BadRequest', `The value '${String(value)}' for ${field} isn't valid for the ${tierName(tier)} tier. the value can't exceed '${limit}'${unit}. SubCode=40000.`);
  const retention = (props.retentionDescription ?? {}) as Record<string, unknown>;
  if (typeof retention.retentionTimeInHours === 'number' && retention.retentionTimeInHours > days * 24) return bad('RetentionTimeInHours', retention.retentionTimeInHours, days * 24, ' hour(s)');
  if (typeof props.messageRetentionInDays === 'number' && props.messageRetentionInDays > days) return bad('MessageRetentionInDays', props.messageRetentionInDays, days, ' day(s)');
  if (existing || typeof props.partitionCount !== 'number') return undefined;
  const maxPartitions = PARTITIONS_PER_HUB[tier] ?? 32;
  if (props.partitionCount > maxPartitions) return bad('PartitionCount', props.partitionCount, maxPartitions);
  if (tier === 'premium') {
    const budget = PREMIUM_PARTITIONS_PER_PU * (typeof ns.sku?.capacity === 'number' ? ns.sku.capacity : 1);
    const used = ctx.state.list(`${ns.id}/eventhubs`).reduce((n, h) => n + (typeof h.properties.partitionCount === 'number' ? h.properties.partitionCount : 0), 0);
    if (used + props.partitionCount > budget) return badRequest('QuotaExceeded', `Namespace '${ns.name}' would hold ${used + props.partitionCount} partitions; the Premium tier allows ${PREMIUM_PARTITIONS_PER_PU} per processing unit (${budget}).`);
  }
  return undefined;
}
export const MAX_AUTH_RULES = 12;

const NS = '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.EventHub/namespaces';
const tierOf = (ns: SimResource) => String(ns.sku?.tier ?? ns.sku?.name ?? 'Standard').toLowerCase();
const fakeKey = (id: string, which: string) => createHash('sha256').update(`${which}:${id.toLowerCase()}`).digest('base64');

function nsOr404(ctx: RouteContext): SimResource | Reply {
  const ns = ctx.state.get(`${rgId(ctx.params.sub ?? '', ctx.params.rg ?? '')}/providers/Microsoft.EventHub/namespaces/${ctx.params.ns ?? ''}`);
  return ns ?? notFound(`Microsoft.EventHub/namespaces/${ctx.params.ns}`);
}
const isReply = (x: SimResource | Reply): x is Reply => 'status' in x;

function rights(p: Record<string, unknown>): string[] | Reply {
  const r = p.rights;
  if (!Array.isArray(r) || r.length === 0 || !r.every((x) => x === 'Listen' || x === 'Send' || x === 'Manage'))
    return badRequest('InvalidRequestContent', "rights must be a non-empty array of 'Listen', 'Send', 'Manage'.");
  if (r.includes('Manage') && !(r.includes('Listen') && r.includes('Send'))) return badRequest('BadRequest', 'Manage right requires Listen and Send.');
  return r as string[];
}

/** Authorization rules at namespace or hub scope (`parent`), max 12 each. */
function registerRules(r: Router, parentTemplate: string, parentOf: (ctx: RouteContext) => SimResource | Reply, type: string, entityPath: (ctx: RouteContext) => string | undefined): void {
  const coll = `${parentTemplate}/authorizationRules`;
  r.on('GET', coll, (ctx) => {
    const p = parentOf(ctx);
    return isReply(p) ? p : paged(ctx, ctx.state.list(`${p.id}/authorizationRules`).map(wire));
  });
  r.on('GET', `${coll}/{rule}`, (ctx) => {
    const p = parentOf(ctx);
    if (isReply(p)) return p;
    const x = ctx.state.get(`${p.id}/authorizationRules/${ctx.params.rule}`);
    return x ? { status: 200, body: wire(x) } : notFound(`authorizationRules/${ctx.params.rule}`);
  });
  r.on('PUT', `${coll}/{rule}`, (ctx) => {
    const p = parentOf(ctx);
    if (isReply(p)) return p;
    const rg = rights(propsOf(objectBody(ctx)));
    if (!Array.isArray(rg)) return rg;
    const existing = ctx.state.get(`${p.id}/authorizationRules/${ctx.params.rule}`);
    if (!existing && ctx.state.list(`${p.id}/authorizationRules`).length >= MAX_AUTH_RULES)
      return badRequest('QuotaExceeded', `Cannot create more than ${MAX_AUTH_RULES} authorization rules on '${p.name}'.`);
    const name = existing?.name ?? ctx.params.rule ?? '';
    const x = ctx.state.put({ id: `${p.id}/authorizationRules/${name}`, name, type, subscriptionId: p.subscriptionId, resourceGroup: p.resourceGroup, location: p.location, properties: { rights: rg } });
    return { status: 200, body: wire(x) };
  });
  r.on('DELETE', `${coll}/{rule}`, (ctx) => {
    const p = parentOf(ctx);
    if (isReply(p)) return p;
    return { status: ctx.state.delete(`${p.id}/authorizationRules/${ctx.params.rule}`) ? 200 : 204 };
  });
  r.on('POST', `${coll}/{rule}/listKeys`, (ctx) => {
    const p = parentOf(ctx);
    if (isReply(p)) return p;
    const rule = ctx.state.get(`${p.id}/authorizationRules/${ctx.params.rule}`);
    if (!rule) return notFound(`authorizationRules/${ctx.params.rule}`);
    const nsName = /namespaces\/([^/]+)/i.exec(p.id)?.[1] ?? '';
    const entity = entityPath(ctx);
    const cs = (key: string) => `Endpoint=sb://${nsName}.servicebus.windows.net/;SharedAccessKeyName=${rule.name};SharedAccessKey=${key}${entity ? `;EntityPath=${entity}` : ''}`;
    const primaryKey = fakeKey(rule.id, 'primary');
    const secondaryKey = fakeKey(rule.id, 'secondary');
    return { status: 200, body: { keyName: rule.name, primaryKey, secondaryKey, primaryConnectionString: cs(primaryKey), secondaryConnectionString: cs(secondaryKey) } };
  });
}

export function registerEventHub(r: Router): void {
  r.on('GET', NS, (ctx) => paged(ctx, ctx.state.list(`${rgId(ctx.params.sub ?? '', ctx.params.rg ?? '')}/providers/Microsoft.EventHub/namespaces`).map(wire)));
  r.on('GET', `${NS}/{ns}`, (ctx) => {
    const ns = nsOr404(ctx);
    if (isReply(ns)) return ns;
    // A client that lost the LRO (e.g. a failed poll) and re-reads the namespace must still see it finish.
    for (const op of ctx.state.asyncOperations.values()) if (op.resourceId?.toLowerCase() === ns.id.toLowerCase()) advanceOperation(op);
    return { status: 200, body: wire(ns) };
  });
  r.on('PUT', `${NS}/{ns}`, (ctx) => {
    const { sub = '', rg = '', ns: name = '' } = ctx.params;
    if (!ctx.state.get(rgId(sub, rg))) return armError(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
    const body = objectBody(ctx);
    const existing = nsOr404(ctx);
    if (!isReply(existing)) {
      applyNamespaceBody(existing, body);
      return { status: 200, body: wire(existing) };
    }
    if (typeof body.location !== 'string') return badRequest('LocationRequired', 'The location property is required for this definition.');
    const sku = (body.sku ?? {}) as Record<string, unknown>;
    const skuName = typeof sku.name === 'string' ? sku.name : 'Standard';
    const ns = addNamespace(ctx.state, sub, rg, name, body.location, skuName, typeof sku.capacity === 'number' ? sku.capacity : 1, 'Creating');
    applyNamespaceBody(ns, body);
    // Long-running create: 201 + Azure-AsyncOperation; the op answers InProgress `asyncOperationPolls` times (mechanics §2c).
    const opId = randomUUID();
    ctx.state.asyncOperations.set(opId, { id: opId, remainingPolls: ctx.options.asyncOperationPolls, status: 'InProgress', resourceId: ns.id, onSucceeded: () => (ns.properties.provisioningState = 'Succeeded') });
    const opUrl = `${ctx.baseUrl}/subscriptions/${sub}/providers/Microsoft.EventHub/locations/${encodeURIComponent(body.location)}/operationStatus/${opId}?api-version=${encodeURIComponent(ctx.apiVersion)}`;
    return { status: 201, body: wire(ns), headers: { 'azure-asyncoperation': opUrl } };
  });
  r.on('DELETE', `${NS}/{ns}`, (ctx) => {
    const ns = nsOr404(ctx);
    if (isReply(ns)) return { status: 204 };
    ctx.state.delete(ns.id);
    return { status: 200 };
  });
  r.on('GET', '/subscriptions/{sub}/providers/Microsoft.EventHub/locations/{loc}/operationStatus/{op}', (ctx) => {
    const op = ctx.state.asyncOperations.get(ctx.params.op ?? '');
    if (!op) return notFound(`operationStatus/${ctx.params.op}`);
    advanceOperation(op);
    return { status: 200, body: { id: ctx.path, name: op.id, status: op.status, startTime: new Date().toISOString() } };
  });
  registerRules(r, `${NS}/{ns}`, nsOr404, 'Microsoft.EventHub/Namespaces/AuthorizationRules', () => undefined);

  const HUB = `${NS}/{ns}/eventhubs`;
  const hubOr404 = (ctx: RouteContext): SimResource | Reply => {
    const ns = nsOr404(ctx);
    if (isReply(ns)) return ns;
    return ctx.state.get(`${ns.id}/eventhubs/${ctx.params.hub}`) ?? notFound(`eventhubs/${ctx.params.hub}`);
  };
  r.on('GET', HUB, (ctx) => {
    const ns = nsOr404(ctx);
    return isReply(ns) ? ns : paged(ctx, ctx.state.list(`${ns.id}/eventhubs`).map(wire));
  });
  r.on('GET', `${HUB}/{hub}`, (ctx) => {
    const h = hubOr404(ctx);
    return isReply(h) ? h : { status: 200, body: wire(h) };
  });
  r.on('PUT', `${HUB}/{hub}`, (ctx) => {
    const ns = nsOr404(ctx);
    if (isReply(ns)) return ns;
    const existing = ctx.state.get(`${ns.id}/eventhubs/${ctx.params.hub}`);
    const props = propsOf(objectBody(ctx));
    const tierError = hubTierError(ctx, ns, props, existing);
    if (tierError) return tierError;
    if (!existing) {
      const max = HUBS_PER_NAMESPACE[tierOf(ns)] ?? 10;
      if (ctx.state.list(`${ns.id}/eventhubs`).length >= max)
        return badRequest('QuotaExceeded', `Cannot create more than ${max} event hubs in ${tierOf(ns)} namespace '${ns.name}'.`);
      return { status: 200, body: wire(addHub(ctx.state, ns, ctx.params.hub ?? '', props)) };
    }
    Object.assign(existing.properties, props, { partitionCount: existing.properties.partitionCount, updatedAt: new Date().toISOString() });
    return { status: 200, body: wire(existing) };
  });
  r.on('DELETE', `${HUB}/{hub}`, (ctx) => {
    const ns = nsOr404(ctx);
    if (isReply(ns)) return ns;
    return { status: ctx.state.delete(`${ns.id}/eventhubs/${ctx.params.hub}`) ? 200 : 204 };
  });
  registerRules(r, `${HUB}/{hub}`, hubOr404, 'Microsoft.EventHub/Namespaces/EventHubs/AuthorizationRules', (ctx) => ctx.params.hub);

  const CG = `${HUB}/{hub}/consumergroups`;
  r.on('GET', CG, (ctx) => {
    const h = hubOr404(ctx);
    return isReply(h) ? h : paged(ctx, ctx.state.list(`${h.id}/consumergroups`).map(wire));
  });
  r.on('GET', `${CG}/{cg}`, (ctx) => {
    const h = hubOr404(ctx);
    if (isReply(h)) return h;
    const x = ctx.state.get(`${h.id}/consumergroups/${ctx.params.cg}`);
    return x ? { status: 200, body: wire(x) } : notFound(`consumergroups/${ctx.params.cg}`);
  });
  r.on('PUT', `${CG}/{cg}`, (ctx) => {
    const h = hubOr404(ctx);
    if (isReply(h)) return h;
    const ns = nsOr404(ctx) as SimResource;
    const existing = ctx.state.get(`${h.id}/consumergroups/${ctx.params.cg}`);
    const max = CONSUMER_GROUPS_PER_HUB[tierOf(ns)] ?? 20;
    if (!existing && ctx.state.list(`${h.id}/consumergroups`).length >= max)
      return badRequest('QuotaExceeded', `Cannot create more than ${max} consumer groups on event hub '${h.name}' (${tierName(tierOf(ns))} tier).`);
    const name = existing?.name ?? ctx.params.cg ?? '';
    const now = new Date().toISOString();
    const x = ctx.state.put({ id: `${h.id}/consumergroups/${name}`, name, type: 'Microsoft.EventHub/Namespaces/EventHubs/ConsumerGroups', subscriptionId: h.subscriptionId,
      resourceGroup: h.resourceGroup, location: h.location, properties: { ...propsOf(objectBody(ctx)), createdAt: now, updatedAt: now } });
    return { status: 200, body: wire(x) };
  });
  r.on('DELETE', `${CG}/{cg}`, (ctx) => {
    const h = hubOr404(ctx);
    if (isReply(h)) return h;
    return { status: ctx.state.delete(`${h.id}/consumergroups/${ctx.params.cg}`) ? 200 : 204 };
  });
}

/** EHNamespaceProperties the service computes (readOnly in the 2026-01-01 spec); everything else the client sets is kept. */
const NAMESPACE_READ_ONLY = new Set(['provisioningState', 'status', 'createdAt', 'updatedAt', 'serviceBusEndpoint', 'metricId']);

/** A namespace PUT keeps the caller's tags and writable properties (e.g. minimumTlsVersion): the response and later GETs show them. */
function applyNamespaceBody(ns: SimResource, body: Record<string, unknown>): void {
  const tags = body.tags;
  if (tags !== null && typeof tags === 'object' && !Array.isArray(tags)) ns.tags = Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, String(v)]));
  for (const [k, v] of Object.entries(propsOf(body))) if (!NAMESPACE_READ_ONLY.has(k)) ns.properties[k] = v;
}

/** One observation of a pending operation: InProgress `remainingPolls` more times, then Succeeded. */
function advanceOperation(op: AsyncOperation): void {
  if (op.status !== 'InProgress') return;
  if (op.remainingPolls > 0) op.remainingPolls -= 1;
  else {
    op.status = 'Succeeded';
    op.onSucceeded?.();
  }
}
