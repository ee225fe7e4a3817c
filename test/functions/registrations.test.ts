import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Loads the BUILT app under plain node, as the Functions worker does (native ESM import of every file
// matching package.json "main"), with a test-only stand-in for the worker module that records registrations.
// This catches what vitest and tsc hide, such as named class imports from @azure/functions crashing at load.
const root = path.resolve(import.meta.dirname, '../..');
const required = {
  MDR_PROVIDER_TENANT_ID: '11111111-1111-1111-1111-111111111111',
  MDR_PROVIDER_SUBSCRIPTION_ID: '22222222-2222-2222-2222-222222222222',
  MDR_INGEST_PRINCIPAL_ID: '33333333-3333-3333-3333-333333333333',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
};
const tenantA = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
const tenantB = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb';
const bindings = [
  { tenantId: tenantA, region: 'westeurope', namespace: 'mdr-ingest-westeurope-01', hub: `mdr-${tenantA}`, consumerGroup: 'mdr-ingest', connection: 'MDR_EHNS_MDR_INGEST_WESTEUROPE_01' },
  { tenantId: tenantB, region: 'northeurope', namespace: 'mdr-ingest-northeurope-01', hub: `mdr-${tenantB}`, consumerGroup: 'mdr-ingest', connection: 'MDR_EHNS_MDR_INGEST_NORTHEUROPE_01' },
];

interface Registration {
  name: string;
  bindings: Record<string, Record<string, unknown>>;
  retryOptions?: Record<string, unknown>;
}

function loadBuiltApp(env: Record<string, string>): { registrations: Registration[]; files: string[] } {
  const out = execFileSync(process.execPath, ['--require', './test/support/fakeFunctionsCore.cjs', './test/support/listRegistrations.mjs'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  return JSON.parse(out) as { registrations: Registration[]; files: string[] };
}

const trigger = (r: Registration | undefined) => Object.values(r?.bindings ?? {}).find((b) => b.direction === 'in');

describe('the built Function App', () => {
  it('has been built (npm test runs the build first)', () => {
    expect(existsSync(path.join(root, 'dist/src/functions/tenantsHttp.js'))).toBe(true);
  });

  it('registers every function with its trigger metadata under plain node', () => {
    const env = {
      ...required,
      MDR_INGEST_BINDINGS: JSON.stringify(bindings),
      MDR_EHNS_MDR_INGEST_WESTEUROPE_01__fullyQualifiedNamespace: 'mdr-ingest-westeurope-01.servicebus.windows.net',
      MDR_EHNS_MDR_INGEST_NORTHEUROPE_01__fullyQualifiedNamespace: 'mdr-ingest-northeurope-01.servicebus.windows.net',
      MDR_RECONCILE_SCHEDULE: '0 */5 * * * *',
    };
    const { registrations } = loadBuiltApp(env);
    const byName = new Map(registrations.map((r) => [r.name, r]));
    expect([...byName.keys()].sort()).toEqual(
      [
        'ingest-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-westeurope',
        'ingest-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-northeurope',
        'reconcile-fanout',
        'reconcile-tenant',
        'stream-health',
        'tenant',
        'tenant-alert-state',
        'tenant-coverage',
        'tenant-health',
        'tenant-onboarding',
        'tenant-operation',
        'onboarding-continue',
        'tenant-reconcile',
        'tenants-list',
      ].sort(),
    );

    const ingest = byName.get('ingest-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-westeurope');
    expect(trigger(ingest)).toMatchObject({
      type: 'eventHubTrigger',
      connection: 'MDR_EHNS_MDR_INGEST_WESTEUROPE_01',
      eventHubName: `mdr-${tenantA}`,
      consumerGroup: 'mdr-ingest',
      cardinality: 'many',
      dataType: 'binary',
    });
    expect(ingest?.retryOptions).toMatchObject({ strategy: 'exponentialBackoff', maxRetryCount: -1 });

    expect(trigger(byName.get('reconcile-fanout'))).toMatchObject({ type: 'timerTrigger', schedule: '0 */5 * * * *' });
    expect(Object.values(byName.get('reconcile-fanout')?.bindings ?? {}).find((b) => b.direction === 'out')).toMatchObject({ type: 'queue', queueName: 'mdr-reconcile' });
    expect(trigger(byName.get('reconcile-tenant'))).toMatchObject({ type: 'queueTrigger', queueName: 'mdr-reconcile', connection: 'AzureWebJobsStorage' });
    expect(trigger(byName.get('tenant'))).toMatchObject({ type: 'httpTrigger', route: 'tenants/{id}', methods: ['GET', 'PUT', 'DELETE'], authLevel: 'function' });
    expect(trigger(byName.get('tenant-alert-state'))).toMatchObject({ route: 'tenants/{id}/alerts/{alertName}/state', methods: ['POST'] });
    expect(trigger(byName.get('stream-health'))).toMatchObject({ type: 'timerTrigger', schedule: '0 */10 * * * *' });
  });

  it('registers by MDR_APP_ROLE: a control app the control plane only, an ingest app only the triggers of its bindings', () => {
    const env = {
      ...required,
      MDR_INGEST_BINDINGS: JSON.stringify(bindings),
      MDR_EHNS_MDR_INGEST_WESTEUROPE_01__fullyQualifiedNamespace: 'mdr-ingest-westeurope-01.servicebus.windows.net',
      MDR_EHNS_MDR_INGEST_NORTHEUROPE_01__fullyQualifiedNamespace: 'mdr-ingest-northeurope-01.servicebus.windows.net',
    };
    const control = loadBuiltApp({ ...env, MDR_APP_ROLE: 'control' }).registrations.map((r) => r.name).sort();
    const ingest = loadBuiltApp({ ...env, MDR_APP_ROLE: 'ingest' }).registrations.map((r) => r.name).sort();
    const all = loadBuiltApp(env).registrations.map((r) => r.name).sort();
    expect(ingest).toEqual(['ingest-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-westeurope', 'ingest-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-northeurope']);
    expect(control.filter((n) => n.startsWith('ingest-'))).toEqual([]);
    expect(control).toContain('tenant');
    expect(control).toContain('reconcile-fanout');
    expect(control).toContain('onboarding-continue');
    expect([...control, ...ingest].sort()).toEqual(all);
  });

  it('skips a binding whose namespace connection setting is missing instead of failing every trigger', () => {
    const env = { ...required, MDR_INGEST_BINDINGS: JSON.stringify(bindings), MDR_EHNS_MDR_INGEST_WESTEUROPE_01__fullyQualifiedNamespace: 'mdr-ingest-westeurope-01.servicebus.windows.net' };
    const names = loadBuiltApp(env).registrations.map((r) => r.name);
    expect(names).toContain('ingest-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-westeurope');
    expect(names).not.toContain('ingest-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-northeurope');
  });

  it('fails at load with one line naming a bad setting', () => {
    const r = spawnSync(process.execPath, ['--require', './test/support/fakeFunctionsCore.cjs', './test/support/listRegistrations.mjs'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', ...required, MDR_EH_POOL_TIER: 'Gold' },
      encoding: 'utf8',
    });
    expect(r.status).not.toBe(0);
    const line = r.stderr.split('\n').find((l) => l.startsWith('ConfigError: Invalid app settings'));
    expect(line).toMatch(/^ConfigError: Invalid app settings: MDR_EH_POOL_TIER is invalid: expected 'Standard' or 'Premium'/);
  });
});
