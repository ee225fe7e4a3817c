import { ConnectorError } from '../errors.js';
import type { TenantRegistry } from './tenantRegistry.js';
import { coverageKey, type ChangeMark, type CoverageEntry, type HubAssignment, type IngestAppRecord, type KnownSubscription, type LastSeen, type NamespaceRecord, type OnboardingOperation, type PartitionProgress, type TenantRecord } from './types.js';
import { mergeLastSeen } from './mergeLastSeen.js';

/**
 * In-memory TenantRegistry for unit tests: same semantics as the table registry, including etag conflicts
 * (create of an existing key and replace with a stale etag both raise ConnectorError 'conflict').
 */
export function createMemoryRegistry(): TenantRegistry {
  let seq = 0;
  const nextEtag = () => `W/"mem-${++seq}"`;
  const tenants = new Map<string, TenantRecord>();
  const hubs = new Map<string, HubAssignment>();
  const namespaces = new Map<string, NamespaceRecord>();
  const coverage = new Map<string, Map<string, CoverageEntry>>();
  const changeMarks = new Map<string, ChangeMark>();
  const lastSeen = new Map<string, LastSeen>();
  const operations = new Map<string, OnboardingOperation>();
  const known = new Map<string, Map<string, KnownSubscription>>();
  const progress = new Map<string, PartitionProgress>();
  const ingestApps = new Map<string, IngestAppRecord>();
  const clone = <T>(v: T): T => structuredClone(v);

  function conditionalPut<T extends { etag?: string }>(map: Map<string, T>, key: string, value: T, what: string): T {
    const current = map.get(key);
    if (value.etag === undefined) {
      if (current) throw new ConnectorError('conflict', `${what} ${key} already exists`, { statusCode: 409 });
    } else if (!current) {
      // As Table storage answers a conditional replace of a missing entity: ResourceNotFound, not a conflict.
      throw new ConnectorError('not-found', `${what} ${key} does not exist (replace with an etag)`, { statusCode: 404 });
    } else if (current.etag !== value.etag) {
      throw new ConnectorError('conflict', `${what} ${key} was changed by someone else (etag mismatch)`, { statusCode: 412 });
    }
    const stored = { ...clone(value), etag: nextEtag() };
    map.set(key, stored);
    return clone(stored);
  }

  return {
    async getTenant(id) {
      const t = tenants.get(id);
      return t && clone(t);
    },
    async listTenants(opts) {
      return [...tenants.values()].filter((t) => opts?.includeOffboarded || t.status !== 'offboarded').map(clone);
    },
    async putTenant(record) {
      return conditionalPut(tenants, record.tenantId, record, 'tenant');
    },
    async listHubs(tenantId) {
      return [...hubs.values()].filter((h) => tenantId === undefined || h.tenantId === tenantId).map(clone);
    },
    async putHub(hub) {
      hubs.set(`${hub.tenantId}|${hub.region}`, clone(hub));
    },
    async deleteHub(tenantId, region) {
      hubs.delete(`${tenantId}|${region}`);
    },
    async listNamespaces(region) {
      return [...namespaces.values()].filter((n) => region === undefined || n.region === region).map(clone);
    },
    async putNamespace(ns) {
      return conditionalPut(namespaces, `${ns.region}|${ns.namespace}`, ns, 'namespace');
    },
    async listIngestApps() {
      return [...ingestApps.values()].map(clone);
    },
    async putIngestApp(app) {
      return conditionalPut(ingestApps, app.name, app, 'ingest app');
    },
    async listCoverage(tenantId) {
      return [...(coverage.get(tenantId)?.values() ?? [])].map(clone);
    },
    async putCoverage(tenantId, entries, opts) {
      const m = opts?.replaceAll ? new Map<string, CoverageEntry>() : (coverage.get(tenantId) ?? new Map<string, CoverageEntry>());
      const replaced = new Set((opts?.replaceSubscriptions ?? []).map((s) => s.toLowerCase()));
      for (const [k, e] of m) if (replaced.has(e.subscriptionId.toLowerCase())) m.delete(k);
      for (const e of entries) m.set(coverageKey(e), clone(e));
      coverage.set(tenantId, m);
    },
    async listChangeMarks(tenantId) {
      return [...changeMarks.values()].filter((m) => m.tenantId === tenantId).map(clone);
    },
    async putChangeMarks(tenantId, marks) {
      for (const m of marks) changeMarks.set(`${tenantId}|${m.subscriptionId.toLowerCase()}`, clone({ ...m, tenantId }));
    },
    async listOperations(tenantId) {
      return [...operations.values()].filter((o) => o.tenantId === tenantId).map(clone);
    },
    async putOperation(op) {
      return conditionalPut(operations, `${op.tenantId}|${op.operationId}`, op, 'operation');
    },
    async listKnownSubscriptions(tenantId) {
      return [...(known.get(tenantId)?.values() ?? [])].map(clone);
    },
    async putKnownSubscriptions(tenantId, subscriptions, opts) {
      const m = opts.replaceAll ? new Map<string, KnownSubscription>() : (known.get(tenantId) ?? new Map<string, KnownSubscription>());
      for (const s of opts.replaceSubscriptions ?? []) m.delete(s.toLowerCase());
      for (const s of subscriptions) m.set(s.subscriptionId.toLowerCase(), clone({ ...s, tenantId, subscriptionId: s.subscriptionId.toLowerCase() }));
      known.set(tenantId, m);
    },
    async listLastSeen(tenantId) {
      return [...lastSeen.values()].filter((l) => l.tenantId === tenantId).map(clone);
    },
    async recordLastSeen(entries) {
      for (const e of entries) {
        const key = `${e.tenantId}|${e.source}|${e.category}`;
        lastSeen.set(key, mergeLastSeen(lastSeen.get(key), e));
      }
    },
    async listPartitionProgress(tenantId) {
      return [...progress.values()].filter((p) => p.tenantId === tenantId).map(clone);
    },
    async recordPartitionProgress(entries) {
      for (const p of entries) progress.set(`${p.tenantId}|${p.namespace}|${p.hub}|${p.partitionId}`, clone(p));
    },
  };
}
