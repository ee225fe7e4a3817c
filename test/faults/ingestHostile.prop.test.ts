import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { handleIngestBatch, type IngestBatchResult } from '../../src/lib/ingest/handleIngestBatch.js';
import { createMemoryOutputs, type MemoryOutputs } from '../../src/lib/ingest/outputs/memoryOutputs.js';
import { failedRecordsOf } from '../../src/lib/ingest/deadLetter.js';

/** The dead-lettered records of a run, one by one, with the listed detail of each. */
const failed = (o: MemoryOutputs) => o.deadLetters.flatMap((d) => failedRecordsOf(d).map((f) => ({ ...f, detail: f.listed?.detail ?? '', dl: d })));

/**
 * Hostile ingest bodies beyond test/lib/ingest/ingest.prop.test.ts: 10,000-level nesting (as bytes and as an
 * already-parsed object, which is what the host hands over for JSON events), multi-megabyte strings, invalid
 * UTF-8, and `__proto__` / `constructor.prototype` keys at any depth. The batch handler must never throw, the
 * accounting identity must hold, dead letters keep the original bytes, and no prototype is polluted.
 * Then spoofing: a customer hub sending records that claim another tenant or its subscriptions.
 */
const LONG = process.env.FAULTS === 'long';
const RUNS = LONG ? 300 : 40;
const TIME = '2026-11-26T10:00:00Z';
const TENANT_A = '4bbb79f7-5724-4c9e-95f3-de075f6ec090';
const TENANT_B = '11111111-2222-3333-4444-555555555555';
const SUB_A = 'c088dc46-d692-42ad-a4b6-9a542d28ad2a';
const SUB_B = '99999999-8888-7777-6666-555555555555';

const figures = { batches: 0, records: 0, events: 0, deadLetters: 0, spoofed: 0, quarantined: 0 };
afterAll(() => {
  console.log(`[faults] ingest hostile: ${figures.batches} batches, ${figures.records} records in -> ${figures.events} events + ${figures.deadLetters} dead letters; spoofing: ${figures.spoofed} spoofed records, ${figures.quarantined} quarantined`);
});

async function run(bodies: unknown[], tenantId?: string, subscriptionIds: string[] = []): Promise<{ res: IngestBatchResult; outputs: MemoryOutputs }> {
  const outputs = createMemoryOutputs();
  const res = await handleIngestBatch({ bodies, messages: bodies.map((_, i) => ({ partitionId: '0', sequenceNumber: i })), binding: { tenantId, hub: 'h' }, subscriptionIds, ingestTime: 1, outputs });
  figures.batches++;
  figures.records += res.records;
  figures.events += res.events;
  figures.deadLetters += res.deadLetters;
  // The identity, and what the outputs received agrees with the counts.
  expect(res.records).toBe(res.mapped + res.deadLetters);
  expect(failed(outputs)).toHaveLength(res.deadLetters);
  expect(outputs.deadLetters).toHaveLength(res.deadLetterMessages);
  expect(outputs.batches.reduce((n, b) => n + b.events.length, 0)).toBe(res.events);
  return { res, outputs };
}

function expectNoPollution(): void {
  for (const proto of [Object.prototype, Array.prototype, Function.prototype, String.prototype])
    expect(Object.getOwnPropertyNames(proto).filter((k) => /polluted|isAdmin/.test(k))).toEqual([]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
}

const keyVaultRecord = (extra: Record<string, unknown> = {}) => ({ category: 'AuditEvent', time: TIME, operationName: 'SecretGet', resourceId: `/SUBSCRIPTIONS/${SUB_A}/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV`, ...extra });

/** An object `depth` levels deep, built iteratively (a recursive builder would itself overflow). */
function deepObject(depth: number, leaf: unknown = 1): unknown {
  let o: unknown = leaf;
  for (let i = 0; i < depth; i++) o = { a: o };
  return o;
}
function deepArray(depth: number): unknown {
  let o: unknown = [];
  for (let i = 0; i < depth; i++) o = [o];
  return o;
}

describe('hostile ingest bodies', () => {
  it('10,000-level nesting, as bytes and as parsed objects, dead-letters the record and keeps its neighbours', async () => {
    const text = `{"records":[${JSON.stringify(keyVaultRecord())},{"category":"AuditEvent","time":"${TIME}","properties":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}]}`;
    const parsedDeep = { records: [keyVaultRecord(), { category: 'AuditEvent', time: TIME, properties: deepObject(10_000) }] };
    const bareDeep = deepArray(10_000);
    const { res, outputs } = await run([Buffer.from(text), parsedDeep, bareDeep, `${'['.repeat(10_000)}${']'.repeat(10_000)}`]);
    expect(res.events).toBe(2); // the shallow neighbour in each of the first two bodies
    expect(res.deadLetters).toBe(4);
    expect(failed(outputs).every((d) => d.reason === 'unparseable' || d.reason === 'unknown-shape')).toBe(true);
    expectNoPollution();
  });

  it('a 5 MB string dead-letters its record as too large without sinking the batch; a 1 MB string still maps', async () => {
    const huge = 'x'.repeat(5 * 1024 * 1024);
    const big = 'y'.repeat(1024 * 1024);
    const asText = `{"records":[${JSON.stringify(keyVaultRecord({ properties: { blob: huge } }))},${JSON.stringify(keyVaultRecord({ properties: { blob: big } }))}]}`;
    const asObject = { records: [keyVaultRecord({ properties: { blob: huge } }), keyVaultRecord()] };
    const { res, outputs } = await run([asText, asObject]);
    expect(res.records).toBe(4);
    expect(res.events).toBe(2);
    expect(failed(outputs).map((d) => d.reason)).toEqual(['unparseable', 'unparseable']);
    expect(failed(outputs).every((d) => /too large|exceeds/i.test(d.detail))).toBe(true);
  });

  it('invalid UTF-8 anywhere in a body never throws; a dead letter keeps the exact original bytes', async () => {
    const BAD = [[0xff], [0xfe, 0xff], [0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80]];
    const base = Buffer.from(JSON.stringify({ records: [keyVaultRecord({ identity: { claim: { upn: 'u@contoso.com' } } })] }));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(), fc.constantFrom(...BAD)), { minLength: 1, maxLength: 4 }), async (cuts) => {
        let body = base;
        for (const [at, bytes] of cuts) {
          const i = at % (body.length + 1);
          body = Buffer.concat([body.subarray(0, i), Buffer.from(bytes), body.subarray(i)]);
        }
        const { outputs } = await run([body]);
        // One dead letter for the message, holding its exact bytes, whatever number of records failed.
        expect(outputs.deadLetters.length).toBeLessThanOrEqual(1);
        for (const d of outputs.deadLetters) expect(Buffer.from(d.body).equals(body)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('__proto__ and constructor.prototype keys at any depth, as text or parsed, pollute nothing and keep the identity', async () => {
    const evil = fc.constantFrom('"__proto__":{"polluted":1,"isAdmin":true}', '"constructor":{"prototype":{"polluted":1}}', '"prototype":{"polluted":1}', '"__proto__":[1,2]', '"__proto__":null');
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 40 }), evil, fc.constantFrom('AuditEvent', 'SignInLogs', 'Administrative', 'StorageRead', 'Unknown'), fc.boolean(), fc.boolean(), async (depth, key, category, asText, inEnvelope) => {
        const inner = `{${key},"x":1}`;
        const nested = `${'{"a":'.repeat(depth)}${inner}${'}'.repeat(depth)}`;
        const record = `{${key},"category":"${category}","time":"${TIME}","operationName":"op","properties":{${key},"deep":${nested},"list":[${nested}]}}`;
        const text = inEnvelope ? `{"records":[${record}],${key}}` : record;
        const body = asText ? text : (JSON.parse(text) as unknown);
        const { outputs } = await run([body]);
        expectNoPollution();
        for (const ev of outputs.batches.flatMap((b) => b.events)) {
          expect(Object.getPrototypeOf(ev)).toBe(Object.prototype);
          expect((ev as Record<string, unknown>).polluted).toBeUndefined();
          expect((ev.metadata as Record<string, unknown>).isAdmin).toBeUndefined();
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });
});

describe('spoofing: a customer hub sending records that claim another tenant', () => {
  const signIn = (tenantId: string, id: string) => ({ time: TIME, category: 'SignInLogs', operationName: 'Sign-in activity', tenantId, resultType: '0', resourceId: `/tenants/${tenantId}/providers/Microsoft.aadiam`, properties: { id, userPrincipalName: 'u@x.com', userId: 'u1', ipAddress: '1.2.3.4', status: { errorCode: 0 } } });
  const activity = (sub: string, id: string) => ({ time: TIME, category: 'Administrative', operationName: 'MICROSOFT.WEB/SITES/WRITE', resultType: 'Success', correlationId: id, resourceId: `/SUBSCRIPTIONS/${sub.toUpperCase()}/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.WEB/SITES/APP` });
  type Kind = 'own-tenant' | 'own-sub' | 'other-tenant' | 'other-tenant-upper' | 'other-sub';
  const make = (k: Kind, i: number) => {
    if (k === 'own-tenant') return signIn(TENANT_A, `a${i}`);
    if (k === 'own-sub') return activity(SUB_A, `a${i}`);
    if (k === 'other-tenant') return signIn(TENANT_B, `b${i}`);
    if (k === 'other-tenant-upper') return signIn(TENANT_B.toUpperCase(), `b${i}`);
    return activity(SUB_B, `b${i}`);
  };

  it("quarantines every record naming tenant B or B's subscription as tenant-mismatch, and emits every record of A", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom<Kind>('own-tenant', 'own-sub', 'other-tenant', 'other-tenant-upper', 'other-sub'), { minLength: 1, maxLength: 30 }), fc.boolean(), async (kinds, oneMessagePerRecord) => {
        const records = kinds.map(make);
        const bodies = oneMessagePerRecord ? records : [{ records }];
        const { res, outputs } = await run(bodies, TENANT_A, [SUB_A]);
        const spoofed = kinds.filter((k) => k.startsWith('other')).length;
        figures.spoofed += spoofed;
        figures.quarantined += res.byReason['tenant-mismatch'] ?? 0;
        expect(res.byReason['tenant-mismatch'] ?? 0).toBe(spoofed);
        expect(res.events).toBe(kinds.length - spoofed);
        const events = outputs.batches.flatMap((b) => b.events);
        expect(events.every((e) => e.metadata.tenant_uid === TENANT_A)).toBe(true);
        expect(JSON.stringify(events.map((e) => ({ ...e, raw_data: '' })))).not.toContain(SUB_B);
        // Quarantined records keep their bytes, for review and replay: the listed ones point into their message.
        for (const d of failed(outputs)) {
          const bytes = d.listed?.start !== undefined ? Buffer.from(d.dl.body).subarray(d.listed.start, d.listed.end) : Buffer.from(d.dl.body);
          expect(JSON.parse(bytes.toString('utf8'))).toBeTruthy();
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });
});
