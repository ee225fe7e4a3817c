import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { TableClient } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { failedRecordsOf, parseDeadLetter, type StoredDeadLetter } from '../../src/lib/ingest/deadLetter.js';
import { handleIngestBatch } from '../../src/lib/ingest/handleIngestBatch.js';
import { createMemoryOutputs } from '../../src/lib/ingest/outputs/memoryOutputs.js';
import type { OcsfEvent } from '../../src/lib/ingest/types.js';
import { createTableRegistry } from '../../src/lib/registry/tableRegistry.js';
import { useAzuriteBlobs } from '../support/azurite.js';

/**
 * The built app's ingest trigger driven the way the Functions host drives it (test/support/hostInvocation.mjs: RPC
 * typed data as the host sends it, through @azure/functions' own InvocationModel, with the registered retry policy
 * applied as the host applies it), writing to Azurite. What it checks is what only that path shows: the bytes the
 * handler gets, the metadata next to them, and what the host's retry policy does to a long output outage.
 */
const root = path.resolve(import.meta.dirname, '../..');
const TENANT = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const SUB = 'c088dc46-d692-42ad-a4b6-9a542d28ad2a';
const NAMESPACE = 'mdr-ingest-westeurope-01';
const HUB = `mdr-${TENANT}`;
const FUNCTION = `ingest-${TENANT.replace(/-/g, '')}-westeurope`;
const binding = { tenantId: TENANT, region: 'westeurope', namespace: NAMESPACE, hub: HUB, consumerGroup: 'mdr-ingest', connection: 'MDR_EHNS_MDR_INGEST_WESTEUROPE_01' };

const azurite = useAzuriteBlobs();

interface HostEvent {
  body: Buffer;
  sequenceNumber: number;
}
interface DriverResult {
  trigger: Record<string, unknown>;
  retryOptions: { maxRetryCount: number };
  deliveries: { partitionId: string; attempts: number; outcome: string; errors: string[] }[];
  deniedRequests: number;
  logs: string[];
}

/**
 * Runs the built app under the host stand-in; each test uses its own tables and containers so runs do not mix.
 * The tenant's subscription is on record first, as discovery records it at onboarding: ingest trusts records naming
 * only known subscriptions.
 */
async function drive(tag: string, deliveries: { partitionId: string; events: HostEvent[] }[], opts: { outageAttempts?: number; sequenceAsLong?: boolean } = {}): Promise<DriverResult> {
  const registry = createTableRegistry({ tablePrefix: `t${tag}`, clientFor: (t) => TableClient.fromConnectionString(azurite.az.connectionString, t, { allowInsecureConnection: true }) });
  await registry.putKnownSubscriptions(TENANT, [{ tenantId: TENANT, subscriptionId: SUB, displayName: 'sub', discoveredAt: '2026-03-02T00:00:00Z' }], { replaceAll: true });
  const dir = mkdtempSync(path.join(tmpdir(), 'ingest-host-'));
  const plan = {
    functionName: FUNCTION,
    fullyQualifiedNamespace: `${NAMESPACE}.servicebus.windows.net`,
    blobUpstream: azurite.az.blobUrl,
    outageAttempts: opts.outageAttempts ?? 0,
    sequenceAsLong: opts.sequenceAsLong ?? false,
    env: {
      MDR_PROVIDER_TENANT_ID: '11111111-1111-1111-1111-111111111111',
      MDR_PROVIDER_SUBSCRIPTION_ID: '22222222-2222-2222-2222-222222222222',
      MDR_INGEST_PRINCIPAL_ID: '33333333-3333-3333-3333-333333333333',
      AzureWebJobsStorage: azurite.az.connectionString,
      MDR_TABLE_PREFIX: `t${tag}`,
      MDR_OUTPUT_CONTAINER: `ev-${tag}`,
      MDR_DEADLETTER_CONTAINER: `dl-${tag}`,
      MDR_INGEST_BINDINGS: JSON.stringify([binding]),
      [`${binding.connection}__fullyQualifiedNamespace`]: `${NAMESPACE}.servicebus.windows.net`,
    },
    deliveries: deliveries.map((d) => ({
      partitionId: d.partitionId,
      events: d.events.map((e) => ({ bodyBase64: e.body.toString('base64'), sequenceNumber: e.sequenceNumber, offset: String(e.sequenceNumber * 1024), enqueuedTimeUtc: '2026-03-02T10:20:30.25' })),
    })),
  };
  const planFile = path.join(dir, 'plan.json');
  writeFileSync(planFile, JSON.stringify(plan));
  const out = execFileSync(process.execPath, ['--require', './test/support/fakeFunctionsCore.cjs', './test/support/hostInvocation.mjs', planFile], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out) as DriverResult;
}

async function eventsIn(container: string): Promise<OcsfEvent[]> {
  const c = azurite.svc.getContainerClient(container);
  if (!(await c.exists())) return [];
  const out: OcsfEvent[] = [];
  for await (const b of c.listBlobsFlat()) {
    const text = gunzipSync(await c.getBlobClient(b.name).downloadToBuffer()).toString('utf8');
    for (const line of text.split('\n')) if (line !== '') out.push(JSON.parse(line) as OcsfEvent);
  }
  return out;
}

async function deadLettersIn(container: string): Promise<{ name: string; dl: StoredDeadLetter }[]> {
  const c = azurite.svc.getContainerClient(container);
  if (!(await c.exists())) return [];
  const out: { name: string; dl: StoredDeadLetter }[] = [];
  for await (const b of c.listBlobsFlat()) out.push({ name: b.name, dl: parseDeadLetter((await c.getBlobClient(b.name).downloadToBuffer()).toString('utf8')) });
  return out;
}

const kv = (i: number, extra = '') =>
  `{"time":"2026-03-02T10:00:${String(i % 60).padStart(2, '0')}Z","category":"AuditEvent","operationName":"SecretGet","resultType":"Success","correlationId":"c-${i}","resourceId":"/SUBSCRIPTIONS/${SUB.toUpperCase()}/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV","callerIpAddress":"10.0.0.${i % 250}"${extra}}`;

describe('the ingest trigger under the Functions host', () => {
  it('is registered binary, batched, with a retry policy that never gives up', async () => {
    const r = await drive('reg', []);
    expect(r.trigger).toMatchObject({ type: 'eventHubTrigger', dataType: 'binary', cardinality: 'many', eventHubName: HUB, consumerGroup: 'mdr-ingest' });
    expect(r.retryOptions).toMatchObject({ strategy: 'exponentialBackoff', maxRetryCount: -1 });
  });

  it("keeps raw_data byte-identical to each record's text inside the message (non-ASCII, escapes, odd whitespace)", async () => {
    // Texts a JSON re-serialization would change: escaped and raw non-ASCII, escaped slash, 1.0 and 1e2, a 20-digit
    // integer, a duplicate key, CRLF, tabs and spaces around tokens.
    const records = [
      kv(1, ',"properties":{"note":"Grüße, 日本語, emoji 😀","escaped":"\\u00e9\\u00E9 \\ud83d\\ude00 \\/ \\"q\\" \\t","n":1.0,"e":1e2,"big":12345678901234567890}'),
      `{ "time" : "2026-03-02T10:00:02Z" ,\t"category":"AuditEvent",\r\n  "operationName" : "SecretList", "resultType":"Success", "correlationId":"c-2", "dup":1, "dup":2,\r\n  "resourceId":"/SUBSCRIPTIONS/${SUB.toUpperCase()}/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV" }`,
      kv(3, ',"properties":{"empty":"","nested":{"a":[1,2.50,-0,true,null]}}'),
    ];
    const text = `\r\n { "records" :\t[\r\n  ${records.join(' ,\r\n\t')}\r\n ] }\r\n`;
    const body = Buffer.from(text, 'utf8');
    const r = await drive('raw', [{ partitionId: '3', events: [{ body, sequenceNumber: 70 }] }]);
    expect(r.deliveries).toEqual([expect.objectContaining({ outcome: 'succeeded', attempts: 1 })]);

    const events = await eventsIn('ev-raw');
    expect(events).toHaveLength(3);
    for (const rec of records) {
      const start = body.indexOf(Buffer.from(rec, 'utf8'));
      expect(start).toBeGreaterThan(0);
      const exact = body.subarray(start, start + Buffer.byteLength(rec, 'utf8'));
      const ev = events.find((e) => typeof e.raw_data === 'string' && Buffer.from(e.raw_data, 'utf8').equals(exact));
      expect(ev, `no event carries the exact bytes of ${rec.slice(0, 60)}…`).toBeDefined();
    }
    expect(await deadLettersIn('dl-raw')).toEqual([]);
  });

  it('keeps an empty message in its place, so every message is paired with its own sequence number', async () => {
    // The host drops empty strings from a string collection for this worker; bytes keep the batch aligned with the
    // metadata arrays. Sequence numbers arrive as protobuf Long objects, as the worker decodes int64.
    const good = Buffer.from(`{"records":[${kv(1)}]}`);
    const r = await drive('align', [{ partitionId: '0', events: [{ body: good, sequenceNumber: 100 }, { body: Buffer.alloc(0), sequenceNumber: 101 }, { body: Buffer.from('not json\n'), sequenceNumber: 102 }, { body: good, sequenceNumber: 103 }] }], { sequenceAsLong: true });
    expect(r.deliveries[0]).toMatchObject({ outcome: 'succeeded' });
    const dls = await deadLettersIn('dl-align');
    expect(dls.map((d) => d.name).sort()).toEqual([`${TENANT}/2026/03/02/${NAMESPACE}-0-101.json`, `${TENANT}/2026/03/02/${NAMESPACE}-0-102.json`]);
    const byName = new Map(dls.map((d) => [d.name, d.dl]));
    expect(byName.get(`${TENANT}/2026/03/02/${NAMESPACE}-0-101.json`)).toMatchObject({ sequenceNumber: 101, outcomes: 'S', offset: String(101 * 1024) });
    expect(byName.get(`${TENANT}/2026/03/02/${NAMESPACE}-0-102.json`)?.body.toString('utf8')).toBe('not json\n');
    expect(await eventsIn('ev-align')).toHaveLength(2);
  });

  it('survives a blob outage longer than the old retry budget of 8: every record ends as one event or one dead letter', async () => {
    // Two partitions' batches, good and bad records mixed; blob storage refuses the first 12 attempts (1 + 11 retries).
    const batch = (p: number): HostEvent[] =>
      [
        Buffer.from(`{"records":[${kv(p * 10 + 1)},${kv(p * 10 + 2)},{"hello":"world"},${kv(p * 10 + 3)}]}`),
        Buffer.from(`${kv(p * 10 + 4)}\ngarbage line\n${kv(p * 10 + 5)}\n`),
        Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
        Buffer.from(`[${kv(p * 10 + 6)}]`),
      ].map((body, i) => ({ body, sequenceNumber: 500 + i }));
    const deliveries = [
      { partitionId: '0', events: batch(0) },
      { partitionId: '1', events: batch(1) },
    ];
    const r = await drive('outage', deliveries, { outageAttempts: 12 });
    expect(r.deliveries.map((d) => d.outcome)).toEqual(['succeeded', 'succeeded']);
    expect(r.deliveries[0]!.attempts).toBe(13);
    expect(r.deniedRequests).toBeGreaterThanOrEqual(12);
    expect(r.logs.some((l) => l.startsWith('ingest.partition_stalled') && l.includes('"retryCount":8'))).toBe(true);

    // Reference: the same batches through the pipeline with outputs that never fail.
    const expectedUids: string[] = [];
    const expectedDead: string[] = [];
    for (const d of deliveries) {
      const mem = createMemoryOutputs();
      await handleIngestBatch({ bodies: d.events.map((e) => e.body), messages: d.events.map((e) => ({ partitionId: d.partitionId, sequenceNumber: e.sequenceNumber })), binding: { tenantId: TENANT, namespace: NAMESPACE, hub: HUB }, ingestTime: 0, outputs: mem });
      expectedUids.push(...mem.batches.flatMap((b) => b.events.map((e) => e.metadata.uid)));
      expectedDead.push(...mem.deadLetters.flatMap((dl) => failedRecordsOf(dl).map((f) => `${dl.partitionId}/${dl.sequenceNumber}#${f.index}:${f.reason}`)));
    }
    expect(expectedUids.length).toBe(12);
    // Per partition: the hello-world record, the garbage line, the invalid-UTF-8 message's record and its bytes.
    expect(expectedDead.length).toBe(8);

    const uids = (await eventsIn('ev-outage')).map((e) => e.metadata.uid);
    const dead = (await deadLettersIn('dl-outage')).flatMap(({ dl }) => (dl.version === 2 ? failedRecordsOf(dl).map((f) => `${dl.partitionId}/${dl.sequenceNumber}#${f.index}:${f.reason}`) : []));
    // Exactly once: no duplicates, nothing missing, nothing extra.
    expect(uids.sort()).toEqual([...new Set(expectedUids)].sort());
    expect(dead.sort()).toEqual(expectedDead.sort());
    // Stream health sees both partitions get through again (the progress rows it compares with the hub's runtime).
    const progress: string[] = [];
    for await (const e of TableClient.fromConnectionString(azurite.az.connectionString, 'toutageIngestProgress', { allowInsecureConnection: true }).listEntities<{ data: string }>()) {
      const p = JSON.parse(e.data) as { partitionId: string; sequenceNumber: number; hub: string };
      progress.push(`${p.hub}/${p.partitionId}:${p.sequenceNumber}`);
    }
    expect(progress.sort()).toEqual([`${HUB}/0:503`, `${HUB}/1:503`]);
  });
});
