import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import type { AzuriteHandle } from './azurite.js';
import { customRolePermissions, scopeText, type GrantScope } from './bicepGrants.js';

/**
 * Azure RBAC for the storage data plane, as a test stand-in: which operation a Blob/Queue/Table request is, which
 * RBAC actions that operation needs (Microsoft's "Permissions for calling data operations" table), which actions a
 * role holds (Azure's built-in role definitions, infra/'s custom ones), and whether a set of role assignments allows
 * the request. The sources are copied into test/fixtures/rbac/azureRbac.json.
 *
 * startRbacProxy puts it in front of Azurite for one app identity: each request is classified, recorded, and either
 * forwarded or refused with the 403 AuthorizationPermissionMismatch the service answers, so the app's real SDK code
 * runs as it would in Azure with exactly the roles infra/ grants that identity.
 */
const fixturePath = path.resolve(import.meta.dirname, '../fixtures/rbac/azureRbac.json');
const fixture = z
  .object({
    roles: z.record(z.string(), z.object({ id: z.string(), actions: z.array(z.string()), dataActions: z.array(z.string()) })),
    storageOperations: z.record(z.string(), z.array(z.array(z.string()).min(1)).min(1)),
  })
  .parse(JSON.parse(readFileSync(fixturePath, 'utf8')));

export type StorageService = 'blob' | 'queue' | 'table';
export type StorageResource = { kind: 'account' } | { kind: 'container' | 'queue' | 'table'; name: string };

export interface StorageOperation {
  service: StorageService;
  /** An operation name of the permissions table, or `unclassified …` for a request this model does not know. */
  operation: string;
  resource: StorageResource;
}

/** A role assignment as the model needs it: role name and scope (test/support/bicepGrants.ts Grant). */
export interface RoleGrant {
  role: string;
  scope: GrantScope;
}

export const resourceText = (r: StorageResource): string => (r.kind === 'account' ? 'storage account' : `${r.kind} ${r.name}`);

/** The actions and data actions of a role (built-in from the fixture, custom from infra/modules/roleDefinitions.bicep). */
export function rolePermissions(role: string): { actions: string[]; dataActions: string[] } {
  const builtIn = fixture.roles[role];
  if (builtIn) return builtIn;
  if (role.startsWith('MDR ')) return customRolePermissions(role);
  throw new Error(`role ${role} is neither in test/fixtures/rbac/azureRbac.json nor a custom role of infra/`);
}

/** Data actions name data (blobs, messages, entities); everything else is checked against a role's actions. */
const isDataAction = (a: string) => /\/(blobs|messages|entities)\//i.test(a);

/** Azure RBAC wildcard match: `*` stands for any string, comparison ignores case. */
export function actionMatches(pattern: string, action: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`, 'i');
  return re.test(action);
}

export function roleHolds(role: string, action: string): boolean {
  const p = rolePermissions(role);
  return (isDataAction(action) ? p.dataActions : p.actions).some((pattern) => actionMatches(pattern, action));
}

/** Whether a role assignment's scope covers a storage resource (assignments inherit downwards: account → container/queue/table). */
export function scopeCovers(scope: GrantScope, service: StorageService, resource: StorageResource): boolean {
  if (scope.kind === 'storage account') return true;
  if (resource.kind === 'account') return false;
  const kindOf: Record<StorageService, string> = { blob: 'container', queue: 'queue', table: 'table' };
  return scope.kind === kindOf[service] && 'name' in scope && scope.name === resource.name;
}

export interface Decision {
  allowed: boolean;
  /** The first alternative's actions nobody grants on that resource (empty when allowed). */
  missing: string[];
  /** The role assignments that allowed it. */
  by: RoleGrant[];
}

/** Does a set of role assignments allow an operation? Any alternative whose every action is held on a covering scope. */
export function authorize(grants: readonly RoleGrant[], op: StorageOperation): Decision {
  const alternatives = fixture.storageOperations[op.operation];
  if (!alternatives) return { allowed: false, missing: [`(no RBAC model for ${op.operation})`], by: [] };
  const covering = grants.filter((g) => scopeCovers(g.scope, op.service, op.resource));
  let firstMissing: string[] | undefined;
  for (const actions of alternatives) {
    const by = actions.map((a) => covering.find((g) => roleHolds(g.role, a)));
    if (by.every((g) => g !== undefined)) return { allowed: true, missing: [], by: [...new Set(by as RoleGrant[])] };
    firstMissing ??= actions.filter((_, i) => by[i] === undefined);
  }
  return { allowed: false, missing: firstMissing ?? [], by: [] };
}

export const operationNames = (): string[] => Object.keys(fixture.storageOperations);

// ---------------------------------------------------------------------------------------------- classification

const header = (h: http.IncomingHttpHeaders | Record<string, string>, name: string): string | undefined => {
  const v = (h as Record<string, string | string[] | undefined>)[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * The storage operation(s) of one request, from its method, path (path-style, as Azurite and the SDK address it:
 * `/<account>/<container|queue|table>/…`), query and headers (REST API reference of each operation). A table batch
 * (`POST /$batch`) is its sub-requests: each is authorized on its own ("Performing Entity Group Transactions").
 */
export function classifyStorageRequest(service: StorageService, method: string, url: URL, headers: http.IncomingHttpHeaders | Record<string, string>, body: Buffer): StorageOperation[] {
  const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const rest = segments.slice(1); // after the account
  const q = url.searchParams;
  const comp = q.get('comp') ?? undefined;
  const m = method.toUpperCase();
  const op = (operation: string, resource: StorageResource): StorageOperation[] => [{ service, operation, resource }];
  const unclassified = (resource: StorageResource = { kind: 'account' }) => op(`unclassified ${m} ${url.pathname}${url.search}`, resource);

  if (service === 'blob') {
    if (rest.length === 0) return comp === 'list' && m === 'GET' ? op('List Containers', { kind: 'account' }) : unclassified();
    const container: StorageResource = { kind: 'container', name: rest[0]! };
    if (rest.length === 1) {
      if (q.get('restype') !== 'container') return unclassified(container);
      if (comp === 'list' && m === 'GET') return op('List Blobs', container);
      if (comp === undefined && m === 'PUT') return op('Create Container', container);
      if (comp === undefined && (m === 'GET' || m === 'HEAD')) return op('Get Container Properties', container);
      if (comp === undefined && m === 'DELETE') return op('Delete Container', container);
      return unclassified(container);
    }
    if (m === 'PUT') {
      const byComp: Record<string, string> = { block: 'Put Block', blocklist: 'Put Block List', metadata: 'Set Blob Metadata', properties: 'Set Blob Properties', lease: 'Lease Blob' };
      if (comp === undefined) return op(header(headers, 'if-none-match') === '*' ? 'Put Blob (new only)' : 'Put Blob', container);
      return byComp[comp] ? op(byComp[comp], container) : unclassified(container);
    }
    if (comp === undefined && m === 'GET') return op('Get Blob', container);
    if (comp === undefined && m === 'HEAD') return op('Get Blob Properties', container);
    if (comp === undefined && m === 'DELETE') return op('Delete Blob', container);
    return unclassified(container);
  }

  if (service === 'queue') {
    if (rest.length === 0) return comp === 'list' && m === 'GET' ? op('List Queues', { kind: 'account' }) : unclassified();
    const queue: StorageResource = { kind: 'queue', name: rest[0]! };
    if (rest.length === 1) {
      if (comp === 'metadata') return op(m === 'PUT' ? 'Set Queue Metadata' : 'Get Queue Metadata', queue);
      if (comp === undefined && m === 'PUT') return op('Create Queue', queue);
      if (comp === undefined && m === 'DELETE') return op('Delete Queue', queue);
      return unclassified(queue);
    }
    if (rest[1] !== 'messages') return unclassified(queue);
    if (rest.length === 2) {
      if (m === 'POST') return op('Put Message', queue);
      if (m === 'GET') return op(q.get('peekonly') === 'true' ? 'Peek Messages' : 'Get Messages', queue);
      if (m === 'DELETE') return op('Clear Messages', queue);
      return unclassified(queue);
    }
    if (m === 'DELETE') return op('Delete Message', queue);
    if (m === 'PUT') return op('Update Message', queue);
    return unclassified(queue);
  }

  // table
  const first = rest[0] ?? '';
  if (first === '$batch' && m === 'POST') return batchOperations(body, url);
  const tables = /^Tables(?:\('([^']*)'\))?$/.exec(first);
  if (tables) {
    if (m === 'POST') {
      const name = (() => {
        try {
          return String((JSON.parse(body.toString('utf8')) as { TableName?: unknown }).TableName ?? '');
        } catch {
          return '';
        }
      })();
      return op('Create Table', { kind: 'table', name });
    }
    if (m === 'GET' && tables[1] === undefined) return op('Query Tables', { kind: 'account' });
    if (m === 'DELETE' && tables[1] !== undefined) return op('Delete Table', { kind: 'table', name: tables[1] });
    return unclassified();
  }
  const entity = /^([A-Za-z][A-Za-z0-9]{2,62})(\(.*\))?$/.exec(first);
  if (!entity) return unclassified();
  const table: StorageResource = { kind: 'table', name: entity[1]! };
  const keyed = entity[2] !== undefined && entity[2] !== '()';
  const verb = m === 'POST' ? (header(headers, 'x-http-method')?.toUpperCase() ?? 'POST') : m;
  const conditional = header(headers, 'if-match') !== undefined;
  if (verb === 'GET') return op('Query Entities', table);
  if (verb === 'POST' && !keyed) return op('Insert Entity', table);
  if (verb === 'PUT' && keyed) return op(conditional ? 'Update Entity' : 'Insert Or Replace Entity', table);
  if ((verb === 'PATCH' || verb === 'MERGE') && keyed) return op(conditional ? 'Merge Entity' : 'Insert Or Merge Entity', table);
  if (verb === 'DELETE' && keyed) return op('Delete Entity', table);
  return unclassified(table);
}

/** The sub-requests of a table entity-group transaction (multipart/mixed: `METHOD url HTTP/1.1`, headers, body). */
function batchOperations(body: Buffer, base: URL): StorageOperation[] {
  const text = body.toString('utf8');
  const out: StorageOperation[] = [];
  for (const m of text.matchAll(/^(GET|POST|PUT|PATCH|MERGE|DELETE) (\S+) HTTP\/1\.1\r?\n((?:[^\r\n]+\r?\n)*)/gm)) {
    const headers: Record<string, string> = {};
    for (const line of m[3]!.split(/\r?\n/)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    out.push(...classifyStorageRequest('table', m[1]!, new URL(m[2]!, base), headers, Buffer.alloc(0)));
  }
  return out.length > 0 ? out : [{ service: 'table', operation: 'unclassified empty $batch', resource: { kind: 'account' } }];
}

// ---------------------------------------------------------------------------------------------- the proxy

export interface RecordedRequest extends StorageOperation {
  identity: string;
  method: string;
  path: string;
  allowed: boolean;
  /** Actions no role assignment of the identity grants on the resource (denied requests). */
  missing: string[];
  /** Role assignments that allowed it, as "<role> @ <scope>". */
  by: string[];
}

export interface RbacProxy {
  /** AzureWebJobsStorage for the app: the Azurite account, every service endpoint through this proxy. */
  connectionString: string;
  stop(): Promise<void>;
}

const DENIED = 'This request is not authorized to perform this operation using this permission.';

function deny(res: http.ServerResponse, service: StorageService): void {
  // The service's answer to a role that lacks the action (error code AuthorizationPermissionMismatch).
  const body =
    service === 'table'
      ? JSON.stringify({ 'odata.error': { code: 'AuthorizationPermissionMismatch', message: { lang: 'en-US', value: DENIED } } })
      : `<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationPermissionMismatch</Code><Message>${DENIED}</Message></Error>`;
  res.writeHead(403, {
    'content-type': service === 'table' ? 'application/json;odata=minimalmetadata;streaming=true;charset=utf-8' : 'application/xml',
    'x-ms-error-code': 'AuthorizationPermissionMismatch',
    'x-ms-request-id': `rbac-proxy-${Date.now()}`,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * One app identity's view of the Azurite account: three listeners (blob, queue, table) that classify each request,
 * record it in `log`, and forward it to Azurite only when `grants` allow it. With `enforce: false` a refused request
 * is recorded and forwarded anyway, so a run goes on and lists every missing right at once.
 */
export async function startRbacProxy(o: { identity: string; azurite: AzuriteHandle; grants: readonly RoleGrant[]; log: RecordedRequest[]; enforce?: boolean }): Promise<RbacProxy> {
  const upstreams: Record<StorageService, string> = { blob: o.azurite.blobUrl, queue: o.azurite.queueUrl, table: o.azurite.tableUrl };
  const servers: http.Server[] = [];
  const urls = {} as Record<StorageService, string>;
  for (const service of ['blob', 'queue', 'table'] as const) {
    const up = new URL(upstreams[service]);
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const url = new URL(req.url ?? '/', 'http://proxy');
        const method = req.method ?? 'GET';
        const ops = classifyStorageRequest(service, method, url, req.headers, body);
        const decisions = ops.map((op) => ({ op, d: authorize(o.grants, op) }));
        for (const { op, d } of decisions)
          o.log.push({ ...op, identity: o.identity, method, path: url.pathname, allowed: d.allowed, missing: d.missing, by: d.by.map((g) => `${g.role} @ ${scopeText(g.scope)}`) });
        if (o.enforce !== false && decisions.some(({ d }) => !d.allowed)) return deny(res, service);
        const fwd = http.request({ host: up.hostname, port: up.port, method, path: req.url, headers: { ...req.headers, host: up.host } }, (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        });
        fwd.on('error', (e) => {
          res.writeHead(502);
          res.end(String(e));
        });
        fwd.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    urls[service] = `http://127.0.0.1:${(server.address() as AddressInfo).port}${up.pathname.replace(/\/+$/, '')}`;
  }
  const connectionString = o.azurite.connectionString.replace(o.azurite.blobUrl, urls.blob).replace(o.azurite.queueUrl, urls.queue).replace(o.azurite.tableUrl, urls.table);
  return {
    connectionString,
    stop: () => Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(() => undefined),
  };
}
