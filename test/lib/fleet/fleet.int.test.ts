import { BlobServiceClient, ContainerClient, ContainerSASPermissions } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { startFleetWorld, type FleetWorld } from '../../../scripts/bench/fleetWorld.js';
import { runFleetBench } from '../../../scripts/bench/fleetBench.js';
import { addFunctionApp } from '../../../sim/state.js';
import { makeBindingsCommand } from '../../../src/cli/commands/bindings.js';
import { makeRebalanceCommand } from '../../../src/cli/commands/rebalance.js';
import { parseSettings } from '../../../src/lib/config/settings.js';
import { CHECKPOINT_CONTAINER, checkpointBlobName } from '../../../src/lib/fleet/checkpoints.js';
import { MAX_ENV_STRING_BYTES } from '../../../src/lib/fleet/settingsLimits.js';
import { rebalanceIngest } from '../../../src/lib/fleet/rebalance.js';
import { syncIngestAppSettings } from '../../../src/lib/onboarding/appSettingsSync.js';
import { createMemoryRegistry } from '../../../src/lib/registry/memoryRegistry.js';
import { createMemoryPartitionInfo } from '../../../src/lib/health/memoryPartitionInfo.js';
import { runHealthCheck } from '../../../src/lib/health/runHealthCheck.js';
import { handleIngestBatch } from '../../../src/lib/ingest/handleIngestBatch.js';
import { createMemoryOutputs } from '../../../src/lib/ingest/outputs/memoryOutputs.js';
import { ingestTriggers, type IngestTriggerSpec } from '../../../src/lib/onboarding/ingestTriggers.js';
import { useAzurite } from '../../support/azurite.js';

const tid = (i: number) => `f1ee7000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const REGIONS = ['westeurope', 'northeurope'];

const az = useAzurite({ startTimeoutMs: 30_000 });

/** The triggers an ingest app would register from the settings the simulator holds for it (as the host would load them). */
function triggersOf(w: FleetWorld, app: string): IngestTriggerSpec[] {
  const s = w.appSettings(app);
  return ingestTriggers(parseSettings({ ...w.env, ...s, MDR_APP_ROLE: 'ingest' }), s);
}

describe('the ingest fleet on Azurite and the ARM simulator', () => {
  it('onboards 12 tenants × 2 regions into three apps of 8 hubs: every onboarding rewrites exactly one app, each app well under the settings limit, and the 13th tenant is refused for capacity', async () => {
    const r = await runFleetBench({ tenants: 12, regions: REGIONS, apps: 3, maxHubsPerApp: 8, azurite: az });
    expect(r.appsRewrittenPerOnboarding).toEqual(Array(12).fill(1));
    expect(r.appsRewrittenHistogram).toEqual({ '1': 12 });
    expect(r.perApp.map((a) => a.bindings)).toEqual([8, 8, 8]);
    for (const a of r.perApp) expect(a.largestSettingBytes).toBeLessThan(MAX_ENV_STRING_BYTES);
    expect(r.hubs).toBe(24);
    expect(r.duplicateBindings).toBe(0);
    expect(r.missingBindings).toBe(0);
    expect(r.fullFleetRefused).toBe(true);
  }, 180_000);

  it('refuses a tenant when the fleet is full before creating anything, shows it in health, and takes it once an app is added, rewriting only the new app', async () => {
    const w = await startFleetWorld({ apps: 2, maxHubsPerApp: 4, regions: REGIONS, azurite: az });
    try {
      for (let i = 1; i <= 4; i++) expect((await w.put(tid(i))).status).toBe(201);
      w.sim.clearRequests();
      const refused = await w.put(tid(5));
      expect(refused.status).toBe(503);
      expect(refused.jsonBody.detail).toMatch(/Every ingest app is full: 2 active app\(s\) × 4 hubs .* ingestAppCount=3/);
      expect(w.sim.requests.filter((r) => r.method !== 'GET')).toEqual([]);
      expect(await w.registry.getTenant(tid(5))).toBeUndefined();

      const health = await runHealthCheck({ registry: w.registry, partitionInfo: createMemoryPartitionInfo(), settings: w.settings }, { dryRun: true });
      expect(health.fleet).toMatchObject({ capacity: 8, used: 8, free: 0, full: true, unassigned: [] });
      expect(health.fleet?.problems[0]).toMatch(/ingestAppCount=3/);

      // One more deployment: a third app, listed in MDR_INGEST_APPS.
      const p = w.sim.state;
      const third = w.apps[0]!.id.replace(/mdr-ingest-01$/, 'mdr-ingest-03');
      addFunctionApp(p, third.split('/')[2]!, 'rg-mdr-app', 'mdr-ingest-03', 'westeurope');
      const grown = w.settingsWith({ MDR_INGEST_APPS: [...w.apps.map((a) => a.id), third].join(',') });
      w.sim.clearRequests();
      expect((await w.put(tid(5), grown)).status).toBe(201);
      expect(w.appsWritten()).toEqual(['mdr-ingest-03']);
      const bindings = JSON.parse(p.appSettings.get(third.toLowerCase())?.MDR_INGEST_BINDINGS ?? '[]') as { tenantId: string }[];
      expect(bindings.map((b) => b.tenantId)).toEqual([tid(5), tid(5)]);
      const after = await runHealthCheck({ registry: w.registry, partitionInfo: createMemoryPartitionInfo(), settings: grown }, { dryRun: true });
      expect(after.fleet).toMatchObject({ capacity: 12, used: 10, full: false });
    } finally {
      await w.stop();
    }
  }, 180_000);

  it('moves hubs make-before-break: the new owner is written first, no hub is ever unread, and it resumes from the old owner’s checkpoints with the same event uids', async () => {
    const w = await startFleetWorld({ apps: 3, maxHubsPerApp: 8, regions: REGIONS, azurite: az });
    try {
      for (let i = 1; i <= 6; i++) expect((await w.put(tid(i))).status).toBe(201);
      const byApp = () => Object.fromEntries(w.apps.map((a) => [a.name, triggersOf(w, a.name).length]));
      expect(byApp()).toEqual({ 'mdr-ingest-01': 8, 'mdr-ingest-02': 4, 'mdr-ingest-03': 0 });

      // The old owner checkpointed every partition of a hub that will move (as the extension does, in the shared account).
      const moving = triggersOf(w, 'mdr-ingest-01').find((t) => t.tenantId === tid(4))!;
      const container = BlobServiceClient.fromConnectionString(az.connectionString).getContainerClient(CHECKPOINT_CONTAINER);
      await container.createIfNotExists();
      for (const [p, seq] of [['0', 41], ['1', 7], ['2', 1300], ['3', 0]] as const) {
        await container.getBlockBlobClient(checkpointBlobName(moving.fullyQualifiedNamespace, moving.eventHubName, moving.consumerGroup, p)).upload('', 0, { metadata: { sequencenumber: String(seq), offset: String(seq * 512) } });
      }
      const before = Object.fromEntries(w.apps.map((a) => [a.name, w.appSettings(a.name)]));

      w.sim.clearRequests();
      const result = await rebalanceIngest({ settings: w.settings, registry: w.registry, clients: w.clients, checkpoints: container }, { kind: 'even' });
      expect(result.unplaced).toEqual([]);
      expect(byApp()).toEqual({ 'mdr-ingest-01': 4, 'mdr-ingest-02': 4, 'mdr-ingest-03': 4 });

      // Replay the settings writes in order: after each one, every hub is still read by at least one app.
      const writes = w.sim.requests.filter((r) => r.method === 'PUT' && /\/config\/appsettings$/.test(r.path));
      const order = writes.map((r) => /sites\/([^/]+)\//.exec(r.path)![1]);
      expect(order[order.length - 1]).toBe('mdr-ingest-01');
      expect(order.indexOf('mdr-ingest-03')).toBeLessThan(order.indexOf('mdr-ingest-01'));
      const state = structuredClone(before);
      const all = new Set(Object.values(before).flatMap((s) => (JSON.parse(s.MDR_INGEST_BINDINGS ?? '[]') as { tenantId: string; region: string }[]).map((b) => `${b.tenantId}/${b.region}`)));
      for (const r of writes) {
        state[/sites\/([^/]+)\//.exec(r.path)![1]!] = (r.body as { properties: Record<string, string> }).properties;
        const read = new Set(Object.values(state).flatMap((s) => (JSON.parse(s.MDR_INGEST_BINDINGS ?? '[]') as { tenantId: string; region: string }[]).map((b) => `${b.tenantId}/${b.region}`)));
        expect([...all].filter((k) => !read.has(k))).toEqual([]);
      }

      // The new owner finds the old owner's checkpoints: same namespace, hub and consumer group, same account.
      const move = result.moves.find((m) => m.tenantId === tid(4) && m.region === moving.region)!;
      expect(move.from).toBe('mdr-ingest-01');
      const now = triggersOf(w, move.to).find((t) => t.tenantId === tid(4) && t.region === moving.region)!;
      expect(triggersOf(w, 'mdr-ingest-01').some((t) => t.tenantId === tid(4) && t.region === moving.region)).toBe(false);
      for (const p of ['0', '1', '2', '3']) {
        expect(checkpointBlobName(now.fullyQualifiedNamespace, now.eventHubName, now.consumerGroup, p)).toBe(checkpointBlobName(moving.fullyQualifiedNamespace, moving.eventHubName, moving.consumerGroup, p));
      }
      const reported = result.checkpoints.find((c) => c.hub === `${tid(4)}/${moving.region}`)!;
      expect(reported.before.map((c) => [c.partitionId, c.sequenceNumber])).toEqual([['0', 41], ['1', 7], ['2', 1300], ['3', 0]]);
      expect(reported.after).toEqual(reported.before);

      // What the old owner had read but not checkpointed is read again by the new one: same uids, same batch id.
      const batch = { records: [{ time: '2026-11-20T10:00:00Z', category: 'Administrative', operationName: 'MICROSOFT.STORAGE/STORAGEACCOUNTS/WRITE', resultType: 'Success', eventDataId: 'e-1', resourceId: `/subscriptions/abcd0000-0000-4000-8000-000000000001/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1` }] };
      const deliver = async (t: IngestTriggerSpec) => {
        const outputs = createMemoryOutputs();
        await handleIngestBatch({ bodies: [batch], messages: [{ partitionId: '0', sequenceNumber: 42 }], binding: t.binding, ingestTime: 1, outputs });
        return { uids: outputs.batches.flatMap((b) => b.events.map((e) => e.metadata.uid)), ids: outputs.batches.map((b) => b.batchId) };
      };
      const old = await deliver(moving);
      expect(old.uids).toHaveLength(1);
      expect(await deliver(now)).toEqual(old);
    } finally {
      await w.stop();
    }
  }, 180_000);

  it('in manual mode assigns hubs but writes no settings, and azure-mdr bindings then writes exactly the app that holds them', async () => {
    const w = await startFleetWorld({ apps: 2, maxHubsPerApp: 4, regions: REGIONS, azurite: az });
    try {
      const manual = w.settingsWith({ MDR_INGEST_SETTINGS_SYNC: 'manual' });
      w.sim.clearRequests();
      const res = await w.put(tid(1), manual);
      expect(res.status).toBe(201);
      expect(res.jsonBody.appSettings).toBe('skipped');
      expect(w.appsWritten()).toEqual([]);
      expect((await w.registry.listIngestApps()).map((a) => [a.name, a.hubs.length])).toEqual([['mdr-ingest-01', 2], ['mdr-ingest-02', 0]]);

      const out: string[] = [];
      const io = { stdin: [], stdout: { write: (x: string) => out.push(x) }, stderr: { write: (x: string) => out.push(x) }, env: {} };
      const cmd = makeBindingsCommand(async () => ({ settings: manual, registry: w.registry, clients: w.clients }));
      expect(await cmd.run([], io)).toBe(0);
      expect(w.appsWritten()).toEqual(['mdr-ingest-01']);
      expect(out.join('')).toMatch(/^mdr-ingest-01: updated, 2 binding\(s\), \d+ bytes; added MDR_INGEST_BINDINGS/m);
      expect(out.join('')).toMatch(/^mdr-ingest-02: unchanged, 0 binding\(s\)/m);
      expect(triggersOf(w, 'mdr-ingest-01').map((t) => t.tenantId)).toEqual([tid(1), tid(1)]);
      out.length = 0;
      w.sim.clearRequests();
      expect(await cmd.run([], io)).toBe(0);
      expect(w.appsWritten()).toEqual([]);
      // A typo in --app names no app of the fleet: refused (exit 2 through main), not a silent success.
      const typo = manual.fleet.ingestApps[0]!.replace(/mdr-ingest-01$/, 'mdr-ingset-01');
      expect(typo).not.toBe(manual.fleet.ingestApps[0]);
      await expect(cmd.run(['--app', typo], io)).rejects.toThrow(/mdr-ingset-01 is not in the ingest fleet/);
      expect(await cmd.run(['--app', manual.fleet.ingestApps[1]!], io)).toBe(0);
      expect(w.appsWritten()).toEqual([]);
    } finally {
      await w.stop();
    }
  }, 180_000);

  it('refuses to write an ingest app whose bindings would not fit one environment string, and leaves its settings as they were', async () => {
    const w = await startFleetWorld({ apps: 1, maxHubsPerApp: 360, regions: ['westeurope'], azurite: az });
    try {
      // A registry that lists far more hubs for one app than any shard allows (hand-edited, or a bug): 600 hubs.
      const registry = createMemoryRegistry();
      const ns = 'mdr-ingest-westeurope-01';
      await registry.putNamespace({ region: 'westeurope', namespace: ns, namespaceId: `/ns/${ns}`, tier: 'Premium', maxHubs: 1000, hubCount: 0, tenants: [], state: 'ready' });
      const keys: string[] = [];
      for (let i = 1; i <= 600; i++) {
        await registry.putHub({ tenantId: tid(i), region: 'westeurope', namespace: ns, namespaceId: `/ns/${ns}`, hub: `mdr-${tid(i)}`, consumerGroup: 'mdr-ingest', namespaceRuleId: '/r', sendRuleId: '/s', state: 'ready', createdAt: '2026-01-01T00:00:00Z' });
        keys.push(`${tid(i)}/westeurope`);
      }
      await registry.putIngestApp({ name: w.apps[0]!.name, resourceId: w.apps[0]!.id, hubs: keys, state: 'active' });
      const before = w.appSettings(w.apps[0]!.name);
      w.sim.clearRequests();
      await expect(syncIngestAppSettings({ settings: w.settings, registry, clients: w.clients })).rejects.toMatchObject({ kind: 'capacity', message: expect.stringMatching(/MDR_INGEST_BINDINGS would be \d+ bytes, over the 131072-byte limit/) });
      expect(w.appsWritten()).toEqual([]);
      expect(w.appSettings(w.apps[0]!.name)).toEqual(before);
    } finally {
      await w.stop();
    }
  }, 180_000);

  it('drains an app through azure-mdr rebalance, which prints each move and leaves the app empty', async () => {
    const w = await startFleetWorld({ apps: 2, maxHubsPerApp: 6, regions: ['westeurope'], azurite: az });
    try {
      for (let i = 1; i <= 4; i++) expect((await w.put(tid(i))).status).toBe(201);
      const out: string[] = [];
      const cmd = makeRebalanceCommand(async () => ({ settings: w.settings, registry: w.registry, clients: w.clients }));
      const io = { stdin: [], stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => out.push(s) }, env: {} };
      expect(await cmd.run(['--drain', 'mdr-ingest-01', '--dry-run'], io)).toBe(0);
      expect(out.join('')).toMatch(/would move 4 hub\(s\):/);
      expect(triggersOf(w, 'mdr-ingest-01')).toHaveLength(4);
      out.length = 0;
      expect(await cmd.run(['--drain', 'mdr-ingest-01'], io)).toBe(0);
      expect(out.join('')).toMatch(/moved 4 hub\(s\):\n(  \S+\/westeurope: mdr-ingest-01 -> mdr-ingest-02\n){4}/);
      expect(triggersOf(w, 'mdr-ingest-01')).toHaveLength(0);
      expect(triggersOf(w, 'mdr-ingest-02').map((t) => t.tenantId).sort()).toEqual([tid(1), tid(2), tid(3), tid(4)]);
      await expect(cmd.run(['--even', '--drain', 'x'], io)).rejects.toThrow(/exactly one of/);

      // Without read access to the checkpoint container (a SAS that may not list, as an operator without Storage Blob
      // Data Reader): the move still goes ahead, and the checkpoints are reported as not readable (found in review).
      const container = BlobServiceClient.fromConnectionString(az.connectionString).getContainerClient(CHECKPOINT_CONTAINER);
      await container.createIfNotExists();
      const noList = new ContainerClient(await container.generateSasUrl({ permissions: ContainerSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3_600_000) }));
      const blind = makeRebalanceCommand(async () => ({ settings: w.settings, registry: w.registry, clients: w.clients, checkpoints: noList }));
      out.length = 0;
      expect(await blind.run(['--move', `${tid(1)}/westeurope`, '--to', 'mdr-ingest-01'], io)).toBe(0);
      expect(out.join('')).toMatch(/checkpoints \S+\/westeurope: not all readable \(.+\); the move does not depend on them/);
      expect(triggersOf(w, 'mdr-ingest-01').map((t) => t.tenantId)).toEqual([tid(1)]);
    } finally {
      await w.stop();
    }
  }, 180_000);
});
