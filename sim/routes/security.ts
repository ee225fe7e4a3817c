import { randomUUID } from 'node:crypto';
import type { RouteContext, Router } from '../http.js';
import { badRequest, notFound, objectBody, paged, propsOf } from '../http.js';
import type { SimResource } from '../state.js';
import { rgId } from '../state.js';
import { wire } from './resources.js';

const AUTO = '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Security/automations';
const ACTION_TYPES = ['EventHub', 'Workspace', 'LogicApp'];

/** GET never returns an EventHub action's write-only connectionString (azure-facts §3). */
function wireAutomation(r: SimResource): Record<string, unknown> {
  const actions = Array.isArray(r.properties.actions) ? (r.properties.actions as Record<string, unknown>[]) : [];
  const safe = actions.map(({ connectionString: _secret, ...rest }) => rest);
  return wire({ ...r, properties: { ...r.properties, actions: safe } });
}

const STATE_CHANGES: Record<string, string> = { dismiss: 'Dismissed', resolve: 'Resolved', activate: 'Active', inprogress: 'InProgress' };

/**
 * The alert as `apiVersion` can express it. InProgress exists from 2022-01-01 on (AlertStatus in
 * stable/2022-01-01/alerts.json); 2021-11-01's status enum is Active, Resolved, Dismissed. What the service answers an
 * older client for an InProgress alert is not documented: the simulator says Active (the alert is still open).
 */
function alertAtVersion(body: Record<string, unknown>, apiVersion: string): Record<string, unknown> {
  const props = body.properties as Record<string, unknown>;
  return apiVersion < '2022-01-01' && props.status === 'InProgress' ? { ...body, properties: { ...props, status: 'Active' } } : body;
}

export function registerSecurity(r: Router): void {
  r.on('GET', '/subscriptions/{sub}/providers/Microsoft.Security/automations', (ctx) =>
    paged(ctx, [...ctx.state.all()].filter((x) => x.type === 'Microsoft.Security/automations' && x.subscriptionId.toLowerCase() === ctx.params.sub?.toLowerCase())
      .sort((a, b) => a.id.localeCompare(b.id)).map(wireAutomation)),
  );
  r.on('GET', AUTO, (ctx) => paged(ctx, ctx.state.list(ctx.path).map(wireAutomation)));
  r.on('GET', `${AUTO}/{name}`, (ctx) => {
    const x = ctx.state.get(ctx.path);
    return x ? { status: 200, body: wireAutomation(x) } : notFound(`Microsoft.Security/automations/${ctx.params.name}`);
  });
  r.on('PUT', `${AUTO}/{name}`, (ctx) => {
    const { sub = '', rg = '', name = '' } = ctx.params;
    if (!ctx.state.get(rgId(sub, rg))) return { status: 404, body: { error: { code: 'ResourceGroupNotFound', message: `Resource group '${rg}' could not be found.` } } };
    const body = objectBody(ctx);
    const p = propsOf(body);
    const actions = Array.isArray(p.actions) ? (p.actions as unknown[]) : [];
    for (const a of actions) {
      const t = ((a ?? {}) as Record<string, unknown>).actionType;
      if (typeof t !== 'string' || !ACTION_TYPES.includes(t)) return badRequest('InvalidInput', `Automation action type '${String(t)}' is not one of ${ACTION_TYPES.join(', ')}.`);
    }
    const existing = ctx.state.get(ctx.path);
    const id = existing?.id ?? `${rgId(sub, rg)}/providers/Microsoft.Security/automations/${name}`;
    const stored = actions.map((a) => {
      const act = { ...(a as Record<string, unknown>) };
      if (act.actionType === 'EventHub' && typeof act.connectionString === 'string') act.sasPolicyName = /SharedAccessKeyName=([^;]+)/.exec(act.connectionString)?.[1];
      return act;
    });
    ctx.state.automationSecrets.set(id.toLowerCase(), stored.flatMap((a) => (typeof a.connectionString === 'string' ? [a.connectionString] : [])));
    const x = ctx.state.put({
      id, name: existing?.name ?? name, type: 'Microsoft.Security/automations', subscriptionId: sub, resourceGroup: rg,
      location: typeof body.location === 'string' ? body.location : existing?.location ?? 'westeurope', etag: randomUUID(),
      tags: (body.tags as Record<string, string> | undefined) ?? {}, properties: { ...p, actions: stored },
    });
    return { status: existing ? 200 : 201, body: wireAutomation(x) };
  });
  r.on('DELETE', `${AUTO}/{name}`, (ctx) => {
    // arm-security@5 (2019-01-01-preview) accepts only 204 for this DELETE, whether or not it existed.
    ctx.state.delete(ctx.path);
    ctx.state.automationSecrets.delete(ctx.path.toLowerCase());
    return { status: 204 };
  });

  for (const scope of ['/subscriptions/{sub}', '/subscriptions/{sub}/resourceGroups/{rg}']) {
    const ALERT = `${scope}/providers/Microsoft.Security/locations/{loc}/alerts/{name}`;
    r.on('GET', ALERT, (ctx) => {
      const x = ctx.state.get(ctx.path);
      return x ? { status: 200, body: alertAtVersion(wire(x), ctx.apiVersion) } : notFound(`alerts/${ctx.params.name}`);
    });
    r.on('POST', `${ALERT}/{action}`, (ctx: RouteContext) => {
      const status = STATE_CHANGES[(ctx.params.action ?? '').toLowerCase()];
      if (!status) return notFound(ctx.path);
      const x = ctx.state.get(ctx.path.slice(0, ctx.path.lastIndexOf('/')));
      if (!x) return notFound(`alerts/${ctx.params.name}`);
      x.properties.status = status;
      return { status: 204 };
    });
  }
}
