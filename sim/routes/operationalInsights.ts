import { randomUUID } from 'node:crypto';
import type { Reply, RouteContext, Router } from '../http.js';
import { badRequest, notFound, objectBody, propsOf } from '../http.js';
import type { SimResource } from '../state.js';
import { rgId } from '../state.js';
import { wire } from './resources.js';

export const MAX_ENABLED_EXPORTS = 10;
const NAME_RE = /^[A-Za-z][A-Za-z0-9-]+[A-Za-z0-9]$/;
const WS_PATH = '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{ws}';
const WS = `${WS_PATH}/dataExports`;
const norm = (r: string | undefined) => (r ?? '').toLowerCase().replace(/\s+/g, '');

function wsOr404(ctx: RouteContext): SimResource | Reply {
  const id = `${rgId(ctx.params.sub ?? '', ctx.params.rg ?? '')}/providers/Microsoft.OperationalInsights/workspaces/${ctx.params.ws ?? ''}`;
  return ctx.state.get(id) ?? notFound(`Microsoft.OperationalInsights/workspaces/${ctx.params.ws}`);
}

/** Log Analytics data export rules (azure-facts §2): 10 enabled per workspace, destination in the workspace region. */
export function registerOperationalInsights(r: Router): void {
  r.on('GET', WS, (ctx) => {
    const ws = wsOr404(ctx);
    // Not pageable: DataExportListResult has only `value` (x-ms-pageable nextLinkName null, DataExports.json 2025-07-01).
    return 'status' in ws ? ws : { status: 200, body: { value: ctx.state.list(`${ws.id}/dataExports`).map(wire) } };
  });
  r.on('GET', `${WS}/{name}`, (ctx) => {
    const ws = wsOr404(ctx);
    if ('status' in ws) return ws;
    const x = ctx.state.get(`${ws.id}/dataExports/${ctx.params.name}`);
    return x ? { status: 200, body: wire(x) } : notFound(`dataExports/${ctx.params.name}`);
  });
  r.on('PUT', `${WS}/{name}`, (ctx) => {
    const ws = wsOr404(ctx);
    if ('status' in ws) return ws;
    const name = ctx.params.name ?? '';
    if (name.length < 4 || name.length > 63 || !NAME_RE.test(name))
      return badRequest('InvalidParameter', `Data export name '${name}' must be 4-63 characters matching ${NAME_RE.source}.`);
    const p = propsOf(objectBody(ctx));
    const tables = p.tableNames;
    if (!Array.isArray(tables) || tables.length === 0 || !tables.every((t) => typeof t === 'string')) return badRequest('InvalidParameter', 'tableNames must be a non-empty array of table names.');
    // A table the workspace does not hold fails the rule (MicrosoftDocs/azure-docs logs-data-export.md @0116dfe6).
    const missing = tables.find((t) => !ctx.state.get(`${ws.id}/tables/${t}`));
    if (missing !== undefined) return badRequest('InvalidParameter', `Table ${missing} does not exist in the workspace`);
    const dest = (p.destination ?? {}) as Record<string, unknown>;
    const destId = typeof dest.resourceId === 'string' ? dest.resourceId : '';
    const target = ctx.state.get(destId);
    if (!target) return badRequest('InvalidDestination', `Destination '${destId}' does not exist or is not accessible.`);
    if (norm(target.location) !== norm(ws.location))
      return badRequest('InvalidDestination', `Destination must be in the workspace region '${ws.location}'; '${target.name}' is in '${target.location}'.`);
    const enable = p.enable !== false;
    const existing = ctx.state.get(`${ws.id}/dataExports/${name}`);
    const otherEnabled = ctx.state.list(`${ws.id}/dataExports`).filter((x) => x.properties.enable !== false && x.name.toLowerCase() !== name.toLowerCase()).length;
    if (enable && otherEnabled >= MAX_ENABLED_EXPORTS)
      return badRequest('BadRequest', `Workspace '${ws.name}' already has ${MAX_ENABLED_EXPORTS} enabled data export rules, the maximum.`);
    const type = target.type.toLowerCase().startsWith('microsoft.eventhub') ? 'EventHub' : 'StorageAccount';
    const x = ctx.state.put({
      id: `${ws.id}/dataExports/${existing?.name ?? name}`, name: existing?.name ?? name, type: 'Microsoft.OperationalInsights/workspaces/dataExports',
      subscriptionId: ws.subscriptionId, resourceGroup: ws.resourceGroup,
      properties: { dataExportId: existing?.properties.dataExportId ?? randomUUID(), tableNames: tables, enable, destination: { ...dest, type }, createdDate: new Date().toISOString(), lastModifiedDate: new Date().toISOString() },
    });
    return { status: existing ? 200 : 201, body: wire(x) };
  });
  // Not pageable either: TablesListResult has only `value` (Tables.json 2025-07-01, nextLinkName null).
  r.on('GET', `${WS_PATH}/tables`, (ctx) => {
    const ws = wsOr404(ctx);
    return 'status' in ws ? ws : { status: 200, body: { value: ctx.state.list(`${ws.id}/tables`).map(({ id, name, type, properties }) => ({ id, name, type, properties })) } };
  });
  r.on('DELETE', `${WS}/{name}`, (ctx) => {
    const ws = wsOr404(ctx);
    if ('status' in ws) return ws;
    return ctx.state.delete(`${ws.id}/dataExports/${ctx.params.name}`) ? { status: 200 } : notFound(`dataExports/${ctx.params.name}`);
  });
}
