import azf from '@azure/functions';
import type { HttpResponseInit } from '@azure/functions';
import { QueueClient } from '@azure/storage-queue';
import type { ArmSimulator } from '../../../sim/armSimulator.js';
import { createAzureClients, staticTokenCredential } from '../../../src/lib/azure/clientFactory.js';
import { parseSettings } from '../../../src/lib/config/settings.js';
import { createGetOperationHandler, createPutTenantHandler, type OnboardingHttpDeps } from '../../../src/lib/onboarding/httpHandlers.js';
import { createOnboardingQueueHandler, storageOnboardingQueue } from '../../../src/lib/onboarding/longOnboarding.js';
import { createRegistry } from '../../../src/lib/registry/createRegistry.js';
import { storageTarget } from '../../../src/lib/storage/storageClients.js';
import type { AzuriteHandle } from '../../support/azurite.js';

// The onboarding HTTP handlers wired to Azurite (registry, onboarding queue) and the ARM simulator, with the
// Functions host's part played by drainQueue: the long-onboarding and pool-adoption integration tests share it.
const { HttpRequest, InvocationContext } = azf;
let worlds = 0;

export function onboardingHttpWorld(az: AzuriteHandle, sim: ArmSimulator, env: Record<string, string>) {
  const id = `${++worlds}x${Date.now() % 100000}`;
  const queueName = `onb-${id}`;
  const settings = parseSettings({
    MDR_ONBOARDING_QUEUE: queueName,
    AzureWebJobsStorage: az.connectionString,
    MDR_TABLE_PREFIX: `onb${id}`,
    ...env,
  });
  const clients = createAzureClients({ armEndpoint: sim.url, credential: staticTokenCredential(), tlsCa: sim.ca, retry: { maxRetries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 50 } });
  const deps: OnboardingHttpDeps = { settings, registry: createRegistry(settings), clients, lroPollMs: 5, onboardingQueue: storageOnboardingQueue(storageTarget(settings), queueName) };
  const queue = new QueueClient(az.connectionString, queueName);
  const ctx = (name: string, triggerMetadata?: Record<string, unknown>) => new InvocationContext({ functionName: name, invocationId: `i-${name}`, logHandler: () => {}, ...(triggerMetadata ? { triggerMetadata } : {}) });
  const put = (tenantId: string, body: unknown): Promise<HttpResponseInit> =>
    createPutTenantHandler(deps)(new HttpRequest({ method: 'PUT', url: `http://localhost/api/tenants/${tenantId}`, params: { id: tenantId }, body: { string: JSON.stringify(body) } }), ctx('put'));
  const getOp = (tenantId: string, operationId: string): Promise<HttpResponseInit> =>
    createGetOperationHandler(deps)(new HttpRequest({ method: 'GET', url: `http://localhost/api/tenants/${tenantId}/operations/${operationId}`, params: { id: tenantId, operationId } }), ctx('get'));
  /** What the Functions host does: take each message, base64-decode it, call the queue handler. Returns how many it handled. */
  const drainQueue = async (): Promise<number> => {
    let handled = 0;
    for (;;) {
      const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32 });
      if (receivedMessageItems.length === 0) return handled;
      for (const m of receivedMessageItems) {
        const text = Buffer.from(m.messageText, 'base64').toString('utf8');
        await createOnboardingQueueHandler(deps)(JSON.parse(text), ctx('onboarding-continue', { dequeueCount: m.dequeueCount }));
        await queue.deleteMessage(m.messageId, m.popReceipt);
        handled++;
      }
    }
  };
  return { deps, put, getOp, drainQueue, queue };
}
