import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { handleIngestBatch } from '../../../src/lib/ingest/handleIngestBatch.js';
import { createMemoryOutputs } from '../../../src/lib/ingest/outputs/memoryOutputs.js';
import { validateOcsfEvent } from '../../../src/lib/ingest/ocsf/validate.js';
import { failedRecordsOf } from '../../../src/lib/ingest/deadLetter.js';

const root = join(import.meta.dirname, '../../fixtures');
const fixtures = ['activity-log', 'sign-in', 'key-vault', 'storage', 'entra-audit', 'entra-risk', 'defender-alert', 'edge-cases'].flatMap((s) =>
  readdirSync(join(root, s))
    .filter((f) => !f.endsWith('.expected.json') && !f.endsWith('.yaml'))
    .map((f) => readFileSync(join(root, s, f))),
);

/** A fixture with byte-level damage: truncation, a flipped byte, spliced junk, a duplicated slice. */
const mutatedFixture = fc
  .tuple(fc.constantFrom(...fixtures), fc.nat(), fc.nat(), fc.uint8Array({ maxLength: 16 }), fc.integer({ min: 0, max: 4 }))
  .map(([buf, a, b, junk, kind]) => {
    const i = buf.length === 0 ? 0 : a % buf.length;
    const j = buf.length === 0 ? 0 : b % buf.length;
    switch (kind) {
      case 0:
        return buf.subarray(0, i);
      case 1: {
        const c = Buffer.from(buf);
        if (c.length > 0) c[i] = (c[i]! ^ (1 << (b % 8))) & 0xff;
        return c;
      }
      case 2:
        return Buffer.concat([buf.subarray(0, i), junk, buf.subarray(i)]);
      case 3:
        return Buffer.concat([buf, buf.subarray(Math.min(i, j), Math.max(i, j))]);
      default:
        return buf;
    }
  });

const anyBody = fc.oneof(
  mutatedFixture,
  fc.uint8Array({ maxLength: 300 }),
  fc.string({ maxLength: 300 }),
  fc.jsonValue({ maxDepth: 4 }),
  fc.json({ maxDepth: 4 }),
  fc.record({ records: fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 5 }) }),
  fc.record({ category: fc.constantFrom('SignInLogs', 'AuditLogs', 'Administrative', 'StorageRead', 'AuditEvent', 'Security', 'ServiceHealth'), time: fc.oneof(fc.string(), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.integer()), properties: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.string()) }, { requiredKeys: ['category'] }),
);

async function run(bodies: unknown[], tenantId?: string) {
  const outputs = createMemoryOutputs();
  const res = await handleIngestBatch({ bodies, messages: bodies.map((_, i) => ({ partitionId: '0', sequenceNumber: i })), binding: { tenantId, hub: 'h' }, ingestTime: 1, outputs });
  return { res, outputs, events: outputs.batches.flatMap((b) => b.events) };
}

describe('ingest properties', () => {
  it('never throws, keeps records = events + dead letters, and emits only valid OCSF', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(anyBody, { minLength: 1, maxLength: 4 }), fc.option(fc.constant('4bbb79f7-5724-4c9e-95f3-de075f6ec090'), { nil: undefined }), async (bodies, tenant) => {
        const { res, outputs, events } = await run(bodies, tenant);
        expect(res.records).toBe(res.mapped + res.deadLetters);
        expect(events.length).toBe(res.events);
        expect(outputs.deadLetters.reduce((n, d) => n + failedRecordsOf(d).length, 0)).toBe(res.deadLetters);
        expect(outputs.deadLetters.length).toBe(res.deadLetterMessages);
        expect(res.records).toBeGreaterThanOrEqual(bodies.length);
        for (const ev of events) expect(validateOcsfEvent(ev).errors).toEqual([]);
      }),
      { numRuns: 250 },
    );
  });

  it('redelivering the same bodies yields identical uids and dead letters', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(anyBody, { minLength: 1, maxLength: 3 }), async (bodies) => {
        const a = await run(bodies);
        const b = await run(bodies);
        expect(b.events.map((e) => e.metadata.uid)).toEqual(a.events.map((e) => e.metadata.uid));
        expect(b.outputs.deadLetters).toEqual(a.outputs.deadLetters);
      }),
      { numRuns: 100 },
    );
  });

  it('prototype-pollution keys never reach Object.prototype or the events', async () => {
    const evil = fc.constantFrom('__proto__', 'constructor', 'prototype');
    await fc.assert(
      fc.asyncProperty(evil, fc.constantFrom('SignInLogs', 'AuditLogs', 'Administrative', 'AuditEvent', 'X'), fc.boolean(), async (key, category, asText) => {
        const text = `{"records":[{"category":"${category}","time":"2024-01-01T00:00:00Z","${key}":{"polluted":true},"properties":{"${key}":{"polluted":true},"id":"1","nested":{"${key}":{"polluted":true}}}}]}`;
        const body = asText ? text : (JSON.parse(text) as unknown);
        const { events } = await run([body]);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(Object.prototype).not.toHaveProperty('polluted');
        for (const ev of events) expect(JSON.stringify({ ...ev, raw_data: '' })).not.toContain(`"${key}"`);
      }),
      { numRuns: 30 },
    );
  });

  it('refuses nesting deeper than 64 levels and huge bodies without crashing', async () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const deepRecord = `{"records":[{"category":"AuditEvent","time":"2024-01-01T00:00:00Z","x":${'{"a":'.repeat(100)}1${'}'.repeat(100)}},{"category":"AuditEvent","time":"2024-01-01T00:00:00Z","operationName":"SecretGet"}]}`;
    const { res, outputs } = await run([deep, deepRecord, Buffer.alloc(9 * 1024 * 1024, 0x20)]);
    expect(res.records).toBe(4);
    expect(res.events).toBe(1);
    expect(outputs.deadLetters.flatMap((d) => d.failures.map((f) => f.detail))).toEqual([
      expect.stringContaining('nesting deeper than 64'),
      expect.stringContaining('nesting deeper than 64'),
      expect.stringContaining('exceeds the'),
    ]);
  });
});
