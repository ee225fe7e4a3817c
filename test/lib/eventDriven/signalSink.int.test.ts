import azf from '@azure/functions';
import { QueueClient } from '@azure/storage-queue';
import { BlobServiceClient } from '@azure/storage-blob';
import { TableClient } from '@azure/data-tables';
import { createTableMarkerTable } from '../../../src/lib/eventDriven/pendingWorkTable.js';
import { describe, expect, it } from 'vitest';
import { eventDrivenStores, ingestChangeHook } from '../../../src/lib/eventDriven/eventDrivenServices.js';
import { parseSettings, type Settings } from '../../../src/lib/config/settings.js';
import type { IngestBinding } from '../../../src/lib/config/ingestBindings.js';
import { parseWorkItem } from '../../../src/lib/reconcile/fanOut.js';
import { createIngestHandler } from '../../../src/lib/ingest/ingestHandler.js';
import { storageTarget } from '../../../src/lib/storage/storageClients.js';
import { useAzurite } from '../../support/azurite.js';

/**
 * Ingest → change signals → pending marker (Table storage, Azurite) → reconcile queue (Azurite), through the real
 * Event Hub handler: coalescing across batches and instances, redelivery, the tenant boundary, our own writes.
 */
const { InvocationContext } = azf;
const A = 'aaaaaaaa-0000-0000-0000-000000000001';
const SA = 'aaaaaaaa-1111-0000-0000-000000000001';
const SB = 'bbbbbbbb-1111-0000-0000-000000000001';
const APP_OID = '0a0a0a0a-0000-4000-8000-000000000001';
const binding: IngestBinding = { tenantId: A, region: 'westeurope', namespace: 'mdr-ingest-weu-01', hub: `mdr-${A}`, consumerGroup: 'mdr-ingest', connection: 'X' };

const az = useAzurite();
let n = 0;

function world(known: string[] = [SA], delaySeconds = '120') {
  n++;
  const settings: Settings = parseSettings({
    MDR_PROVIDER_TENANT_ID: 'dddddddd-0000-0000-0000-000000000001',
    MDR_PROVIDER_SUBSCRIPTION_ID: 'dddddddd-0000-0000-0000-0000000000aa',
    MDR_INGEST_PRINCIPAL_ID: 'dddddddd-0000-0000-0000-000000000002',
    AzureWebJobsStorage: az.connectionString,
    MDR_TABLE_PREFIX: `sink${n}`,
    MDR_RECONCILE_QUEUE: `sink-reconcile-${n}`,
    // By default long enough that nothing becomes visible while a test runs.
    MDR_EVENT_DRIVEN_DELAY_SECONDS: delaySeconds,
    MDR_APP_PRINCIPAL_IDS: APP_OID,
  });
  const services = { settings, storage: storageTarget(settings) };
  const blobs = BlobServiceClient.fromConnectionString(az.connectionString);
  // Each call is one Functions instance: its own stores and handler over the same table and queue.
  const instance = () =>
    createIngestHandler({
      binding,
      blobServiceClient: () => blobs,
      eventsContainer: `events${n}`,
      deadLetterContainer: `dead${n}`,
      subscriptionIds: () => known,
      onEvents: ingestChangeHook(services, eventDrivenStores(services), A),
    });
  const queue = new QueueClient(az.connectionString, settings.reconcile.queue);
  const count = async () => ((await queue.exists()) ? (await queue.getProperties()).approximateMessagesCount ?? 0 : 0);
  const markers = createTableMarkerTable({ tablePrefix: settings.storage.tablePrefix, client: (name) => TableClient.fromConnectionString(az.connectionString, name, { allowInsecureConnection: true }) });
  return { settings, instance, queue, count, markers };
}

let seq = 0;
const ctx = () => new InvocationContext({ functionName: 'ingest', invocationId: `i${++seq}`, triggerMetadata: { partitionContext: { partitionId: '0' }, sequenceNumberArray: [seq] } });

function created(sub: string, name: string, oid = 'c0c0c0c0-0000-4000-8000-000000000001'): Record<string, unknown> {
  return {
    time: '2026-12-01T10:00:00Z',
    resourceId: `/subscriptions/${sub}/resourceGroups/app/providers/Microsoft.Storage/storageAccounts/${name}`,
    operationName: 'MICROSOFT.STORAGE/STORAGEACCOUNTS/WRITE',
    category: 'Administrative',
    resultType: 'Success',
    correlationId: `c-${name}`,
    callerIpAddress: '198.51.100.7',
    identity: { claims: { 'http://schemas.microsoft.com/identity/claims/objectidentifier': oid, name: 'deployer' } },
    properties: { eventDataId: `ev-${sub}-${name}` },
    tenantId: A,
  };
}

describe('change signals into the reconcile queue (Azurite)', () => {
  it('coalesces a 50-account deployment seen by two instances in ten batches into one delayed work item', async () => {
    const w = world();
    const one = w.instance();
    const two = w.instance();
    const batches = Array.from({ length: 10 }, (_, k) => ({ records: Array.from({ length: 5 }, (_, i) => created(SA, `acct${k * 5 + i}`)) }));
    await Promise.all(batches.map((b, k) => (k % 2 === 0 ? one : two)([b], ctx())));
    expect(await w.count()).toBe(1);
    // Invisible for the coalescing delay: nothing to receive yet.
    expect((await w.queue.receiveMessages()).receivedMessageItems).toEqual([]);
    // What the queue handler will claim: every account, whichever instance saw it.
    const marker = (await w.markers.get(A))?.marker;
    expect(marker?.state).toBe('pending');
    expect(new Set(marker?.work.scope.resourceIds)).toEqual(new Set(Array.from({ length: 50 }, (_, i) => `/subscriptions/${SA}/resourcegroups/app/providers/microsoft.storage/storageaccounts/acct${i}`)));
  });

  it('sends a message the queue handler reads as a targeted work item', async () => {
    const w = world([SA], '0');
    await w.instance()([{ records: [created(SA, 'y1')] }], ctx());
    const got = (await w.queue.receiveMessages()).receivedMessageItems;
    expect(got).toHaveLength(1);
    const item = parseWorkItem(got[0]!.messageText);
    const stores = eventDrivenStores({ settings: w.settings, storage: storageTarget(w.settings) });
    expect(await stores.pending.claim(A, item.targeted!.itemId)).toMatchObject({ scope: { resourceIds: [`/subscriptions/${SA}/resourcegroups/app/providers/microsoft.storage/storageaccounts/y1`] } });
  });

  it('sends nothing more for a batch redelivered after its item already ran', async () => {
    const w = world();
    const h = w.instance();
    const batch = { records: [created(SA, 'x1'), created(SA, 'x2')] };
    await h([batch], ctx());
    expect(await w.count()).toBe(1);
    // The queue handler took the item: a new signal would start a new one.
    const marker = (await w.markers.get(A))!.marker;
    const stores = eventDrivenStores({ settings: w.settings, storage: storageTarget(w.settings) });
    await stores.pending.claim(A, marker.itemId);
    await h([batch], ctx()); // the host retried the batch
    await w.instance()([batch], ctx()); // the partition moved to another instance, which re-read from its checkpoint
    expect(await w.count()).toBe(1);
    await h([{ records: [created(SA, 'x3')] }], ctx());
    expect(await w.count()).toBe(2);
  });

  it("sends nothing for a record on tenant A's hub naming tenant B's resource", async () => {
    const w = world([SA]);
    await w.instance()([{ records: [{ ...created(SB, 'theirs'), tenantId: undefined }] }], ctx());
    expect(await w.count()).toBe(0);
    // Nor when the ledger knows no subscription of A yet (attribution cannot check it then).
    const v = world([]);
    await v.instance()([{ records: [{ ...created(SB, 'theirs'), tenantId: undefined }] }], ctx());
    expect(await v.count()).toBe(0);
  });

  it("sends nothing for the app's own writes", async () => {
    const w = world();
    await w.instance()([{ records: [created(SA, 'ours', APP_OID)] }], ctx());
    expect(await w.count()).toBe(0);
  });
});

