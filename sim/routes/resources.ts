import type { Router } from '../http.js';
import { notFound, objectBody, paged } from '../http.js';
import type { SimResource } from '../state.js';
import { addResourceGroup, rgId } from '../state.js';

/** The ARM wire shape of a stored resource (`properties` nested, only the fields it has). */
export function wire(r: SimResource): Record<string, unknown> {
  const out: Record<string, unknown> = { id: r.id, name: r.name, type: r.type };
  if (r.location !== undefined) out.location = r.location;
  if (r.kind !== undefined) out.kind = r.kind;
  if (r.sku !== undefined) out.sku = r.sku;
  if (r.tags !== undefined) out.tags = r.tags;
  if (r.etag !== undefined) out.etag = r.etag;
  out.properties = r.properties;
  return out;
}

/** Read-only customer resources plus resource groups. */
export function registerResources(r: Router): void {
  r.on('GET', '/subscriptions/{sub}/resourcegroups/{rg}', (ctx) => {
    const g = ctx.state.get(ctx.path);
    return g ? { status: 200, body: wire(g) } : { status: 404, body: { error: { code: 'ResourceGroupNotFound', message: `Resource group '${ctx.params.rg}' could not be found.` } } };
  });
  r.on('PUT', '/subscriptions/{sub}/resourcegroups/{rg}', (ctx) => {
    const existing = ctx.state.get(ctx.path);
    const body = objectBody(ctx);
    const location = typeof body.location === 'string' ? body.location : existing?.location ?? 'westeurope';
    const g = existing ?? addResourceGroup(ctx.state, ctx.params.sub ?? '', ctx.params.rg ?? '', location);
    return { status: existing ? 200 : 201, body: wire(g) };
  });
  r.on('GET', '/subscriptions/{sub}/resourcegroups', (ctx) =>
    paged(ctx, [...ctx.state.all()].filter((x) => x.type === 'Microsoft.Resources/resourceGroups' && x.subscriptionId.toLowerCase() === ctx.params.sub?.toLowerCase()).map(wire)),
  );
  for (const type of ['Microsoft.Storage/storageAccounts', 'Microsoft.KeyVault/vaults', 'Microsoft.OperationalInsights/workspaces', 'Microsoft.Web/sites']) {
    r.on('GET', `/subscriptions/{sub}/resourceGroups/{rg}/providers/${type}/{name}`, (ctx) => {
      const x = ctx.state.get(ctx.path);
      return x ? { status: 200, body: wire(x) } : notFound(`${type}/${ctx.params.name}`);
    });
    r.on('GET', `/subscriptions/{sub}/resourceGroups/{rg}/providers/${type}`, (ctx) => {
      if (!ctx.state.get(rgId(ctx.params.sub ?? '', ctx.params.rg ?? ''))) return notFound(`resourceGroups/${ctx.params.rg}`);
      return paged(ctx, ctx.state.list(ctx.path).map(wire));
    });
  }
}
