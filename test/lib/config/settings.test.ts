import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../../src/lib/config/settings.js';
import { ConfigError } from '../../../src/lib/errors.js';
import { consumerGroupsPerHub, hubTierViolations } from '../../../src/lib/config/eventHubTiers.js';

const base = {
  MDR_PROVIDER_TENANT_ID: '11111111-1111-1111-1111-111111111111',
  MDR_PROVIDER_SUBSCRIPTION_ID: '22222222-2222-2222-2222-222222222222',
  MDR_INGEST_PRINCIPAL_ID: '33333333-3333-3333-3333-333333333333',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
};

function errorOf(env: Record<string, string>): ConfigError {
  try {
    parseSettings(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('parseSettings', () => {
  it('applies documented defaults when only the required settings are present', () => {
    const s = parseSettings(base);
    expect(s.cloud).toEqual({ name: 'AzureCloud', armEndpoint: 'https://management.azure.com', authorityHost: 'https://login.microsoftonline.com', eventHubsSuffix: 'servicebus.windows.net', storageSuffix: 'core.windows.net' });
    expect(s.provider.automationResourceGroup).toBe('MDRAutomation');
    expect(s.pool.tier).toBe('Standard');
    expect(s.reconcile.schedule).toBe('0 */15 * * * *');
    expect(s.ingest.bindings).toEqual([]);
  });

  it('keeps OCSF unmapped unless MDR_INGEST_UNMAPPED=omit, and rejects anything else with the accepted values', () => {
    expect(parseSettings(base).ingest.unmapped).toBe('keep');
    expect(parseSettings({ ...base, MDR_INGEST_UNMAPPED: 'omit' }).ingest.unmapped).toBe('omit');
    expect(errorOf({ ...base, MDR_INGEST_UNMAPPED: 'drop' }).message).toMatch(/MDR_INGEST_UNMAPPED[\s\S]*keep[\s\S]*omit/);
  });

  it('compresses event blobs with gzip level 1 unless told otherwise, and refuses a level outside 1-9', () => {
    expect(parseSettings(base).ingest.compression).toEqual({ kind: 'gzip', level: 1 });
    expect(parseSettings({ ...base, MDR_INGEST_GZIP_LEVEL: '6' }).ingest.compression).toEqual({ kind: 'gzip', level: 6 });
    expect(parseSettings({ ...base, MDR_INGEST_COMPRESSION: 'none' }).ingest.compression).toEqual({ kind: 'none' });
    expect(errorOf({ ...base, MDR_INGEST_GZIP_LEVEL: '0' }).message).toMatch(/MDR_INGEST_GZIP_LEVEL is invalid: expected a whole number from 1 to 9/);
    expect(errorOf({ ...base, MDR_INGEST_COMPRESSION: 'brotli' }).message).toMatch(/MDR_INGEST_COMPRESSION is invalid/);
  });

  it('names a missing required setting and what it expects, on one line', () => {
    const { MDR_PROVIDER_TENANT_ID: _omit, ...env } = base;
    const e = errorOf(env);
    expect(e.message).toContain('MDR_PROVIDER_TENANT_ID is missing');
    expect(e.message).toContain('GUID');
    expect(e.message).not.toContain('\n');
  });

  it('names a malformed setting and the accepted range', () => {
    const e = errorOf({ ...base, MDR_EH_PARTITION_COUNT: 'lots' });
    expect(e.message).toMatch(/MDR_EH_PARTITION_COUNT is invalid: expected a whole number from 1 to 100/);
  });

  it("refuses hub settings the pool's tier would reject, naming the setting and the tier's limit", () => {
    // Microsoft docs, Event Hubs quotas: Standard keeps events 7 days and has 32 partitions per hub; Premium 90 days, 100.
    expect(errorOf({ ...base, MDR_EH_RETENTION_HOURS: '169' }).message).toBe(
      "Invalid app settings: MDR_EH_RETENTION_HOURS is invalid: 169 hours exceeds the Standard tier's limit of 168 hours (7 days); Premium allows 2160 hours",
    );
    expect(errorOf({ ...base, MDR_EH_PARTITION_COUNT: '33' }).message).toBe(
      "Invalid app settings: MDR_EH_PARTITION_COUNT is invalid: 33 partitions exceeds the Standard tier's limit of 32 per event hub; Premium allows 100 partitions",
    );
    // Both at once, on one line.
    const both = errorOf({ ...base, MDR_EH_RETENTION_HOURS: '720', MDR_EH_PARTITION_COUNT: '64' }).message;
    expect(both).toMatch(/MDR_EH_RETENTION_HOURS is invalid: 720 hours .*; MDR_EH_PARTITION_COUNT is invalid: 64 partitions /);
    expect(both).not.toContain('\n');
    // What Standard refuses, Premium takes; Premium's own limits still hold.
    expect(parseSettings({ ...base, MDR_EH_POOL_TIER: 'Premium', MDR_EH_RETENTION_HOURS: '2160', MDR_EH_PARTITION_COUNT: '100' }).pool).toMatchObject({ tier: 'Premium', retentionHours: 2160, partitionCount: 100 });
    expect(errorOf({ ...base, MDR_EH_POOL_TIER: 'Premium', MDR_EH_PARTITION_COUNT: '101' }).message).toMatch(/MDR_EH_PARTITION_COUNT is invalid: expected a whole number from 1 to 100/);
    expect(parseSettings({ ...base, MDR_EH_RETENTION_HOURS: '168', MDR_EH_PARTITION_COUNT: '32' }).pool).toMatchObject({ retentionHours: 168, partitionCount: 32 });
  });

  it("counts the hub's consumer groups against the tier: $Default plus the ingest group", () => {
    expect(consumerGroupsPerHub('mdr-ingest')).toEqual(['$Default', 'mdr-ingest']);
    expect(consumerGroupsPerHub('$Default')).toEqual(['$Default']);
    const groups = Array.from({ length: 21 }, (_, i) => `g${i}`);
    expect(hubTierViolations('Standard', { partitionCount: 4, retentionHours: 168, consumerGroups: groups })).toEqual([
      "MDR_EH_CONSUMER_GROUP is invalid: each hub would hold 21 consumer groups (g0, g1, g2, g3, g4, g5, g6, g7, g8, g9, g10, g11, g12, g13, g14, g15, g16, g17, g18, g19, g20), over the Standard tier's limit of 20; Premium allows 100 consumer groups",
    ]);
    expect(hubTierViolations('Premium', { partitionCount: 4, retentionHours: 168, consumerGroups: groups })).toEqual([]);
  });

  it('reports every bad setting at once', () => {
    const e = errorOf({ ...base, MDR_EH_POOL_TIER: 'Gold', MDR_RECONCILE_SCHEDULE: 'every 5 minutes' });
    expect(e.message).toContain('MDR_EH_POOL_TIER');
    expect(errorOf({ ...base, MDR_EH_POOL_TIER: 'Dedicated' }).message).toMatch(/MDR_EH_POOL_TIER.*Dedicated needs an Event Hubs cluster/);
    expect(e.message).toContain('MDR_RECONCILE_SCHEDULE');
  });

  it('selects sovereign clouds and requires endpoints for a custom cloud', () => {
    expect(parseSettings({ ...base, MDR_AZURE_CLOUD: 'AzureUSGovernment' }).cloud.armEndpoint).toBe('https://management.usgovcloudapi.net');
    expect(parseSettings({ ...base, MDR_AZURE_CLOUD: 'AzureChinaCloud' }).cloud.authorityHost).toBe('https://login.chinacloudapi.cn');
    expect(errorOf({ ...base, MDR_AZURE_CLOUD: 'Custom' }).message).toContain('MDR_ARM_ENDPOINT is missing');
    const custom = parseSettings({ ...base, MDR_AZURE_CLOUD: 'Custom', MDR_ARM_ENDPOINT: 'https://127.0.0.1:8443/', MDR_AUTHORITY_HOST: 'https://login.example' });
    expect(custom.cloud.armEndpoint).toBe('https://127.0.0.1:8443');
  });

  it('rejects a plain-http ARM endpoint because bearer tokens need TLS', () => {
    expect(errorOf({ ...base, MDR_AZURE_CLOUD: 'Custom', MDR_ARM_ENDPOINT: 'http://127.0.0.1:8080', MDR_AUTHORITY_HOST: 'https://x.example' }).message).toContain(
      'MDR_ARM_ENDPOINT is invalid: expected an https:// URL',
    );
  });

  it('requires a storage connection', () => {
    const { AzureWebJobsStorage: _omit, ...env } = base;
    expect(errorOf(env).message).toContain('AzureWebJobsStorage is missing');
    expect(parseSettings({ ...env, AzureWebJobsStorage__accountName: 'mdrstore' }).storage.accountName).toBe('mdrstore');
  });

  it('validates ingest bindings item by item', () => {
    const good = { tenantId: 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', region: 'westeurope', namespace: 'mdr-ingest-westeurope-001', hub: 'mdr-aaaa', consumerGroup: 'mdr-ingest', connection: 'MDR_EH_WESTEUROPE_001' };
    expect(parseSettings({ ...base, MDR_INGEST_BINDINGS: JSON.stringify([good]) }).ingest.bindings).toHaveLength(1);
    expect(errorOf({ ...base, MDR_INGEST_BINDINGS: 'not json' }).message).toContain('MDR_INGEST_BINDINGS is invalid: expected a JSON array');
    expect(errorOf({ ...base, MDR_INGEST_BINDINGS: JSON.stringify([{ ...good, tenantId: 'nope' }]) }).message).toMatch(/MDR_INGEST_BINDINGS is invalid: item 0\.tenantId/);
  });
});

describe('fleet settings', () => {
  const site = (n: string) => `/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/mdr-app/providers/Microsoft.Web/sites/${n}`;

  it('default to one app doing everything, its own ingest app when it knows its id, and none otherwise', () => {
    expect(parseSettings(base).fleet).toEqual({ role: 'all', ingestApps: [], maxHubsPerApp: 100, settingsSync: 'auto' });
    expect(parseSettings({ ...base, MDR_FUNCTION_APP_RESOURCE_ID: site('one') }).fleet.ingestApps).toEqual([site('one')]);
    const fleet = parseSettings({ ...base, MDR_APP_ROLE: 'control', MDR_FUNCTION_APP_RESOURCE_ID: site('one'), MDR_INGEST_APPS: ` ${site('a')}, ${site('b')} `, MDR_INGEST_SETTINGS_SYNC: 'manual' }).fleet;
    expect(fleet).toEqual({ role: 'control', ingestApps: [site('a'), site('b')], maxHubsPerApp: 100, settingsSync: 'manual' });
  });

  it('name a bad role, a list entry that is no Function App id, the same app twice, and a shard over the settings limit', () => {
    expect(errorOf({ ...base, MDR_APP_ROLE: 'worker' }).message).toMatch(/MDR_APP_ROLE is invalid: expected 'all', 'control' or 'ingest'/);
    expect(errorOf({ ...base, MDR_INGEST_APPS: `${site('a')},not-an-id` }).message).toMatch(/MDR_INGEST_APPS is invalid: .*'not-an-id' is not one/);
    expect(errorOf({ ...base, MDR_INGEST_APPS: `${site('a')},${site('A')}` }).message).toMatch(/MDR_INGEST_APPS is invalid: expected each ingest app once/);
    expect(errorOf({ ...base, MDR_INGEST_APP_MAX_HUBS: '361' }).message).toMatch(/MDR_INGEST_APP_MAX_HUBS is invalid: expected a whole number from 1 to 360/);
  });
});

/** Found in review (2026-12-03): both settings accepted values that only failed later, far from where they were set. */
describe('settings that used to pass unchecked', () => {
  it('MDR_EH_POOL_REGIONS: names are normalized; unknown or repeated ones stop the app naming the setting', () => {
    expect(parseSettings({ ...base, MDR_EH_POOL_REGIONS: 'West Europe, northeurope' }).pool.regions).toEqual(['westeurope', 'northeurope']);
    expect(errorOf({ ...base, MDR_EH_POOL_REGIONS: 'westeurop' }).message).toMatch(/MDR_EH_POOL_REGIONS.*unknown Azure region\(s\) westeurop/);
    expect(errorOf({ ...base, MDR_EH_POOL_REGIONS: 'westeurope,West Europe' }).message).toMatch(/MDR_EH_POOL_REGIONS.*must not repeat/);
  });

  it('MDR_RECONCILE_SCHEDULE / MDR_HEALTH_SCHEDULE: six NCRONTAB fields, each in its range', () => {
    for (const ok of ['0 */15 * * * *', '0 0 9-17 * * MON-FRI', '30 5 0 1,15 JAN-MAR,DEC 0-6', '0 0 */2 * * *']) expect(parseSettings({ ...base, MDR_RECONCILE_SCHEDULE: ok }).reconcile.schedule).toBe(ok);
    for (const [bad, why] of [
      ['every five minutes past the hour', /second field 'every'/],
      ['0 */15 * * * MON-FRY', /day-of-week field/],
      ['99 99 99 99 99 99', /second field '99' is outside 0-59/],
      ['0 */15 * * *', /has 5 fields/],
      ['0 */0 * * * *', /steps by 0/],
    ] as const) expect(errorOf({ ...base, MDR_HEALTH_SCHEDULE: bad }).message, bad).toMatch(new RegExp(`MDR_HEALTH_SCHEDULE.*${why.source}`));
  });

  it('MDR_EH_POOL_CAPACITY on Premium: 1, 2, 4, 8 or 16 processing units', () => {
    expect(parseSettings({ ...base, MDR_EH_POOL_TIER: 'Premium', MDR_EH_POOL_CAPACITY: '16' }).pool.capacity).toBe(16);
    expect(errorOf({ ...base, MDR_EH_POOL_TIER: 'Premium', MDR_EH_POOL_CAPACITY: '40' }).message).toMatch(/MDR_EH_POOL_CAPACITY is invalid: 40 processing units/);
    expect(parseSettings({ ...base, MDR_EH_POOL_CAPACITY: '40' }).pool.capacity).toBe(40);
  });
});

