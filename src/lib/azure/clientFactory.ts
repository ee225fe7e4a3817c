import { readFileSync } from 'node:fs';
import type { TokenCredential } from '@azure/identity';
import type { MonitorClient } from '@azure/arm-monitor';
import type { EventHubManagementClient } from '@azure/arm-eventhub';
import type { OperationalInsightsManagementClient } from '@azure/arm-operationalinsights';
import type { SubscriptionClient } from '@azure/arm-resources-subscriptions';
import type { ResourceGraphClient } from '@azure/arm-resourcegraph';
import type { SecurityCenter } from '@azure/arm-security';
import type { WebSiteManagementClient } from '@azure/arm-appservice';
import type { ManagedServicesClient } from './managedServices.js';
import type { Settings } from '../config/settings.js';
import { lazyDefaultCredential } from './lazyCredential.js';

/**
 * The one place ARM SDK clients are built. Cloud, credential and TLS CA come from settings, so the same
 * code talks to Azure (managed identity) and to the ARM simulator (static token, self-signed CA).
 * SDK modules are imported on first use: an ingest-only cold start never loads them.
 */
export interface AzureClients {
  readonly armEndpoint: string;
  /** Without a subscription: resource-scoped operations (diagnostic settings); with one: the activity log. */
  monitor(subscriptionId?: string): Promise<MonitorClient>;
  eventHub(subscriptionId: string): Promise<EventHubManagementClient>;
  operationalInsights(subscriptionId: string): Promise<OperationalInsightsManagementClient>;
  security(subscriptionId: string): Promise<SecurityCenter>;
  subscriptions(): Promise<SubscriptionClient>;
  resourceGraph(): Promise<ResourceGraphClient>;
  appService(subscriptionId: string): Promise<WebSiteManagementClient>;
  /** Azure Lighthouse registrations (offboarding removes the provider's delegation): managedServices.ts. */
  managedServices(): Promise<ManagedServicesClient>;
}

export interface ClientFactoryOptions {
  armEndpoint: string;
  /** Entra authority host for DefaultAzureCredential (sovereign clouds). */
  authorityHost?: string;
  credential?: TokenCredential;
  managedIdentityClientId?: string;
  /** PEM of an extra CA to trust (the simulator's self-signed certificate). */
  tlsCa?: string | Buffer;
  /** Overrides of the SDK retry policy (tests shorten delays). Retry-After from ARM is always honoured. */
  retry?: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
  /** Per-try timeout of each ARM request in ms; a timed-out try is retried like a connection reset. Absent = no timeout (SDK default). */
  timeoutMs?: number;
}

export function clientFactoryOptionsFromSettings(settings: Settings, overrides: Partial<ClientFactoryOptions> = {}): ClientFactoryOptions {
  return {
    armEndpoint: settings.cloud.armEndpoint,
    authorityHost: settings.cloud.authorityHost,
    managedIdentityClientId: settings.managedIdentityClientId,
    tlsCa: settings.armTlsCaFile ? readFileSync(settings.armTlsCaFile) : undefined,
    timeoutMs: settings.armTimeoutMs,
    ...overrides,
  };
}

export function createAzureClients(opts: ClientFactoryOptions): AzureClients {
  const endpoint = opts.armEndpoint.replace(/\/+$/, '');
  const scope = `${endpoint}/.default`;
  const credential = opts.credential ?? lazyDefaultCredential({ authorityHost: opts.authorityHost, managedIdentityClientId: opts.managedIdentityClientId });
  const tlsOptions = opts.tlsCa ? { ca: opts.tlsCa.toString() } : undefined;
  const retryOptions = opts.retry ? { ...opts.retry } : undefined;
  // The timeout policy pulls in core-rest-pipeline, so it is loaded with the first client, like the SDKs.
  let extra: Promise<{ additionalPolicies?: { policy: import('@azure/core-rest-pipeline').PipelinePolicy; position: 'perRetry' }[] }> | undefined;
  const policies = () =>
    (extra ??= opts.timeoutMs
      ? import('./timeoutPolicy.js').then(({ timeoutPolicy }) => ({ additionalPolicies: [{ policy: timeoutPolicy(opts.timeoutMs!), position: 'perRetry' as const }] }))
      : Promise.resolve({}));
  // Modular (TypeSpec) clients take `credentials.scopes`; classic ones (arm-security) take `credentialScopes`.
  const modular = async () => ({ endpoint, credentials: { scopes: [scope] }, tlsOptions, retryOptions, ...(await policies()) });
  const classic = async () => ({ endpoint, credentialScopes: [scope], tlsOptions, retryOptions, ...(await policies()) });

  const memo = <T>(make: (key: string) => Promise<T>) => {
    const cache = new Map<string, Promise<T>>();
    return (key: string) => {
      let p = cache.get(key);
      if (!p) {
        p = make(key);
        cache.set(key, p);
      }
      return p;
    };
  };

  const monitor = memo(async (sub) => {
    const { MonitorClient } = await import('@azure/arm-monitor');
    return sub ? new MonitorClient(credential, sub, await modular()) : new MonitorClient(credential, await modular());
  });
  const eventHub = memo(async (sub) => new (await import('@azure/arm-eventhub')).EventHubManagementClient(credential, sub, await modular()));
  const operationalInsights = memo(async (sub) => new (await import('@azure/arm-operationalinsights')).OperationalInsightsManagementClient(credential, sub, await modular()));
  const security = memo(async (sub) => new (await import('@azure/arm-security')).SecurityCenter(credential, sub, await classic()));
  const subscriptions = memo(async () => new (await import('@azure/arm-resources-subscriptions')).SubscriptionClient(credential, await modular()));
  const resourceGraph = memo(async () => new (await import('@azure/arm-resourcegraph')).ResourceGraphClient(credential, await modular()));
  const appService = memo(async (sub) => new (await import('@azure/arm-appservice')).WebSiteManagementClient(credential, sub, await modular()));
  const managedServices = memo(async () => (await import('./managedServices.js')).createManagedServicesClient(endpoint, credential, await modular()));

  return {
    armEndpoint: endpoint,
    monitor: (subscriptionId) => monitor(subscriptionId ?? ''),
    eventHub,
    operationalInsights,
    security,
    subscriptions: () => subscriptions(''),
    resourceGraph: () => resourceGraph(''),
    appService,
    managedServices: () => managedServices(''),
  };
}

/** A credential that hands out a fixed bearer token: the ARM simulator accepts any token. Never used against Azure. */
export function staticTokenCredential(token = 'simulator-token'): TokenCredential {
  return { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) };
}
