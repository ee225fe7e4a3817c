import type { Reply, RouteContext, Router } from './http.js';
import { badRequest, objectBody } from './http.js';
import type { SimResource, SimState } from './state.js';

/**
 * A deliberately small KQL subset, enough for discovery:
 * `Resources|ResourceContainers` then stages `where <field> =~ 'x'`, `where type in~ ('a','b')`, `project a, b`,
 * `order by id asc`. Anything else is a 400 InvalidQuery naming the unsupported part.
 */
type Row = Record<string, unknown>;
type Stage = (rows: Row[]) => Row[];
const WHERE_FIELDS = ['type', 'name', 'resourceGroup', 'subscriptionId', 'location', 'kind', 'tenantId'];
const str = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : '');

export function parseQuery(query: string): { table: 'resources' | 'resourcecontainers'; stages: Stage[] } | { error: string } {
  const parts = query.split('|').map((s) => s.trim());
  const table = (parts.shift() ?? '').toLowerCase();
  if (table !== 'resources' && table !== 'resourcecontainers') return { error: `unsupported table '${table}' (expected Resources or ResourceContainers)` };
  const stages: Stage[] = [];
  for (const part of parts) {
    let m: RegExpExecArray | null;
    if ((m = /^where\s+(\w+)\s*=~\s*'([^']*)'$/i.exec(part)) && WHERE_FIELDS.includes(m[1] ?? '')) {
      const field = m[1] ?? '';
      const value = (m[2] ?? '').toLowerCase();
      stages.push((rows) => rows.filter((r) => str(r[field]) === value));
    } else if ((m = /^where\s+type\s+in~\s*\(([^)]*)\)$/i.exec(part))) {
      const items = (m[1] ?? '').split(',').map((s) => s.trim());
      if (!items.every((s) => /^'[^']*'$/.test(s))) return { error: `unsupported list in '${part}' (expected quoted strings)` };
      const set = new Set(items.map((s) => s.slice(1, -1).toLowerCase()));
      stages.push((rows) => rows.filter((r) => set.has(str(r.type))));
    } else if ((m = /^project\s+(\w+(?:\s*,\s*\w+)*)$/i.exec(part))) {
      const cols = (m[1] ?? '').split(',').map((s) => s.trim());
      stages.push((rows) => rows.map((r) => Object.fromEntries(cols.map((c) => [c, r[c] ?? null]))));
    } else if (/^order\s+by\s+id\s+asc$/i.test(part)) {
      // Keys lower-cased once: the simulator re-runs the query for every page, over 10,000 resources in the bench.
      stages.push((rows) => rows.map((r) => [str(r.id), r] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r));
    } else return { error: `unsupported query stage '${part}'` };
  }
  return { table, stages };
}

const tenantOf = (st: SimState, sub: string) => st.subscription(sub)?.homeTenantId ?? '';
const HIDDEN = new Set(['microsoft.resources/resourcegroups', 'microsoft.insights/diagnosticsettings', 'microsoft.security/automations', 'microsoft.security/locations/alerts',
  'microsoft.operationalinsights/workspaces/tables', 'microsoft.managedservices/registrationdefinitions', 'microsoft.managedservices/registrationassignments']);

function resourceRow(st: SimState, r: SimResource): Row {
  return { id: r.id, name: r.name, type: r.type.toLowerCase(), location: r.location ?? '', kind: r.kind ?? '', sku: r.sku ?? null,
    subscriptionId: r.subscriptionId, resourceGroup: (r.resourceGroup ?? '').toLowerCase(), tenantId: tenantOf(st, r.subscriptionId), properties: r.properties };
}

function rowsFor(st: SimState, table: 'resources' | 'resourcecontainers', subs: Set<string>): Row[] {
  const rows: Row[] = [];
  if (table === 'resourcecontainers') {
    for (const s of st.subscriptions.values()) {
      if (!subs.has(s.subscriptionId.toLowerCase())) continue;
      rows.push({ id: `/subscriptions/${s.subscriptionId}`, name: s.displayName, type: 'microsoft.resources/subscriptions', location: '', kind: '', sku: null,
        subscriptionId: s.subscriptionId, resourceGroup: '', tenantId: s.homeTenantId,
        properties: { state: s.state, managedByTenants: (s.managedByTenants ?? []).map((tenantId) => ({ tenantId })) } });
    }
  }
  for (const r of st.all()) {
    if (!subs.has(r.subscriptionId.toLowerCase())) continue;
    const t = r.type.toLowerCase();
    if (table === 'resourcecontainers') {
      if (t === 'microsoft.resources/resourcegroups') rows.push({ ...resourceRow(st, r), type: 'microsoft.resources/subscriptions/resourcegroups' });
    } else if (t.split('/').length === 2 && !HIDDEN.has(t)) rows.push(resourceRow(st, r));
  }
  return rows;
}

function encodeToken(offset: number, snapshot: number): string {
  return Buffer.from(JSON.stringify({ o: offset, s: snapshot })).toString('base64');
}
function decodeToken(t: string): { offset: number; snapshot?: number } | undefined {
  try {
    const v = JSON.parse(Buffer.from(t, 'base64').toString('utf8')) as { o?: unknown; s?: unknown };
    if (typeof v.o !== 'number' || v.o < 0) return undefined;
    return { offset: v.o, snapshot: typeof v.s === 'number' ? v.s : undefined };
  } catch {
    return undefined;
  }
}

/** Results of recent first pages: a skipToken continues the same result set, as Resource Graph's own cursor does. */
const snapshots = new Map<number, Row[]>();
let nextSnapshot = 1;
function keepSnapshot(rows: Row[]): number {
  const id = nextSnapshot++;
  snapshots.set(id, rows);
  for (const k of snapshots.keys()) if (snapshots.size > 32) snapshots.delete(k);
  return id;
}

export function registerResourceGraph(r: Router): void {
  r.on('POST', '/providers/Microsoft.ResourceGraph/resources', (ctx: RouteContext): Reply => {
    const body = objectBody(ctx);
    if (typeof body.query !== 'string') return badRequest('InvalidQuery', "The request body needs a 'query' string.");
    const parsed = parseQuery(body.query);
    if ('error' in parsed) return badRequest('InvalidQuery', `Query is invalid: ${parsed.error}.`);
    const requested = Array.isArray(body.subscriptions) ? body.subscriptions.filter((s): s is string => typeof s === 'string') : [];
    const subs = new Set(requested.filter((s) => ctx.state.accessible(s)).map((s) => s.toLowerCase()));
    const opts = (body.options ?? {}) as Record<string, unknown>;
    const top = typeof opts.$top === 'number' ? opts.$top : Infinity;
    const skip = typeof opts.$skip === 'number' ? opts.$skip : 0;
    let offset = skip;
    let rows: Row[] | undefined;
    let snapshot: number | undefined;
    if (typeof opts.$skipToken === 'string') {
      const t = decodeToken(opts.$skipToken);
      if (t === undefined) return badRequest('BadRequest', 'The $skipToken is invalid.');
      offset = t.offset;
      rows = t.snapshot === undefined ? undefined : snapshots.get(t.snapshot);
      snapshot = rows ? t.snapshot : undefined;
    }
    if (!rows) {
      rows = rowsFor(ctx.state, parsed.table, subs);
      for (const stage of parsed.stages) rows = stage(rows);
    }
    const end = Math.min(rows.length, skip + top);
    const pageEnd = Math.min(end, offset + Math.min(ctx.options.resourceGraphPageSize, 1000));
    const data = rows.slice(offset, pageEnd);
    const res: Record<string, unknown> = { totalRecords: Math.max(0, end - skip), count: data.length, data, facets: [], resultTruncated: 'false' };
    if (pageEnd < end) res.$skipToken = encodeToken(pageEnd, snapshot ?? keepSnapshot(rows));
    return { status: 200, body: res };
  });
}
