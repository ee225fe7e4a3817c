import { createHash } from 'node:crypto';
import { TableClient, odata, type TableEntityResult } from '@azure/data-tables';
import type { z } from 'zod';
import { ConnectorError, isConflict } from '../errors.js';
import { storageError } from './storageError.js';
import type { TenantRegistry } from './tenantRegistry.js';
import {
  changeMarkSchema,
  coverageEntrySchema,
  hubAssignmentSchema,
  knownSubscriptionSchema,
  ingestAppRecordSchema,
  lastSeenSchema,
  namespaceRecordSchema,
  onboardingOperationSchema,
  partitionProgressSchema,
  tenantRecordSchema,
  type ChangeMark,
  coverageKey,
  type CoverageEntry,
  type HubAssignment,
  type KnownSubscription,
  type LastSeen,
  type OnboardingOperation,
  type PartitionProgress,
} from './types.js';
import { mergeLastSeen } from './mergeLastSeen.js';

/**
 * TenantRegistry on Azure Table storage. Each entity stores its record as JSON in `data` (validated with the
 * zod schema on every read) plus the columns queries filter on. Keys:
 *   Tenants    PK 'tenant'   RK tenantId        Hubs      PK tenantId  RK region
 *   Namespaces PK region     RK namespace       Coverage  PK tenantId  RK sha256(target|resourceId)
 *   LastSeen   PK tenantId   RK sha256(source|category)
 *   ChangeFeed PK tenantId   RK subscriptionId (lower-case)
 *   Operations PK tenantId   RK operationId
 *   Subscriptions PK tenantId RK subscriptionId (lower-case)
 *   IngestProgress PK tenantId RK sha256(namespace|hub|partitionId)
 *   IngestApps PK 'app'      RK site name (lower-case)
 * Conditional writes use the entity etag; the service's 409/412 become ConnectorError 'conflict'.
 */
export type TableClientFactory = (tableName: string) => TableClient;

interface Row {
  partitionKey: string;
  rowKey: string;
  data: string;
  [k: string]: unknown;
}

/** Rows per entity-group transaction (Table service limit). */
const TRANSACTION_ROWS = 100;

/**
 * Table storage caps a string property at 64 KiB (32K UTF-16 characters) and an entity at 1 MiB ("Understanding the
 * Table service data model", Microsoft Learn). A record's JSON longer than one property is stored across `data`,
 * `data1`, `data2`, … (a namespace of a large Premium pool lists ~1,600 tenants; an operation's result can list 60
 * hubs); read back, the parts are joined in order. Replace-mode writes drop parts a shorter record no longer needs.
 */
const DATA_PART_CHARS = 30_000;
const MAX_DATA_PARTS = 15;

function withDataParts(row: Row): Row {
  if (row.data.length <= DATA_PART_CHARS) return row;
  const parts = Math.ceil(row.data.length / DATA_PART_CHARS);
  if (parts > MAX_DATA_PARTS) throw new ConnectorError('capacity', `registry row ${row.partitionKey}/${row.rowKey} would hold ${row.data.length} characters, over the ${MAX_DATA_PARTS * DATA_PART_CHARS} one Table storage entity takes`);
  const out: Row = { ...row, data: row.data.slice(0, DATA_PART_CHARS) };
  for (let i = 1; i < parts; i++) out[`data${i}`] = row.data.slice(i * DATA_PART_CHARS, (i + 1) * DATA_PART_CHARS);
  return out;
}

function joinedData(e: Record<string, unknown>): string {
  let data = typeof e.data === 'string' ? e.data : '';
  for (let i = 1; typeof e[`data${i}`] === 'string'; i++) data += e[`data${i}`] as string;
  return data;
}

const rowKeyOf = (s: string) => createHash('sha256').update(s).digest('hex');

export function createTableRegistry(opts: {
  tablePrefix: string;
  clientFor: TableClientFactory;
  /**
   * Create each table on first use (default). An ingest app passes false: it holds data roles on the tables it uses
   * only (infra creates them), and a create request needs a right it does not have (createsStorageResources).
   */
  createTables?: boolean;
}): TenantRegistry {
  const names = {
    tenants: `${opts.tablePrefix}Tenants`,
    hubs: `${opts.tablePrefix}Hubs`,
    namespaces: `${opts.tablePrefix}Namespaces`,
    coverage: `${opts.tablePrefix}Coverage`,
    lastSeen: `${opts.tablePrefix}LastSeen`,
    changeFeed: `${opts.tablePrefix}ChangeFeed`,
    operations: `${opts.tablePrefix}Operations`,
    subscriptions: `${opts.tablePrefix}Subscriptions`,
    ingestProgress: `${opts.tablePrefix}IngestProgress`,
    ingestApps: `${opts.tablePrefix}IngestApps`,
  };
  const ready = new Map<string, Promise<TableClient>>();
  const table = (name: string): Promise<TableClient> => {
    let p = ready.get(name);
    if (!p) {
      const client = opts.clientFor(name);
      if (opts.createTables === false) {
        p = Promise.resolve(client);
        ready.set(name, p);
        return p;
      }
      p = client.createTable().then(
        () => client,
        (e: unknown) => {
          ready.delete(name);
          throw storageError(e, `create table ${name}`);
        },
      );
      ready.set(name, p);
    }
    return p;
  };

  async function list<S extends z.ZodType>(name: string, schema: S, filter?: string): Promise<(z.infer<S> & { etag?: string })[]> {
    const client = await table(name);
    const out: (z.infer<S> & { etag?: string })[] = [];
    try {
      for await (const e of client.listEntities<Row>(filter ? { queryOptions: { filter } } : {})) out.push(decode(schema, e, name));
    } catch (e) {
      throw storageError(e, `list ${name}`);
    }
    return out;
  }

  function decode<S extends z.ZodType>(schema: S, e: TableEntityResult<Row>, name: string): z.infer<S> & { etag?: string } {
    let json: unknown;
    try {
      json = JSON.parse(joinedData(e));
    } catch {
      throw new ConnectorError('permanent', `${name} entity ${e.partitionKey}/${e.rowKey} holds invalid JSON`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new ConnectorError('permanent', `${name} entity ${e.partitionKey}/${e.rowKey} does not match its schema: ${parsed.error.issues[0]?.message ?? ''}`);
    return { ...(parsed.data as object), etag: e.etag } as z.infer<S> & { etag?: string };
  }

  /** Create when etag is undefined, else replace only if the etag still matches. Returns the new etag. */
  async function conditionalPut(name: string, row: Row, etag: string | undefined): Promise<string> {
    const client = await table(name);
    try {
      const entity = withDataParts(row);
      const res = etag === undefined ? await client.createEntity(entity) : await client.updateEntity(entity, 'Replace', { etag });
      if (!res.etag) throw new ConnectorError('transient', `write ${name}: the service returned no etag`);
      return res.etag;
    } catch (e) {
      throw storageError(e, `${etag === undefined ? 'create' : 'update'} ${name} ${row.partitionKey}/${row.rowKey}`);
    }
  }

  async function upsert(name: string, row: Row): Promise<void> {
    const client = await table(name);
    try {
      await client.upsertEntity(withDataParts(row), 'Replace');
    } catch (e) {
      throw storageError(e, `upsert ${name} ${row.partitionKey}/${row.rowKey}`);
    }
  }

  /**
   * Upserts many rows: one entity-group transaction per partition and 100 rows (the service's limit), instead of a
   * round trip per row. A reconcile that re-read thousands of targets writes their ledger rows this way.
   */
  async function upsertAll(name: string, rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    const client = await table(name);
    // One row per key, the last given (a transaction refuses a key twice; the memory registry keeps the last too).
    const byPartition = new Map<string, Map<string, Row>>();
    for (const r of rows) {
      let m = byPartition.get(r.partitionKey);
      if (!m) byPartition.set(r.partitionKey, (m = new Map()));
      m.set(r.rowKey, withDataParts(r));
    }
    for (const [pk, keyed] of byPartition) {
      const group = [...keyed.values()];
      for (let i = 0; i < group.length; i += TRANSACTION_ROWS) {
        try {
          await client.submitTransaction(group.slice(i, i + TRANSACTION_ROWS).map((r) => ['upsert', r, 'Replace'] as const));
        } catch (e) {
          throw storageError(e, `upsert ${group.length} rows into ${name} ${pk}`);
        }
      }
    }
  }

  async function remove(name: string, pk: string, rk: string): Promise<void> {
    const client = await table(name);
    try {
      await client.deleteEntity(pk, rk);
    } catch (e) {
      const ce = storageError(e, `delete ${name} ${pk}/${rk}`);
      if (ce.kind !== 'not-found') throw ce;
    }
  }

  const strip = <T extends { etag?: string }>(v: T): Omit<T, 'etag'> => {
    const { etag: _etag, ...rest } = v;
    return rest;
  };

  return {
    async getTenant(tenantId) {
      const client = await table(names.tenants);
      try {
        return decode(tenantRecordSchema, await client.getEntity<Row>('tenant', tenantId), names.tenants);
      } catch (e) {
        const ce = storageError(e, `get tenant ${tenantId}`);
        if (ce.kind === 'not-found') return undefined;
        throw ce;
      }
    },
    async listTenants(opts) {
      const all = await list(names.tenants, tenantRecordSchema, odata`PartitionKey eq ${'tenant'}`);
      return all.filter((t) => opts?.includeOffboarded || t.status !== 'offboarded');
    },
    async putTenant(record) {
      const data = strip(record);
      const etag = await conditionalPut(names.tenants, { partitionKey: 'tenant', rowKey: record.tenantId, status: record.status, data: JSON.stringify(data) }, record.etag);
      return { ...data, etag };
    },
    async listHubs(tenantId) {
      return (await list(names.hubs, hubAssignmentSchema, tenantId === undefined ? undefined : odata`PartitionKey eq ${tenantId}`)).map((h) => strip(h) as HubAssignment);
    },
    async putHub(hub) {
      await upsert(names.hubs, { partitionKey: hub.tenantId, rowKey: hub.region, namespace: hub.namespace, data: JSON.stringify(hub) });
    },
    async deleteHub(tenantId, region) {
      await remove(names.hubs, tenantId, region);
    },
    async listNamespaces(region) {
      return list(names.namespaces, namespaceRecordSchema, region === undefined ? undefined : odata`PartitionKey eq ${region}`);
    },
    async putNamespace(ns) {
      const data = strip(ns);
      const etag = await conditionalPut(names.namespaces, { partitionKey: ns.region, rowKey: ns.namespace, hubCount: ns.hubCount, data: JSON.stringify(data) }, ns.etag);
      return { ...data, etag };
    },
    async listIngestApps() {
      return list(names.ingestApps, ingestAppRecordSchema, odata`PartitionKey eq ${'app'}`);
    },
    async putIngestApp(app) {
      const data = strip(app);
      const etag = await conditionalPut(names.ingestApps, { partitionKey: 'app', rowKey: app.name, hubCount: app.hubs.length, data: JSON.stringify(data) }, app.etag);
      return { ...data, etag };
    },
    async listCoverage(tenantId) {
      return (await list(names.coverage, coverageEntrySchema, odata`PartitionKey eq ${tenantId}`)).map((c) => strip(c) as CoverageEntry);
    },
    async putCoverage(tenantId, entries, opts) {
      // One read of the tenant's partition, then writes only for rows that changed: a converged tenant's run
      // writes nothing instead of one upsert per export target.
      const stored = new Map<string, string>();
      const client = await table(names.coverage);
      try {
        // Whole rows: a record stored in parts (data, data1, …) compares and parses only joined.
        for await (const e of client.listEntities<Row>({ queryOptions: { filter: odata`PartitionKey eq ${tenantId}` } })) {
          stored.set(e.rowKey, joinedData(e));
        }
      } catch (e) {
        throw storageError(e, `list ${names.coverage} ${tenantId}`);
      }
      const keep = new Set<string>();
      const changed: Row[] = [];
      for (const e of entries) {
        const rowKey = rowKeyOf(coverageKey(e));
        keep.add(rowKey);
        const data = JSON.stringify(coverageEntrySchema.parse(e)); // canonical key order, so equal entries compare equal
        if (stored.get(rowKey) !== data) changed.push({ partitionKey: tenantId, rowKey, state: e.state, data });
      }
      await upsertAll(names.coverage, changed);
      const replaced = new Set((opts?.replaceSubscriptions ?? []).map((s) => s.toLowerCase()));
      if (!opts?.replaceAll && replaced.size === 0) return;
      for (const [rowKey, data] of stored) {
        if (keep.has(rowKey)) continue;
        const sub = coverageSubscriptionOf(data);
        if (opts?.replaceAll || (sub !== undefined && replaced.has(sub))) await remove(names.coverage, tenantId, rowKey);
      }
    },
    async listChangeMarks(tenantId) {
      return (await list(names.changeFeed, changeMarkSchema, odata`PartitionKey eq ${tenantId}`)).map((m) => strip(m) as ChangeMark);
    },
    async putChangeMarks(tenantId, marks) {
      await upsertAll(
        names.changeFeed,
        marks.map((m) => ({ partitionKey: tenantId, rowKey: m.subscriptionId.toLowerCase(), data: JSON.stringify(changeMarkSchema.parse({ ...m, tenantId })) })),
      );
    },
    async listOperations(tenantId) {
      return list(names.operations, onboardingOperationSchema, odata`PartitionKey eq ${tenantId}`) as Promise<OnboardingOperation[]>;
    },
    async putOperation(op) {
      const data = strip(op);
      const etag = await conditionalPut(names.operations, { partitionKey: op.tenantId, rowKey: op.operationId, status: op.status, data: JSON.stringify(data) }, op.etag);
      return { ...data, etag };
    },
    async listKnownSubscriptions(tenantId) {
      return (await list(names.subscriptions, knownSubscriptionSchema, odata`PartitionKey eq ${tenantId}`)).map((k) => strip(k) as KnownSubscription);
    },
    async putKnownSubscriptions(tenantId, subscriptions, opts) {
      const rows = subscriptions.map((k) => {
        const sub = k.subscriptionId.toLowerCase();
        return { partitionKey: tenantId, rowKey: sub, data: JSON.stringify(knownSubscriptionSchema.parse({ ...k, tenantId, subscriptionId: sub })) };
      });
      await upsertAll(names.subscriptions, rows);
      const keep = new Set(rows.map((r) => r.rowKey));
      const candidates = opts.replaceAll ? (await list(names.subscriptions, knownSubscriptionSchema, odata`PartitionKey eq ${tenantId}`)).map((k) => k.subscriptionId) : (opts.replaceSubscriptions ?? []).map((s) => s.toLowerCase());
      for (const sub of candidates) if (!keep.has(sub)) await remove(names.subscriptions, tenantId, sub);
    },
    async listLastSeen(tenantId) {
      return (await list(names.lastSeen, lastSeenSchema, odata`PartitionKey eq ${tenantId}`)).map((l) => strip(l) as LastSeen);
    },
    async listPartitionProgress(tenantId) {
      return (await list(names.ingestProgress, partitionProgressSchema, odata`PartitionKey eq ${tenantId}`)).map((p) => strip(p) as PartitionProgress);
    },
    async recordPartitionProgress(entries) {
      await upsertAll(
        names.ingestProgress,
        entries.map((p) => ({ partitionKey: p.tenantId, rowKey: rowKeyOf(`${p.namespace}|${p.hub}|${p.partitionId}`), data: JSON.stringify(partitionProgressSchema.parse(p)) })),
      );
    },
    async recordLastSeen(entries) {
      const client = await table(names.lastSeen);
      for (const next of entries) {
        const rk = rowKeyOf(`${next.source}|${next.category}`);
        // Read-merge-write with etag; several ingest instances record the same key concurrently.
        for (let attempt = 0; ; attempt++) {
          let current: (LastSeen & { etag?: string }) | undefined;
          try {
            current = decode(lastSeenSchema, await client.getEntity<Row>(next.tenantId, rk), names.lastSeen);
          } catch (e) {
            if (storageError(e, 'get last-seen').kind !== 'not-found') throw storageError(e, 'get last-seen');
          }
          const merged = mergeLastSeen(current && (strip(current) as LastSeen), next);
          try {
            await conditionalPut(names.lastSeen, { partitionKey: next.tenantId, rowKey: rk, data: JSON.stringify(merged) }, current?.etag);
            break;
          } catch (e) {
            if (!isConflict(e) || attempt >= 9) throw e;
          }
        }
      }
    },
  };
}

/** The subscription of a stored coverage row (its `data` JSON), lowercased; undefined when unreadable. */
function coverageSubscriptionOf(data: string): string | undefined {
  try {
    const sub = (JSON.parse(data) as { subscriptionId?: unknown }).subscriptionId;
    return typeof sub === 'string' ? sub.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}
