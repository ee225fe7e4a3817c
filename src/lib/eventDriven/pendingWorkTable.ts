import type { TableClient } from '@azure/data-tables';
import { ConnectorError } from '../errors.js';
import { storageError } from '../registry/storageError.js';
import { markerSchema, type Marker, type MarkerTable } from './pendingWork.js';

/**
 * The pending-work markers in Azure Table storage: table `<prefix>PendingWork`, PK = tenant id, RK = `pending`.
 * The marker is JSON split over string properties `d0…dN`: one string property holds at most 64 KiB (32 K UTF-16
 * characters), an entity at most 1 MiB (Azure Table storage limits). Every write is conditional on the etag read.
 */
const CHUNK_CHARS = 30_000;
const MAX_CHUNKS = 15;
const ROW_KEY = 'pending';

interface MarkerRow {
  partitionKey: string;
  rowKey: string;
  chunks: number;
  [d: string]: unknown;
}

function toRow(tenantId: string, marker: Marker): MarkerRow {
  const json = JSON.stringify(markerSchema.parse(marker));
  const chunks = Math.ceil(json.length / CHUNK_CHARS);
  if (chunks > MAX_CHUNKS) throw new ConnectorError('permanent', `pending work of tenant ${tenantId} is ${json.length} characters, over the ${MAX_CHUNKS * CHUNK_CHARS} a table entity holds`);
  const row: MarkerRow = { partitionKey: tenantId, rowKey: ROW_KEY, chunks };
  for (let i = 0; i < chunks; i++) row[`d${i}`] = json.slice(i * CHUNK_CHARS, (i + 1) * CHUNK_CHARS);
  return row;
}

function fromRow(row: Record<string, unknown>, tenantId: string): Marker {
  const n = typeof row.chunks === 'number' ? row.chunks : 0;
  let json = '';
  for (let i = 0; i < n; i++) json += typeof row[`d${i}`] === 'string' ? (row[`d${i}`] as string) : '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    parsed = undefined;
  }
  const r = markerSchema.safeParse(parsed);
  if (!r.success) throw new ConnectorError('permanent', `pending work of tenant ${tenantId} is unreadable: ${r.error.issues[0]?.message ?? 'not JSON'}`);
  return r.data;
}

/**
 * `createTable`: create the table on first use (default). An ingest app passes false: its role is a data role on this
 * one table, which the template creates (storageClients.ts createsStorageResources).
 */
export function createTableMarkerTable(opts: { tablePrefix: string; client: (tableName: string) => Promise<TableClient> | TableClient; createTable?: boolean }): MarkerTable {
  const name = `${opts.tablePrefix}PendingWork`;
  let ready: Promise<TableClient> | undefined;
  const table = (): Promise<TableClient> => {
    ready ??= Promise.resolve(opts.client(name)).then(async (c) => {
      if (opts.createTable === false) return c;
      try {
        await c.createTable();
      } catch (e) {
        ready = undefined;
        throw storageError(e, `create table ${name}`);
      }
      return c;
    });
    return ready;
  };
  return {
    async get(tenantId) {
      const c = await table();
      try {
        const e = await c.getEntity<Record<string, unknown>>(tenantId, ROW_KEY);
        if (!e.etag) throw new ConnectorError('transient', `read ${name}: the service returned no etag`);
        return { marker: fromRow(e, tenantId), etag: e.etag };
      } catch (e) {
        const err = storageError(e, `read ${name} ${tenantId}`);
        if (err.kind === 'not-found') return undefined;
        throw err;
      }
    },
    async create(tenantId, marker) {
      const c = await table();
      await c.createEntity(toRow(tenantId, marker)).catch((e: unknown) => {
        throw storageError(e, `create ${name} ${tenantId}`);
      });
    },
    async replace(tenantId, marker, etag) {
      const c = await table();
      await c.updateEntity(toRow(tenantId, marker), 'Replace', { etag }).catch((e: unknown) => {
        throw storageError(e, `update ${name} ${tenantId}`);
      });
    },
  };
}
