import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { changeSignals, type SignalContext } from '../../../src/lib/eventDriven/changeSignals.js';
import { handleIngestBatch } from '../../../src/lib/ingest/handleIngestBatch.js';
import { createMemoryOutputs } from '../../../src/lib/ingest/outputs/memoryOutputs.js';
import type { OcsfEvent } from '../../../src/lib/ingest/types.js';

/**
 * Change signals from activity-log records as they arrive on a hub. Records are Microsoft's own Event Hub example
 * (activity-log schema doc, test/fixtures/activity-log/msdocs-…eventhub-example.json) with the operation, resource,
 * result and caller of each case, mapped by the real ingest pipeline.
 */
const EXAMPLE = (JSON.parse(readFileSync(new URL('../../fixtures/activity-log/msdocs-azure-monitor-docs__activity-log-schema.md__eventhub-example.json', import.meta.url), 'utf8')) as { records: Record<string, unknown>[] }).records[0]!;
const TENANT = 'aaaaaaaa-0000-0000-0000-000000000001';
const SUB = 'aaaaaaaa-1111-0000-0000-000000000001';
const OTHER_SUB = 'cccccccc-1111-0000-0000-000000000001';
const APP_OID = '0a0a0a0a-0000-4000-8000-000000000001';
const RG = `/subscriptions/${SUB}/resourceGroups/app/providers`;

interface Case {
  op: string;
  id: string;
  result?: string;
  oid?: string;
  appid?: string;
  upn?: string;
  ip?: string;
  time?: string;
}

function record(c: Case): Record<string, unknown> {
  const identity = EXAMPLE.identity as { claims: Record<string, string>; authorization: unknown };
  return {
    ...EXAMPLE,
    time: c.time ?? '2026-12-01T10:00:00.0000000Z',
    resourceId: c.id.toUpperCase(),
    operationName: c.op.toUpperCase(),
    category: 'Administrative',
    resultType: c.result ?? 'Success',
    resultSignature: 'Succeeded.',
    callerIpAddress: c.ip ?? '198.51.100.7',
    correlationId: `corr-${c.op}-${c.id}`.slice(0, 100),
    identity: {
      ...identity,
      claims: {
        ...identity.claims,
        'http://schemas.microsoft.com/identity/claims/tenantid': TENANT,
        'http://schemas.microsoft.com/identity/claims/objectidentifier': c.oid ?? '123abc45-8211-44e3-95aa-85137af64708',
        appid: c.appid ?? '11112222-bbbb-3333-cccc-4444dddd5555',
        'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn': c.upn ?? 'mallory@acme.example',
      },
    },
    properties: { statusCode: 'OK', eventDataId: `ev-${c.op}-${c.id}-${c.result ?? ''}-${c.oid ?? ''}` },
  };
}

/** `known: null` = no known-subscription set (attribution does not check subscriptions; an empty set would refuse them all). */
async function eventsOf(cases: Case[], hubTenant = TENANT, known: string[] | null = [SUB]): Promise<OcsfEvent[]> {
  const outputs = createMemoryOutputs();
  await handleIngestBatch({ bodies: [{ records: cases.map(record) }], binding: { tenantId: hubTenant, hub: 'h' }, subscriptionIds: known ?? undefined, ingestTime: Date.parse('2026-12-01T10:05:00Z'), outputs });
  return outputs.batches.flatMap((b) => b.events);
}

const ctx = (over: Partial<SignalContext> = {}): SignalContext => ({ tenantId: TENANT, knownSubscriptions: new Set([SUB]), self: new Set([APP_OID]), automationResourceGroup: 'MDRAutomation', ...over });
const signalsOf = async (cases: Case[], over: Partial<SignalContext> = {}) => changeSignals(await eventsOf(cases), ctx(over));

describe('change signals from activity-log records', () => {
  it('turns a succeeded storage account, vault or workspace write into a reconcile of that resource', async () => {
    const s = await signalsOf([
      { op: 'Microsoft.Storage/storageAccounts/write', id: `${RG}/Microsoft.Storage/storageAccounts/newacct` },
      { op: 'Microsoft.KeyVault/vaults/write', id: `${RG}/Microsoft.KeyVault/vaults/newvault` },
      { op: 'Microsoft.OperationalInsights/workspaces/write', id: `${RG}/Microsoft.OperationalInsights/workspaces/newws` },
    ]);
    expect(s.map((x) => x.resourceId)).toEqual([
      `${RG}/Microsoft.Storage/storageAccounts/newacct`.toLowerCase(),
      `${RG}/Microsoft.KeyVault/vaults/newvault`.toLowerCase(),
      `${RG}/Microsoft.OperationalInsights/workspaces/newws`.toLowerCase(),
    ]);
    expect(s.every((x) => x.subscriptionId === SUB && x.evidence === undefined && /^[0-9a-f]{32}$/.test(x.uid))).toBe(true);
  });

  it('ignores what did not succeed, reads, actions and resources reconcile does not watch', async () => {
    const acct = `${RG}/Microsoft.Storage/storageAccounts/newacct`;
    const s = await signalsOf([
      { op: 'Microsoft.Storage/storageAccounts/write', id: acct, result: 'Start' },
      { op: 'Microsoft.Storage/storageAccounts/write', id: acct, result: 'Failure' },
      { op: 'Microsoft.Storage/storageAccounts/listKeys/action', id: acct },
      { op: 'Microsoft.Storage/storageAccounts/delete', id: acct },
      { op: 'Microsoft.Web/sites/write', id: `${RG}/Microsoft.Web/sites/app` },
      { op: 'Microsoft.Insights/diagnosticSettings/write', id: `${RG}/Microsoft.EventHub/namespaces/ns/providers/Microsoft.Insights/diagnosticSettings/x` },
      { op: 'Microsoft.Resources/subscriptions/resourceGroups/write', id: `/subscriptions/${SUB}/resourceGroups/app` },
    ]);
    expect(s).toEqual([]);
  });

  it('keeps who, what, when and from where of a diagnostic-setting delete, and reconciles what the setting sat on', async () => {
    const blob = `${RG}/Microsoft.Storage/storageAccounts/acmegpv2/blobServices/default`;
    const [s, ...rest] = await signalsOf([{ op: 'Microsoft.Insights/diagnosticSettings/delete', id: `${blob}/providers/Microsoft.Insights/diagnosticSettings/mdr-export`, upn: 'mallory@acme.example', ip: '198.51.100.7', time: '2026-12-01T10:00:00Z' }]);
    expect(rest).toEqual([]);
    expect(s?.resourceId).toBe(blob.toLowerCase());
    expect(s?.evidence).toMatchObject({
      kind: 'delete',
      objectType: 'diagnostic-setting',
      objectName: 'mdr-export',
      on: blob.toLowerCase(),
      at: Date.parse('2026-12-01T10:00:00Z'),
      callerIp: '198.51.100.7',
      operation: 'microsoft.insights/diagnosticsettings/delete',
      caller: { name: 'mallory@acme.example', uid: '123abc45-8211-44e3-95aa-85137af64708', appId: '11112222-bbbb-3333-cccc-4444dddd5555', tenantId: TENANT },
    });
  });

  it('dates evidence against when its message reached the hub, not against the record\'s own claim or our late processing', async () => {
    const blob = `${RG}/Microsoft.Storage/storageAccounts/acmegpv2/blobServices/default`;
    const del = (time: string) => ({ op: 'Microsoft.Insights/diagnosticSettings/delete', id: `${blob}/providers/Microsoft.Insights/diagnosticSettings/mdr-export`, time });
    // Ingested at 10:05 (eventsOf): a record claiming 2020, or an hour ahead, is no evidence; its target is still reconciled.
    for (const t of ['2020-01-01T00:00:00Z', '2026-12-01T11:05:00Z']) {
      const [s] = await signalsOf([del(t)]);
      expect(s?.resourceId).toBe(blob.toLowerCase());
      expect(s?.evidence).toBeUndefined();
    }
    // A backlog ingest gets through 9 hours late: measured from the hub's enqueued time, the record is evidence.
    const late = del('2026-12-01T01:00:00Z');
    expect((await signalsOf([late]))[0]?.evidence).toBeUndefined();
    const arrival = { from: Date.parse('2026-12-01T01:02:00Z'), to: Date.parse('2026-12-01T01:04:00Z') };
    expect((await signalsOf([late], { arrival }))[0]?.evidence).toMatchObject({ objectName: 'mdr-export' });
  });

  it('names the subscription for its activity-log setting, the workspace for a data-export rule and the automation group for a Defender automation', async () => {
    const ws = `${RG}/Microsoft.OperationalInsights/workspaces/acme-entra`;
    const s = await signalsOf([
      { op: 'Microsoft.Insights/diagnosticSettings/write', id: `/subscriptions/${SUB}/providers/Microsoft.Insights/diagnosticSettings/mdr-export` },
      { op: 'Microsoft.OperationalInsights/workspaces/dataExports/delete', id: `${ws}/dataExports/mdr-entra-export` },
      { op: 'Microsoft.Security/automations/write', id: `/subscriptions/${SUB}/resourceGroups/MDRAutomation/providers/Microsoft.Security/automations/mdr-defender-export` },
      { op: 'Microsoft.Resources/subscriptions/resourceGroups/write', id: `/subscriptions/${SUB}/resourceGroups/mdrautomation` },
    ]);
    expect(s.map((x) => [x.resourceId, x.evidence?.objectType, x.evidence?.kind])).toEqual([
      [`/subscriptions/${SUB}`, 'diagnostic-setting', 'write'],
      [ws.toLowerCase(), 'data-export', 'delete'],
      [`/subscriptions/${SUB}/resourcegroups/mdrautomation`, 'automation', 'write'],
      [`/subscriptions/${SUB}/resourcegroups/mdrautomation`, undefined, undefined],
    ]);
  });

  it('reads a Lighthouse registration assignment write as a sign of new delegated subscriptions', async () => {
    const s = await signalsOf([{ op: 'Microsoft.ManagedServices/registrationAssignments/write', id: `/subscriptions/${SUB}/providers/Microsoft.ManagedServices/registrationAssignments/9c3d1b2a-0000-4000-8000-000000000001` }]);
    expect(s).toEqual([{ uid: expect.any(String), subscriptionId: SUB, newSubscriptions: true }]);
  });

  it("gives no signal for the app's own writes, by object id or by client id", async () => {
    const setting = `${RG}/Microsoft.KeyVault/vaults/acme-kv/providers/Microsoft.Insights/diagnosticSettings/mdr-export`;
    expect(await signalsOf([{ op: 'Microsoft.Insights/diagnosticSettings/write', id: setting, oid: APP_OID }])).toEqual([]);
    expect(await signalsOf([{ op: 'Microsoft.Insights/diagnosticSettings/write', id: setting, appid: 'feedfeed-0000-4000-8000-000000000009' }], { self: new Set(['feedfeed-0000-4000-8000-000000000009']) })).toEqual([]);
    expect(await signalsOf([{ op: 'Microsoft.Insights/diagnosticSettings/write', id: setting }])).toHaveLength(1);
  });

  it("never signals a subscription the hub's tenant is not known to own, nor for another tenant than the hub's", async () => {
    const other = `/subscriptions/${OTHER_SUB}/resourceGroups/app/providers/Microsoft.Storage/storageAccounts/theirs`;
    // No known set at ingest: attribution does not check the subscription, the signal does.
    const events = await eventsOf([{ op: 'Microsoft.Storage/storageAccounts/write', id: other }], TENANT, null);
    expect(events).toHaveLength(1);
    expect(changeSignals(events, ctx())).toEqual([]);
    expect(changeSignals(events, ctx({ knownSubscriptions: new Set() }))).toEqual([]);
    // An event attributed to another tenant than the one the hub belongs to.
    const mine = await eventsOf([{ op: 'Microsoft.Storage/storageAccounts/write', id: `${RG}/Microsoft.Storage/storageAccounts/a` }]);
    expect(changeSignals(mine, ctx({ tenantId: 'dddddddd-0000-0000-0000-000000000009' }))).toEqual([]);
  });

  it('gives the same uid to the same record redelivered', async () => {
    const c: Case = { op: 'Microsoft.Storage/storageAccounts/write', id: `${RG}/Microsoft.Storage/storageAccounts/newacct` };
    const [a] = await signalsOf([c]);
    const [b] = await signalsOf([c]);
    expect(a?.uid).toBe(b?.uid);
  });
});
