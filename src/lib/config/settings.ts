import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { consumerGroupsPerHub, hubTierViolations } from './eventHubTiers.js';
import { ingestBindingsSchema } from './ingestBindings.js';
import { GUID_PATTERN, LOWERCASE_GUID_PATTERN } from '../guid.js';
import { appNameOf, SITE_ID_PATTERN } from '../azure/siteId.js';
import { isKnownRegion, normalizeRegion } from '../azure/regions.js';

/**
 * Every app setting the Function App reads, in one schema. Names are the app-setting names an operator
 * sets (`local.settings.json` locally, app settings in Azure); README "Settings" explains each one.
 */

const guid = z
  .string()
  .regex(GUID_PATTERN, 'expected a GUID like 00000000-0000-0000-0000-000000000000')
  .transform((s) => s.toLowerCase());

const bool = (dflt: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
    .default(dflt ? 'true' : 'false')
    .transform((s) => s === 'true' || s === '1' || s === 'yes');

const int = (dflt: number, min: number, max: number) =>
  z
    .string()
    .default(String(dflt))
    .transform((s, ctx) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `expected a whole number from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

const csv = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim().toLowerCase())
      .filter((x) => x.length > 0),
  );

/**
 * Six-field NCRONTAB as the Functions timer trigger expects ("{second} {minute} {hour} {day} {month} {day-of-week}",
 * Microsoft Learn, "Timer trigger for Azure Functions", NCRONTAB expressions): each field `*`, a value, a range `a-b`,
 * any of them stepped `/n`, or a comma list; months and weekdays also by their three-letter names. Checked here so a
 * bad schedule stops the app at start with the setting named, instead of a timer the host does not index.
 */
const NCRONTAB_FIELDS: readonly { name: string; min: number; max: number; names?: readonly string[] }[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day-of-week', min: 0, max: 6, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

export function ncrontabProblem(expr: string): string | undefined {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 6) return `has ${fields.length} fields, not 6`;
  for (let i = 0; i < 6; i++) {
    const f = NCRONTAB_FIELDS[i]!;
    const value = (v: string): number | undefined => {
      const byName = f.names?.indexOf(v.toUpperCase()) ?? -1;
      if (byName >= 0) return f.min + byName;
      return /^\d{1,2}$/.test(v) ? Number(v) : undefined;
    };
    for (const part of fields[i]!.split(',')) {
      const m = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d{1,2}))?$/.exec(part);
      if (!m) return `${f.name} field '${fields[i]}' is not *, a value, a range or a list`;
      if (m[2] !== undefined && Number(m[2]) === 0) return `${f.name} field '${fields[i]}' steps by 0`;
      if (m[1] === '*') continue;
      const ends = m[1]!.split('-');
      const from = value(ends[0]!);
      const to = ends.length > 1 ? value(ends[1]!) : from;
      if (from === undefined || to === undefined || from < f.min || to > f.max || from > to) return `${f.name} field '${fields[i]}' is outside ${f.min}-${f.max}${f.names ? ` (or ${f.names[0]}-${f.names.at(-1)})` : ''}`;
    }
  }
  return undefined;
}

const ncrontab = z.string().superRefine((s, ctx) => {
  const problem = ncrontabProblem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: `expected a six-field NCRONTAB expression such as "0 */15 * * * *": ${problem}` });
});

/** Azure region names, as the tenant requests take them: known, normalized (`West Europe` → westeurope), each once. */
const regionList = csv
  .transform((list) => list.map(normalizeRegion))
  .superRefine((list, ctx) => {
    const unknown = list.filter((r) => !isKnownRegion(r));
    if (unknown.length > 0) ctx.addIssue({ code: 'custom', message: `unknown Azure region(s) ${unknown.join(', ')}; use names such as westeurope or eastus2` });
    if (new Set(list).size !== list.length) ctx.addIssue({ code: 'custom', message: 'regions must not repeat' });
  });


const httpsUrl = z.url({ protocol: /^https$/, message: 'expected an https:// URL' }).transform((s) => s.replace(/\/+$/, ''));

export const CLOUDS = {
  AzureCloud: { armEndpoint: 'https://management.azure.com', authorityHost: 'https://login.microsoftonline.com', eventHubsSuffix: 'servicebus.windows.net', storageSuffix: 'core.windows.net' },
  AzureChinaCloud: { armEndpoint: 'https://management.chinacloudapi.cn', authorityHost: 'https://login.chinacloudapi.cn', eventHubsSuffix: 'servicebus.chinacloudapi.cn', storageSuffix: 'core.chinacloudapi.cn' },
  AzureUSGovernment: { armEndpoint: 'https://management.usgovcloudapi.net', authorityHost: 'https://login.microsoftonline.us', eventHubsSuffix: 'servicebus.usgovcloudapi.net', storageSuffix: 'core.usgovcloudapi.net' },
} as const;
export type CloudName = keyof typeof CLOUDS | 'Custom';

/** Raw env → typed settings. Keys are app-setting names. */
export const envSchema = z.object({
  // ---- cloud & identity
  MDR_AZURE_CLOUD: z.enum(['AzureCloud', 'AzureChinaCloud', 'AzureUSGovernment', 'Custom']).default('AzureCloud'),
  MDR_ARM_ENDPOINT: httpsUrl.optional(),
  MDR_AUTHORITY_HOST: httpsUrl.optional(),
  MDR_EVENTHUBS_SUFFIX: z.string().regex(/^[a-z0-9.-]+$/, 'expected a DNS suffix such as servicebus.windows.net').optional(),
  MDR_STORAGE_SUFFIX: z.string().regex(/^[a-z0-9.-]+$/, 'expected a DNS suffix such as core.windows.net').optional(),
  MDR_ARM_TLS_CA_FILE: z.string().min(1).optional(),
  /** Per-try timeout of one ARM request; a hung connection is abandoned and retried instead of stalling a run. */
  MDR_ARM_TIMEOUT_SECONDS: int(60, 5, 600),
  AZURE_CLIENT_ID: guid.optional(),
  // ---- the provider
  MDR_PROVIDER_TENANT_ID: guid,
  MDR_PROVIDER_SUBSCRIPTION_ID: guid,
  MDR_INGEST_PRINCIPAL_ID: guid,
  MDR_INGEST_PRINCIPAL_DISPLAY_NAME: z.string().min(1).max(100).default('MDR Log Ingest'),
  MDR_OFFER_NAME: z.string().min(1).max(100).default('MDR telemetry'),
  MDR_AUTOMATION_RESOURCE_GROUP: z.string().regex(/^[-\w.()]{1,90}$/, 'expected a resource group name (letters, digits, - _ . ( ), up to 90)').default('MDRAutomation'),
  MDR_RESOURCE_PREFIX: z.string().regex(/^[a-z][a-z0-9]{1,11}$/, 'expected 2-12 lowercase letters/digits starting with a letter').default('mdr'),
  MDR_FUNCTION_APP_RESOURCE_ID: z.string().regex(SITE_ID_PATTERN, 'expected /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Web/sites/<app>').optional(),
  // ---- app role and ingest fleet (docs/fleet.md)
  MDR_APP_ROLE: z.enum(['all', 'control', 'ingest'], { message: "expected 'all', 'control' or 'ingest'" }).default('all'),
  MDR_INGEST_APPS: z
    .string()
    .default('')
    .transform((s, ctx) => {
      const ids = s.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
      const bad = ids.find((x) => !SITE_ID_PATTERN.test(x));
      if (bad !== undefined) {
        ctx.addIssue({ code: 'custom', message: `expected a comma list of Function App resource ids (/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Web/sites/<app>); '${bad}' is not one` });
        return z.NEVER;
      }
      const names = ids.map(appNameOf);
      if (new Set(names).size !== names.length) {
        ctx.addIssue({ code: 'custom', message: 'expected each ingest app once (two entries name the same app)' });
        return z.NEVER;
      }
      return ids;
    }),
  // Upper bound from the settings size: 360 bindings of the longest shape our naming can produce fit one Linux
  // environment string (fleet/settingsLimits.ts, test/lib/fleet/settingsLimits.test.ts).
  MDR_INGEST_APP_MAX_HUBS: int(100, 1, 360),
  MDR_INGEST_SETTINGS_SYNC: z.enum(['auto', 'manual'], { message: "expected 'auto' or 'manual'" }).default('auto'),
  // ---- Event Hubs namespace pool
  MDR_EH_POOL_RESOURCE_GROUP: z.string().regex(/^[-\w.()]{1,90}$/, 'expected a resource group name').default('mdr-ingest'),
  MDR_EH_POOL_NAME_PREFIX: z.string().regex(/^[a-z][a-z0-9-]{2,30}$/, 'expected 3-31 lowercase letters, digits or -, starting with a letter').default('mdr-ingest'),
  // Dedicated namespaces live in an Event Hubs cluster this app neither provisions nor is told about: refuse it up front.
  MDR_EH_POOL_TIER: z.enum(['Standard', 'Premium'], { message: "expected 'Standard' or 'Premium' (Dedicated needs an Event Hubs cluster, which this app does not provision)" }).default('Standard'),
  MDR_EH_POOL_CAPACITY: int(1, 1, 40),
  MDR_EH_POOL_GROWTH: bool(true),
  MDR_EH_POOL_REGIONS: regionList,
  // Per-tier limits are checked after parsing (eventHubTiers.ts): these ranges are the widest tier's.
  MDR_EH_PARTITION_COUNT: int(4, 1, 100),
  MDR_EH_RETENTION_HOURS: int(168, 1, 2160),
  MDR_EH_CONSUMER_GROUP: z.string().regex(/^[\w.-]{1,50}$/, 'expected a consumer group name (1-50 letters, digits, _ . -)').default('mdr-ingest'),
  // ---- storage (registry tables, reconcile queue, outputs)
  AzureWebJobsStorage: z.string().min(1).optional(),
  AzureWebJobsStorage__accountName: z.string().min(3).optional(),
  MDR_TABLE_PREFIX: z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,19}$/, 'expected up to 20 letters/digits starting with a letter').default('mdr'),
  // ---- reconcile
  MDR_RECONCILE_SCHEDULE: ncrontab.default('0 */15 * * * *'),
  /** Work items of onboardings that outlast an HTTP request (docs/onboarding.md "Long onboarding"). */
  MDR_ONBOARDING_QUEUE: z.string().regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, 'expected a queue name (3-63 lowercase letters, digits, -)').default('mdr-onboarding'),
  MDR_RECONCILE_QUEUE: z.string().regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, 'expected a queue name (3-63 lowercase letters, digits, -)').default('mdr-reconcile'),
  MDR_RECONCILE_CONCURRENCY: int(16, 1, 128),
  MDR_RECONCILE_PER_SUBSCRIPTION_CONCURRENCY: int(4, 1, 32),
  MDR_RECONCILE_SPLIT_SUBSCRIPTIONS: int(50, 1, 10_000),
  MDR_RECONCILE_LAZY_HUBS: bool(true),
  MDR_RECONCILE_RESYNC_HOURS: int(24, 0, 24 * 30),
  // ---- event-driven coverage and tamper response (docs/reconcile.md#event-driven-coverage)
  MDR_EVENT_DRIVEN: bool(true),
  MDR_EVENT_DRIVEN_DELAY_SECONDS: int(10, 0, 300),
  MDR_APP_PRINCIPAL_IDS: z
    .string()
    .default('')
    .transform((s, ctx) => {
      const ids = s.split(',').map((x) => x.trim().toLowerCase()).filter((x) => x.length > 0);
      if (ids.some((x) => !LOWERCASE_GUID_PATTERN.test(x))) {
        ctx.addIssue({ code: 'custom', message: 'expected a comma list of object or client ids (GUIDs)' });
        return z.NEVER;
      }
      return ids;
    }),
  // ---- ingest
  MDR_INGEST_BINDINGS: z.string().default('[]'),
  MDR_OUTPUT_MODE: z.enum(['eventhub', 'blob', 'both']).default('blob'),
  MDR_DOWNSTREAM_EVENTHUB_CONNECTION: z.string().regex(/^\w+$/, 'expected the name of a connection setting prefix').default('MDR_DOWNSTREAM'),
  MDR_DOWNSTREAM_EVENTHUB_NAME: z.string().min(1).default('ocsf-events'),
  MDR_OUTPUT_CONTAINER: z.string().regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, 'expected a blob container name').default('ocsf-events'),
  MDR_DEADLETTER_CONTAINER: z.string().regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, 'expected a blob container name').default('dead-letters'),
  /** Event blobs: gzip NDJSON (default) or plain NDJSON; see README "Ingest output". */
  MDR_INGEST_COMPRESSION: z.enum(['gzip', 'none']).default('gzip'),
  MDR_INGEST_GZIP_LEVEL: int(1, 1, 9),
  /** OCSF `unmapped` in events (keep, default) or left out (omit: `raw_data` still holds the whole record); README "Ingest output". */
  MDR_INGEST_UNMAPPED: z.enum(['keep', 'omit']).default('keep'),
  // ---- HTTP API
  /** App Service authentication (Easy Auth) is in front of the API: trust its caller headers, check app roles. */
  MDR_EASY_AUTH: bool(false),
  // ---- stream health
  MDR_HEALTH_SCHEDULE: ncrontab.default('0 */10 * * * *'),
  MDR_SILENCE_THRESHOLD_MINUTES: int(120, 5, 10_080),
});

export type Env = z.input<typeof envSchema>;

/** What a setting expects, in words: the message its schema gives for a value that cannot be valid. */
function expectationOf(name: string): string {
  const field = (envSchema.shape as Record<string, z.ZodType>)[name];
  const probe = field?.safeParse('\u0000');
  return probe && !probe.success ? (probe.error.issues[0]?.message ?? 'a value') : 'a value';
}

export function parseSettings(env: Record<string, string | undefined>) {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v.trim() !== '') raw[key] = v.trim();
  }
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? '(settings)');
      if (raw[name] === undefined) return `${name} is missing: ${expectationOf(name)}`;
      return `${name} is invalid: ${i.message}`;
    });
    throw new ConfigError(`Invalid app settings: ${lines.join('; ')}`);
  }
  const e = parsed.data;

  const tierProblems = hubTierViolations(e.MDR_EH_POOL_TIER, { partitionCount: e.MDR_EH_PARTITION_COUNT, retentionHours: e.MDR_EH_RETENTION_HOURS, consumerGroups: consumerGroupsPerHub(e.MDR_EH_CONSUMER_GROUP) });
  // Premium is sold in 1, 2, 4, 8 or 16 processing units (Event Hubs tier limits: at most 16 PUs; azure-facts §Event
  // Hubs); the 1-40 range is the Standard tier's throughput units.
  if (e.MDR_EH_POOL_TIER === 'Premium' && ![1, 2, 4, 8, 16].includes(e.MDR_EH_POOL_CAPACITY))
    tierProblems.push(`MDR_EH_POOL_CAPACITY is invalid: ${e.MDR_EH_POOL_CAPACITY} processing units; the Premium tier takes 1, 2, 4, 8 or 16`);
  if (tierProblems.length > 0) throw new ConfigError(`Invalid app settings: ${tierProblems.join('; ')}`);

  let cloud: { name: CloudName; armEndpoint: string; authorityHost: string; eventHubsSuffix: string; storageSuffix: string };
  if (e.MDR_AZURE_CLOUD === 'Custom') {
    const missing = (['MDR_ARM_ENDPOINT', 'MDR_AUTHORITY_HOST'] as const).filter((k) => !e[k]);
    if (missing.length > 0) {
      throw new ConfigError(`Invalid app settings: ${missing.map((k) => `${k} is missing: required when MDR_AZURE_CLOUD=Custom (an https:// URL)`).join('; ')}`);
    }
    cloud = { name: 'Custom', armEndpoint: e.MDR_ARM_ENDPOINT!, authorityHost: e.MDR_AUTHORITY_HOST!, eventHubsSuffix: e.MDR_EVENTHUBS_SUFFIX ?? 'servicebus.windows.net', storageSuffix: e.MDR_STORAGE_SUFFIX ?? 'core.windows.net' };
  } else {
    const c = CLOUDS[e.MDR_AZURE_CLOUD];
    cloud = { name: e.MDR_AZURE_CLOUD, armEndpoint: e.MDR_ARM_ENDPOINT ?? c.armEndpoint, authorityHost: e.MDR_AUTHORITY_HOST ?? c.authorityHost, eventHubsSuffix: e.MDR_EVENTHUBS_SUFFIX ?? c.eventHubsSuffix, storageSuffix: e.MDR_STORAGE_SUFFIX ?? c.storageSuffix };
  }

  if (!e.AzureWebJobsStorage && !e.AzureWebJobsStorage__accountName) {
    throw new ConfigError('Invalid app settings: AzureWebJobsStorage is missing: set a storage connection string, or AzureWebJobsStorage__accountName for a managed-identity connection');
  }

  const bindingsJson = (() => {
    try {
      return JSON.parse(e.MDR_INGEST_BINDINGS) as unknown;
    } catch {
      throw new ConfigError('Invalid app settings: MDR_INGEST_BINDINGS is invalid: expected a JSON array of hub bindings');
    }
  })();
  const bindings = ingestBindingsSchema.safeParse(bindingsJson);
  if (!bindings.success) {
    const first = bindings.error.issues[0];
    throw new ConfigError(`Invalid app settings: MDR_INGEST_BINDINGS is invalid: item ${first?.path.join('.') ?? ''}: ${first?.message ?? 'unexpected shape'}`);
  }

  return {
    cloud,
    armTlsCaFile: e.MDR_ARM_TLS_CA_FILE,
    armTimeoutMs: e.MDR_ARM_TIMEOUT_SECONDS * 1000,
    managedIdentityClientId: e.AZURE_CLIENT_ID,
    provider: {
      tenantId: e.MDR_PROVIDER_TENANT_ID,
      subscriptionId: e.MDR_PROVIDER_SUBSCRIPTION_ID,
      ingestPrincipalId: e.MDR_INGEST_PRINCIPAL_ID,
      ingestPrincipalDisplayName: e.MDR_INGEST_PRINCIPAL_DISPLAY_NAME,
      offerName: e.MDR_OFFER_NAME,
      automationResourceGroup: e.MDR_AUTOMATION_RESOURCE_GROUP,
      functionAppResourceId: e.MDR_FUNCTION_APP_RESOURCE_ID,
    },
    prefix: e.MDR_RESOURCE_PREFIX,
    fleet: {
      /** Which functions this app registers: the control plane, the ingest triggers, or both (sandbox, local). */
      role: e.MDR_APP_ROLE,
      /**
       * The ingest apps hubs are assigned to: MDR_INGEST_APPS, or else the app itself (a single app running
       * everything, MDR_FUNCTION_APP_RESOURCE_ID), or else none (hubs stay unassigned and are reported).
       */
      ingestApps: e.MDR_INGEST_APPS.length > 0 ? e.MDR_INGEST_APPS : e.MDR_FUNCTION_APP_RESOURCE_ID ? [e.MDR_FUNCTION_APP_RESOURCE_ID] : [],
      maxHubsPerApp: e.MDR_INGEST_APP_MAX_HUBS,
      /** auto: the control plane writes the ingest apps' settings; manual: an operator runs `azure-mdr bindings`. */
      settingsSync: e.MDR_INGEST_SETTINGS_SYNC,
    },
    pool: {
      resourceGroup: e.MDR_EH_POOL_RESOURCE_GROUP,
      namePrefix: e.MDR_EH_POOL_NAME_PREFIX,
      tier: e.MDR_EH_POOL_TIER,
      capacity: e.MDR_EH_POOL_CAPACITY,
      growth: e.MDR_EH_POOL_GROWTH,
      regions: e.MDR_EH_POOL_REGIONS,
      partitionCount: e.MDR_EH_PARTITION_COUNT,
      retentionHours: e.MDR_EH_RETENTION_HOURS,
      consumerGroup: e.MDR_EH_CONSUMER_GROUP,
    },
    storage: {
      connectionString: e.AzureWebJobsStorage,
      accountName: e.AzureWebJobsStorage__accountName,
      tablePrefix: e.MDR_TABLE_PREFIX,
    },
    onboarding: {
      queue: e.MDR_ONBOARDING_QUEUE,
    },
    reconcile: {
      schedule: e.MDR_RECONCILE_SCHEDULE,
      queue: e.MDR_RECONCILE_QUEUE,
      concurrency: e.MDR_RECONCILE_CONCURRENCY,
      perSubscriptionConcurrency: e.MDR_RECONCILE_PER_SUBSCRIPTION_CONCURRENCY,
      splitSubscriptions: e.MDR_RECONCILE_SPLIT_SUBSCRIPTIONS,
      lazyHubs: e.MDR_RECONCILE_LAZY_HUBS,
      resyncHours: e.MDR_RECONCILE_RESYNC_HOURS,
    },
    eventDriven: {
      enabled: e.MDR_EVENT_DRIVEN,
      delaySeconds: e.MDR_EVENT_DRIVEN_DELAY_SECONDS,
      /** Identities whose activity-log records are the app's own writes: configured object/client ids plus AZURE_CLIENT_ID. */
      selfPrincipalIds: [...new Set([...e.MDR_APP_PRINCIPAL_IDS, ...(e.AZURE_CLIENT_ID ? [e.AZURE_CLIENT_ID] : [])])],
    },
    ingest: {
      bindings: bindings.data,
      outputMode: e.MDR_OUTPUT_MODE,
      downstreamConnection: e.MDR_DOWNSTREAM_EVENTHUB_CONNECTION,
      downstreamEventHub: e.MDR_DOWNSTREAM_EVENTHUB_NAME,
      outputContainer: e.MDR_OUTPUT_CONTAINER,
      deadLetterContainer: e.MDR_DEADLETTER_CONTAINER,
      compression: e.MDR_INGEST_COMPRESSION === 'none' ? ({ kind: 'none' } as const) : ({ kind: 'gzip', level: e.MDR_INGEST_GZIP_LEVEL } as const),
      unmapped: e.MDR_INGEST_UNMAPPED,
    },
    http: {
      easyAuth: e.MDR_EASY_AUTH,
      // Set by App Service itself when authentication is enabled on the app (not an app setting of ours).
      platformAuthEnabled: /^true$/i.test((env.WEBSITE_AUTH_ENABLED ?? '').trim()),
    },
    health: {
      schedule: e.MDR_HEALTH_SCHEDULE,
      silenceThresholdMinutes: e.MDR_SILENCE_THRESHOLD_MINUTES,
    },
  };
}

export type Settings = ReturnType<typeof parseSettings>;

let cached: Settings | undefined;
/** Settings of this process, parsed once. Throws ConfigError naming each bad setting. */
export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
  cached ??= parseSettings(env);
  return cached;
}
