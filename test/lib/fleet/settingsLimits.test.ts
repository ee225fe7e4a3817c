import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ingestBindingSchema, ingestBindingsSchema } from '../../../src/lib/config/ingestBindings.js';
import { envSchema } from '../../../src/lib/config/settings.js';
import { envStringBytes, MAX_ENV_STRING_BYTES, maxBindingsPerSetting, settingsSize, worstCaseBinding } from '../../../src/lib/fleet/settingsLimits.js';
import { namespaceNameFor } from '../../../src/lib/onboarding/namespacePool.js';
import { hubNameFor } from '../../../src/lib/onboarding/provisionTenantHub.js';
import { connectionNameFor } from '../../../src/lib/registry/bindingsFromRegistry.js';

/** Starts `node -e 0` with one environment variable whose `NAME=value` string is `bytes` long with its NUL. */
function startsWithEnvString(bytes: number): boolean {
  const name = 'MDR_PROBE';
  const value = 'x'.repeat(bytes - name.length - 2);
  const r = spawnSync(process.execPath, ['-e', '0'], { env: { PATH: process.env.PATH ?? '', [name]: value } });
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'E2BIG') throw r.error;
  return r.status === 0;
}

describe('the settings size limit of an ingest app', () => {
  it.runIf(process.platform === 'linux')('is what this Linux kernel enforces: an environment string of MAX_ENV_STRING_BYTES starts a process, one byte more does not', () => {
    expect(startsWithEnvString(MAX_ENV_STRING_BYTES)).toBe(true);
    expect(startsWithEnvString(MAX_ENV_STRING_BYTES + 1)).toBe(false);
  });

  it('counts a setting as NAME=value plus its NUL, in UTF-8 bytes', () => {
    expect(envStringBytes('A', 'é')).toBe(5);
    expect(settingsSize({ A: 'bc', LONGER: 'xyz' })).toEqual({ largest: { name: 'LONGER', bytes: 11 }, totalBytes: 16 });
  });

  it('builds the worst-case binding from the longest names the app can produce, and the schema accepts it', () => {
    const w = worstCaseBinding();
    expect(ingestBindingSchema.parse(w)).toEqual(w);
    // namespace names are cut to 50 characters; hub names are <prefix>-<tenantId> with a prefix of at most 12
    expect(w.namespace.length).toBe(namespaceNameFor('a'.repeat(31), 'australiasoutheast', 99).length);
    expect(w.hub.length).toBe(hubNameFor('p'.repeat(12), w.tenantId).length);
    expect(w.connection).toBe(connectionNameFor(w.namespace));
  });

  it('fits the largest shard the settings allow (MDR_INGEST_APP_MAX_HUBS ≤ 360) into one environment string, even with worst-case bindings', () => {
    const max = envSchema.shape.MDR_INGEST_APP_MAX_HUBS.safeParse('361');
    expect(max.success).toBe(false);
    expect(envSchema.shape.MDR_INGEST_APP_MAX_HUBS.parse('360')).toBe(360);
    expect(maxBindingsPerSetting()).toBeGreaterThanOrEqual(360);
    const bindings = Array.from({ length: 360 }, () => worstCaseBinding());
    const value = JSON.stringify(ingestBindingsSchema.parse(bindings));
    expect(envStringBytes('MDR_INGEST_BINDINGS', value)).toBeLessThanOrEqual(MAX_ENV_STRING_BYTES);
    const over = JSON.stringify(Array.from({ length: maxBindingsPerSetting() + 1 }, () => worstCaseBinding()));
    expect(envStringBytes('MDR_INGEST_BINDINGS', over)).toBeGreaterThan(MAX_ENV_STRING_BYTES);
  });
});
