import { z } from 'zod';
import { LOWERCASE_GUID_PATTERN } from '../guid.js';

/**
 * One Event Hub the ingest side listens to: a tenant's hub in one region. The list is derived from the
 * tenant registry (see registry/bindingsFromRegistry) and stored in the MDR_INGEST_BINDINGS app setting,
 * so registry and triggers cannot disagree.
 *
 * `connection` is the prefix of an identity-based connection: the app also carries
 * `<connection>__fullyQualifiedNamespace` = `<namespace>.servicebus.windows.net`.
 */
export const ingestBindingSchema = z.object({
  tenantId: z.string().regex(LOWERCASE_GUID_PATTERN, 'expected a lowercase GUID'),
  region: z.string().regex(/^[a-z0-9]{2,40}$/, 'expected an Azure region name such as westeurope'),
  namespace: z.string().regex(/^[a-zA-Z][a-zA-Z0-9-]{4,48}[a-zA-Z0-9]$/, 'expected an Event Hubs namespace name'),
  hub: z.string().regex(/^[\w.-]{1,256}$/, 'expected an event hub name'),
  consumerGroup: z.string().regex(/^[\w.$-]{1,50}$/, 'expected a consumer group name'),
  connection: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an app-setting prefix (letters, digits, _)'),
});
export type IngestBinding = z.infer<typeof ingestBindingSchema>;

export const ingestBindingsSchema = z.array(ingestBindingSchema).max(1000);

/** Function name for a binding's trigger: stable, unique per (tenant, region), valid for the Functions host. */
export function ingestFunctionName(b: Pick<IngestBinding, 'tenantId' | 'region'>): string {
  return `ingest-${b.tenantId.replace(/-/g, '')}-${b.region}`;
}
