import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { restamp, type RestampIds } from './restamp.js';

/**
 * What the sandbox sends through the Event Hub handler: every corpus fixture (test/fixtures/<source>/, see
 * SOURCES.md) as one message, re-stamped with the scenario's ids, plus a few bodies that must be dead-lettered.
 * Expected outputs (`*.expected.json`, and third-party `*-expected.json` pipeline outputs) are not telemetry.
 */
export const FIXTURE_SOURCES = ['activity-log', 'storage', 'key-vault', 'sign-in', 'entra-audit', 'defender-alert', 'edge-cases'] as const;

export interface TelemetryMessage {
  /** `<source>/<file>` for fixtures, `malformed/<case>` for the hand-made bad bodies. */
  label: string;
  kind: 'fixture' | 'malformed';
  body: Buffer;
}

/** A tenant that is not the onboarded one: a record naming it must be refused (`tenant-mismatch`). */
export const FOREIGN_TENANT_ID = '0badf00d-0000-4000-8000-00000000f00d';

function keyVaultRecord(ids: RestampIds, tenantId: string, operation: string): Record<string, unknown> {
  const sub = ids.subscriptionIds[0]!;
  return {
    time: '2026-11-26T09:15:02.4410000Z',
    resourceId: `/SUBSCRIPTIONS/${sub.toUpperCase()}/RESOURCEGROUPS/RG-PROD-SECURITY/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV-SANDBOX`,
    operationName: operation,
    operationVersion: '7.4',
    category: 'AuditEvent',
    resultType: 'Success',
    resultSignature: 'OK',
    durationMs: '12',
    callerIpAddress: '203.0.113.7',
    correlationId: 'b0f1c2d3-0000-4000-8000-000000000001',
    identity: { claim: { oid: '5d1b2c3a-0000-4000-8000-000000000002', appid: '04b07795-8ddb-461a-bbee-02f9e1bf7b46' } },
    properties: { clientInfo: 'sandbox', httpStatusCode: 200, requestUri: 'https://kv-sandbox.vault.azure.net/secrets/db-password?api-version=7.4', id: 'https://kv-sandbox.vault.azure.net/secrets/db-password' },
    tenantId,
  };
}

/** Bodies that must not become events: each exercises one dead-letter path. */
export function malformedMessages(ids: RestampIds, fixturesDir: string): TelemetryMessage[] {
  const m = (label: string, body: Buffer): TelemetryMessage => ({ label: `malformed/${label}`, kind: 'malformed', body });
  const envelope = restamp(readFileSync(join(fixturesDir, 'key-vault', 'msdocs-azure-security-docs__key-vault-general-logging.md__block0.json'), 'utf8'), ids);
  const valid = JSON.stringify({ records: [keyVaultRecord(ids, ids.tenantId, 'SecretGet')] });
  const utf8Cut = Buffer.from(valid, 'utf8');
  const at = utf8Cut.indexOf('sandbox');
  return [
    m('invalid-json', Buffer.from('{"records":[{"time":"2026-11-26T09:20:00Z","category":"AuditEvent","operationName":"SecretList",,"resultType":}]}', 'utf8')),
    m('truncated-envelope', Buffer.from(envelope.slice(0, Math.floor(envelope.length * 0.6)), 'utf8')),
    m('foreign-tenant', Buffer.from(JSON.stringify({ records: [keyVaultRecord(ids, FOREIGN_TENANT_ID, 'SecretSet')] }), 'utf8')),
    // 0xC3 0x28 is not UTF-8 (a lead byte followed by an ASCII byte), inside a string value.
    m('invalid-utf8', Buffer.concat([utf8Cut.subarray(0, at), Buffer.from([0xc3, 0x28]), utf8Cut.subarray(at)])),
  ];
}

/** The REST spec example wraps its alert in `responses.200.body`, which is the `.body.json` beside it: send that one. */
const NOT_EVENT_HUB_BODIES = new Set(['azure-rest-api-specs__Alerts__GetAlertSubscriptionLocation_example.json']);

/**
 * A Datadog test-definition YAML holds real records as `- sample: |-` blocks: each block is one body as it
 * arrived, so the hub gets those, not the YAML around them.
 */
export function yamlSampleBlocks(text: string): string[] {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)- sample: \|-\s*$/.exec(lines[i]!);
    if (!m) continue;
    const keyIndent = m[1]!.length + 2;
    const block: string[] = [];
    while (i + 1 < lines.length && (lines[i + 1]!.trim() === '' || lines[i + 1]!.search(/\S/) > keyIndent)) block.push(lines[++i]!);
    out.push(block.join('\n').trim());
  }
  return out;
}

export function sandboxTelemetry(fixturesDir: string, ids: RestampIds): TelemetryMessage[] {
  const out: TelemetryMessage[] = [];
  for (const source of FIXTURE_SOURCES) {
    const files = readdirSync(join(fixturesDir, source))
      .filter((f) => !f.endsWith('.expected.json') && !f.endsWith('-expected.json') && !NOT_EVENT_HUB_BODIES.has(f))
      .sort();
    for (const f of files) {
      const text = readFileSync(join(fixturesDir, source, f), 'utf8');
      const bodies = f.endsWith('.yaml') ? yamlSampleBlocks(text) : [text];
      bodies.forEach((b, i) => out.push({ label: `${source}/${f}${bodies.length > 1 ? `#${i + 1}` : ''}`, kind: 'fixture', body: Buffer.from(restamp(b, ids), 'utf8') }));
    }
  }
  return [...out, ...malformedMessages(ids, fixturesDir)];
}
