import { readFileSync } from 'node:fs';
import type { TokenCredential } from '@azure/identity';
import type { MonitorClient } from '@azure/arm-monitor';
import type { EventHubManagementClient } from '@azure/arm-eventhub';
import type { OperationalInsightsManagementClient } from '@azure/arm-operationalinsights';
import type { SubscriptionClient } from '@azure/arm-resources-subscriptions';
import type { ResourceGraphClient } from '@azure/arm-resourcegraph';
import type { SecurityCenter } from '@azure/arm-security';
import type { WebSiteManagementClient } from '@azure/arm-appservice';
import type { Settings } from '../config/settings.js';
import { lazyDefaultCredential } from './lazyCredential.js';

/**
 * The one place ARM SDK clients are built. Cloud, credential and TLS CA come from settings, so the same
 * code talks to Azure (managed identity) and to the ARM simulator (static token, self-signed CA).
 * SDK modules are imported on first use: an ingest-only cold start never loads them.
 */
export interface AzureClients {
  readonly armEndpoint: string;
  monitor(): Promise<MonitorClient>;
  eventHub(subscriptionId: string): Promise<EventHubManagementClient>;
  operationalInsights(subscriptionId: string): Promise<OperationalInsightsManagementClient>;
  security(subscriptionId: string): Promise<SecurityCenter>;
  subscriptions(): Promise<SubscriptionClient>;
  resourceGraph(): Promise<ResourceGraphClient>;
  appService(subscriptionId: string): Promise<WebSiteManagementClient>;
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
  const cred = opts.credential ?? lazyDefaultCredential({ authorityHost: opts.authorityHost, managedIdentityClientId: opts.managedIdentityClientId });
  const credential = async () => cred;
  const tlsOptions = opts.tlsCa ? { ca: opts.tlsCa.toString() } : undefined;
  const retryOptions = opts.retry ? { ...opts.retry } : undefined;
  // The timeout policy pulls in core-rest-pipeline, so it is loaded with the first client, like the SDKs.
  const policies = async () =>
    opts.timeoutMs ? { additionalPolicies: [{ policy: (await import('./timeoutPolicy.js')).timeoutPolicy(opts.timeoutMs), position: 'perRetry' as const }] } : {};
  // Modular (TypeSpec) clients take `credentials.scopes`; classic ones (arm-security) take `credentialScopes`.
  const modularBase = { endpoint, credentials: { scopes: [scope] }, tlsOptions, retryOptions };
  const classicBase = { endpoint, credentialScopes: [scope], tlsOptions, retryOptions };

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

  const monitor = memo(async () => new (await import('@azure/arm-monitor')).MonitorClient(await credential(), { ...modularBase, ...(await policies()) }));
  const eventHub = memo(async (sub) => new (await import('@azure/arm-eventhub')).EventHubManagementClient(await credential(), sub, { ...modularBase, ...(await policies()) }));
  const operationalInsights = memo(
    async (sub) => new (await import('@azure/arm-operationalinsights')).OperationalInsightsManagementClient(await credential(), sub, { ...modularBase, ...(await policies()) }),
  );
  const security = memo(async (sub) => new (await import('@azure/arm-security')).SecurityCenter(await credential(), sub, { ...classicBase, ...(await policies()) }));
  const subscriptions = memo(async () => new (await import('@azure/arm-resources-subscriptions')).SubscriptionClient(await credential(), { ...modularBase, ...(await policies()) }));
  const resourceGraph = memo(async () => new (await import('@azure/arm-resourcegraph')).ResourceGraphClient(await credential(), { ...modularBase, ...(await policies()) }));
  const appService = memo(async (sub) => new (await import('@azure/arm-appservice')).WebSiteManagementClient(await credential(), sub, { ...modularBase, ...(await policies()) }));

  return {
    armEndpoint: endpoint,
    monitor: () => monitor(''),
    eventHub,
    operationalInsights,
    security,
    subscriptions: () => subscriptions(''),
    resourceGraph: () => resourceGraph(''),
    appService,
  };
}

/** A credential that hands out a fixed bearer token: the ARM simulator accepts any token. Never used against Azure. */
export function staticTokenCredential(token = 'simulator-token'): TokenCredential {
  return { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) };
}
