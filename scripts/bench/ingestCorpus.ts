import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeText } from '../../src/lib/ingest/decode/decodeBody.js';
import { mapRecord } from '../../src/lib/ingest/dispatch.js';
import type { JsonObject, SourceId } from '../../src/lib/ingest/types.js';

/**
 * Builds realistic Event Hub batches for the ingest bench from the fixtures in test/fixtures/<source>/ (real Azure
 * telemetry, see SOURCES.md). Every record that the pipeline maps to its own folder's source is a template; batches
 * replicate the templates with varied ids and times (so event uids differ, as in a real stream) and pack them, compact,
 * into `{"records":[...]}` messages the way diagnostic settings / data export send them: one message per source, the
 * batch totalling ~`batchBytes`.
 */
export const BENCH_SOURCES = ['activity-log', 'storage', 'key-vault', 'sign-in', 'entra-audit', 'defender-alert'] as const satisfies readonly SourceId[];

export interface BenchBatch {
  bodies: Buffer[];
  records: number;
  bytes: number;
  recordsBySource: Record<string, number>;
}

export function loadTemplates(fixturesDir: string): Map<string, JsonObject[]> {
  const out = new Map<string, JsonObject[]>();
  const ctx = { tenantId: undefined, subscriptionIds: undefined, ingestTime: Date.UTC(2026, 0, 1) };
  for (const source of BENCH_SOURCES) {
    const list: JsonObject[] = [];
    const dir = join(fixturesDir, source);
    for (const f of readdirSync(dir).sort()) {
      if (f.endsWith('.expected.json') || f.endsWith('-expected.json')) continue;
      for (const rec of decodeText(readFileSync(join(dir, f), 'utf8'))) {
        if (!rec.ok || rec.repaired || typeof rec.value !== 'object' || rec.value === null || Array.isArray(rec.value)) continue;
        const res = mapRecord(rec.value, rec.raw, ctx);
        if (res.ok && res.source === source) list.push(rec.value as JsonObject);
      }
    }
    if (list.length === 0) throw new Error(`no mappable ${source} record in ${dir}`);
    out.set(source, list);
  }
  return out;
}

const TIME_KEYS = ['time', 'TimeGenerated', 'createdDateTime', 'activityDateTime', 'StartTimeUtc', 'TimeGeneratedUtc'];
/** Id-like keys whose values are varied per replica (never tenant/subscription/resource ids: attribution reads those). */
const ID_KEY = /^(?:correlationId|CorrelationId|eventDataId|EventDataId|operationId|id|Id|_ItemId|SystemAlertId|systemAlertId|requestId|uniqueTokenIdentifier|originalRequestId)$/;
const HEX_TAIL = /[0-9a-fA-F]{6}$/;

function vary(o: JsonObject, n: number, base: number, depth: number): JsonObject {
  const copy: JsonObject = {};
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'string' && TIME_KEYS.includes(k) && !Number.isNaN(Date.parse(v))) copy[k] = new Date(base + n * 997).toISOString();
    else if (typeof v === 'string' && ID_KEY.test(k) && HEX_TAIL.test(v)) copy[k] = v.slice(0, -6) + (n & 0xffffff).toString(16).padStart(6, '0');
    else if (depth === 0 && (k === 'properties' || k === 'Properties') && typeof v === 'object' && v !== null && !Array.isArray(v)) copy[k] = vary(v as JsonObject, n, base, 1);
    else copy[k] = v;
  }
  return copy;
}

/** `count` batches of ~`batchBytes` each; replica numbers continue across batches so every record is distinct. */
export function buildBatches(templates: Map<string, JsonObject[]>, count: number, batchBytes: number): BenchBatch[] {
  const perMessage = Math.floor(batchBytes / templates.size);
  const base = Date.UTC(2026, 0, 1);
  const next = new Map<string, number>();
  const batches: BenchBatch[] = [];
  for (let b = 0; b < count; b++) {
    const bodies: Buffer[] = [];
    const recordsBySource: Record<string, number> = {};
    let records = 0;
    for (const [source, list] of templates) {
      const parts: string[] = [];
      let size = '{"records":[]}'.length;
      let n = next.get(source) ?? 0;
      for (;;) {
        const text = JSON.stringify(vary(list[n % list.length]!, n, base, 0));
        if (parts.length > 0 && size + text.length + 1 > perMessage) break;
        parts.push(text);
        size += text.length + 1;
        n++;
      }
      next.set(source, n);
      bodies.push(Buffer.from(`{"records":[${parts.join(',')}]}`, 'utf8'));
      recordsBySource[source] = parts.length;
      records += parts.length;
    }
    batches.push({ bodies, records, bytes: bodies.reduce((s, x) => s + x.byteLength, 0), recordsBySource });
  }
  return batches;
}
