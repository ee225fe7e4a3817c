import type { IngestBinding } from '../config/ingestBindings.js';
import type { HubAssignment, NamespaceRecord } from './types.js';

/** App-setting prefix of every namespace connection this app owns; stale ones with this prefix are removed. */
export const NAMESPACE_CONNECTION_PREFIX = 'MDR_EHNS_';
export const FQNS_SUFFIX = '__fullyQualifiedNamespace';

/** Identity-based connection name for a namespace: `MDR_EHNS_<NAMESPACE>` (letters, digits, _). */
export function connectionNameFor(namespace: string): string {
  return `${NAMESPACE_CONNECTION_PREFIX}${namespace.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** True for app settings this app manages (and may delete): MDR_INGEST_BINDINGS and our namespace connections. */
export function isOwnedIngestSetting(name: string): boolean {
  return name === 'MDR_INGEST_BINDINGS' || (name.startsWith(NAMESPACE_CONNECTION_PREFIX) && name.endsWith(FQNS_SUFFIX));
}

export interface IngestWiring {
  bindings: IngestBinding[];
  /** `MDR_INGEST_BINDINGS` plus one `<connection>__fullyQualifiedNamespace` per namespace with a hub. */
  appSettings: Record<string, string>;
}

/**
 * The one derivation of ingest triggers from the registry: every ready hub becomes a binding, every namespace
 * holding one gets an identity-based connection. Output is sorted so equal registries give equal settings.
 */
export function bindingsFromRegistry(hubs: readonly HubAssignment[], namespaces: readonly NamespaceRecord[], eventHubsSuffix: string): IngestWiring {
  const nsByName = new Map(namespaces.map((n) => [n.namespace, n]));
  const bindings: IngestBinding[] = hubs
    .filter((h) => h.state === 'ready' && nsByName.has(h.namespace))
    .map((h) => ({ tenantId: h.tenantId, region: h.region, namespace: h.namespace, hub: h.hub, consumerGroup: h.consumerGroup, connection: connectionNameFor(h.namespace) }))
    .sort((a, b) => a.tenantId.localeCompare(b.tenantId) || a.region.localeCompare(b.region));
  const appSettings: Record<string, string> = { MDR_INGEST_BINDINGS: JSON.stringify(bindings) };
  for (const ns of [...new Set(bindings.map((b) => b.namespace))].sort()) {
    appSettings[`${connectionNameFor(ns)}${FQNS_SUFFIX}`] = `${ns}.${eventHubsSuffix}`;
  }
  return { bindings, appSettings };
}
