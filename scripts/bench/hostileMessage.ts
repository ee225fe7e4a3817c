/**
 * Hostile Event Hub messages for the ingest memory bound (bench and test/faults/ingestHeap.prop.test.ts): one body of
 * up to 1 MB (Event Hubs' message limit, MS docs event-hubs-quotas) made of records of several kinds, cycled until
 * the body reaches `bytes`, framed as Azure frames them or as an attacker would, optionally with one invalid UTF-8
 * byte (which stops decode from cutting records out exactly) and/or cut short.
 */
export const HOSTILE_KINDS = ['good', 'minimal', 'foreign', 'unknown', 'tiny', 'string', 'junk', 'deep', 'proto', 'escaped'] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];
export const HOSTILE_FRAMINGS = ['envelope', 'array', 'ndjson', 'concatenated'] as const;
export type HostileFraming = (typeof HOSTILE_FRAMINGS)[number];

export interface HostileRecipe {
  framing: HostileFraming;
  /** Record kinds, repeated in this order until the body is full. */
  mix: HostileKind[];
  bytes: number;
  /** Insert one 0xFF byte into the first record. */
  badUtf8?: boolean;
  /** Drop the body's last bytes (a value never closes). */
  truncate?: boolean;
}

export const MESSAGE_LIMIT_BYTES = 1024 * 1024;
export const HOSTILE_TENANT = '4bbb79f7-5724-4c9e-95f3-de075f6ec090';
const FOREIGN_TENANT = '11111111-2222-3333-4444-555555555555';
const SUB = 'c088dc46-d692-42ad-a4b6-9a542d28ad2a';

function record(kind: HostileKind, i: number): string {
  const t = `2026-03-02T10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`;
  switch (kind) {
    case 'good':
      return `{"time":"${t}","category":"AuditEvent","operationName":"SecretGet","resultType":"Success","correlationId":"c-${i}","resourceId":"/SUBSCRIPTIONS/${SUB.toUpperCase()}/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV","callerIpAddress":"10.0.${i % 250}.1"}`;
    case 'minimal':
      // The smallest record that still becomes an event (the catch-all Base Event mapper): most events per byte.
      return `{"category":"c${i % 10}","time":"${t}"}`;
    case 'foreign':
      return `{"time":"${t}","category":"SignInLogs","tenantId":"${FOREIGN_TENANT}","resultType":"0","properties":{"id":"s-${i}","userId":"u"}}`;
    case 'unknown':
      return `{"hello":${i}}`;
    case 'tiny':
      return '{}';
    case 'string':
      return `"s${i % 10}"`;
    case 'junk':
      return `x${i % 10}`;
    case 'deep':
      return `${'{"a":'.repeat(70)}${i}${'}'.repeat(70)}`;
    case 'proto':
      return `{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"category":"AuditEvent","time":"${t}","operationName":"op-${i}"}`;
    case 'escaped':
      return `{"\\u0063ategory":"AuditEvent","time":"${t}","operationName":"\\u00e9\\ud83d\\ude00-${i}","resourceId":"/SUBSCRIPTIONS/${SUB.toUpperCase()}/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV"}`;
  }
}

export function hostileMessage(r: HostileRecipe): Buffer {
  const max = Math.min(r.bytes, MESSAGE_LIMIT_BYTES);
  const [open, sep, close] = r.framing === 'envelope' ? ['{"records":[', ',', ']}'] : r.framing === 'array' ? ['[', ',', ']'] : r.framing === 'ndjson' ? ['', '\n', '\n'] : ['', '', ''];
  const parts: string[] = [];
  let size = open.length + close.length;
  const mix = r.mix.length > 0 ? r.mix : (['tiny'] as HostileKind[]);
  for (let i = 0; ; i++) {
    const rec = record(mix[i % mix.length]!, i);
    const add = Buffer.byteLength(rec) + (parts.length > 0 ? sep.length : 0) + (r.badUtf8 && i === 0 ? 1 : 0);
    if (size + add > max) break;
    parts.push(rec);
    size += add;
  }
  let body = Buffer.from(`${open}${parts.join(sep)}${close}`, 'utf8');
  if (r.badUtf8 && parts.length > 0) {
    const at = open.length + Math.min(2, parts[0]!.length);
    body = Buffer.concat([body.subarray(0, at), Buffer.from([0xff]), body.subarray(at)]);
  }
  if (r.truncate && body.length > 16) body = body.subarray(0, body.length - 7);
  return body;
}

/** The recipe the bench reports: 1 MB of mostly tiny failing records with one invalid byte, the worst case measured. */
export const BENCH_HOSTILE_RECIPE: HostileRecipe = { framing: 'envelope', mix: ['tiny', 'foreign', 'tiny', 'good', 'string', 'tiny'], bytes: MESSAGE_LIMIT_BYTES, badUtf8: true };
