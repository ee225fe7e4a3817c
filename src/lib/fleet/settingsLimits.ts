import { AZURE_REGIONS } from '../azure/regions.js';
import type { IngestBinding } from '../config/ingestBindings.js';
import { connectionNameFor } from '../registry/bindingsFromRegistry.js';

/**
 * Linux refuses to start a process when one argument or environment string, `NAME=value` with its terminating NUL,
 * is longer than MAX_ARG_STRLEN = 32 pages = 131,072 bytes (execve(2), "Limits on size of arguments and
 * environment"; test/lib/fleet/settingsLimits.test.ts measures it on the machine it runs on). App Service on
 * Linux hands app settings to the Functions host as environment variables, so MDR_INGEST_BINDINGS must fit.
 */
export const MAX_ENV_STRING_BYTES = 131_072;

/** Bytes one app setting occupies as an environment string (`NAME=value` and the NUL). */
export function envStringBytes(name: string, value: string): number {
  return Buffer.byteLength(`${name}=${value}`, 'utf8') + 1;
}

/** The largest environment string among `settings` (what MAX_ENV_STRING_BYTES limits) and the sum of all of them. */
export function settingsSize(settings: Record<string, string>): { largest: { name: string; bytes: number }; totalBytes: number } {
  let largest = { name: '', bytes: 0 };
  let totalBytes = 0;
  for (const [name, value] of Object.entries(settings)) {
    const bytes = envStringBytes(name, value);
    totalBytes += bytes;
    if (bytes > largest.bytes) largest = { name, bytes };
  }
  return { largest, totalBytes };
}

const longest = (xs: readonly string[]) => xs.reduce((a, b) => (b.length > a.length ? b : a), '');

/**
 * The longest binding this app's naming can produce: a GUID tenant, the longest Azure region name, a namespace at
 * the 50-character limit (namespacePool.namespaceNameFor cuts to it), a hub `<12-char prefix>-<tenantId>`, a
 * 50-character consumer group (the settings limit) and the connection name derived from that namespace.
 */
export function worstCaseBinding(): IngestBinding {
  const namespace = `a${'b'.repeat(49)}`;
  return {
    tenantId: 'ffffffff-ffff-4fff-bfff-ffffffffffff',
    region: longest(AZURE_REGIONS),
    namespace,
    hub: `${'p'.repeat(12)}-ffffffff-ffff-4fff-bfff-ffffffffffff`,
    consumerGroup: 'c'.repeat(50),
    connection: connectionNameFor(namespace),
  };
}

/** How many worst-case bindings fit in MDR_INGEST_BINDINGS under MAX_ENV_STRING_BYTES (the hard shard ceiling). */
export function maxBindingsPerSetting(): number {
  const one = Buffer.byteLength(JSON.stringify(worstCaseBinding()), 'utf8');
  const empty = envStringBytes('MDR_INGEST_BINDINGS', '[]');
  // n bindings: n × one bytes plus n − 1 commas inside the brackets.
  return Math.floor((MAX_ENV_STRING_BYTES - empty + 1) / (one + 1));
}
