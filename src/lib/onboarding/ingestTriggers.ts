import { ingestFunctionName, type IngestBinding } from '../config/ingestBindings.js';
import type { Settings } from '../config/settings.js';
import { FQNS_SUFFIX } from '../registry/bindingsFromRegistry.js';

/** What the load-time registration loop passes to `app.eventHub` for one (tenant, region) hub. */
export interface IngestTriggerSpec {
  functionName: string;
  /** App-setting prefix of the identity-based connection (`<connection>__fullyQualifiedNamespace`). */
  connection: string;
  eventHubName: string;
  consumerGroup: string;
  tenantId: string;
  region: string;
  /** Value of `<connection>__fullyQualifiedNamespace` in the app's environment. */
  fullyQualifiedNamespace: string;
  /** The binding the trigger was made from (the ingest handler attributes records to its tenant). */
  binding: IngestBinding;
}

/**
 * Trigger specs from the parsed MDR_INGEST_BINDINGS. A binding whose connection setting is absent from `env` is
 * left out (the host would fail that trigger and every other one with it) and reported through `onMissing`.
 */
export function ingestTriggers(
  settings: Pick<Settings, 'ingest'>,
  env: Record<string, string | undefined>,
  onMissing: (functionName: string, setting: string) => void = () => {},
): IngestTriggerSpec[] {
  const out: IngestTriggerSpec[] = [];
  const seen = new Set<string>();
  for (const b of settings.ingest.bindings) {
    const functionName = ingestFunctionName(b);
    if (seen.has(functionName)) continue; // the worker rejects duplicate registrations
    seen.add(functionName);
    const setting = `${b.connection}${FQNS_SUFFIX}`;
    const fqns = env[setting];
    if (!fqns) {
      onMissing(functionName, setting);
      continue;
    }
    out.push({ functionName, connection: b.connection, eventHubName: b.hub, consumerGroup: b.consumerGroup, tenantId: b.tenantId, region: b.region, fullyQualifiedNamespace: fqns, binding: b });
  }
  return out;
}
