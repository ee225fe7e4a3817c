import { describe, expect, it } from 'vitest';
import { makeCoverageCommand } from '../../../src/cli/commands/coverage.js';
import { makeReconcileCommand } from '../../../src/cli/commands/reconcile.js';
import type { CliIo } from '../../../src/cli/types.js';
import { ONE_SUB_TENANT, oneSubscriptionTenant } from '../../lib/reconcile/fakeArm.js';

const T = ONE_SUB_TENANT;

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIo = { stdin: [], stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) }, env: {} };
  return { value, out: () => out.join(''), err: () => err.join('') };
}

async function deps() {
  const { arm, registry, deps: reconcileDeps } = await oneSubscriptionTenant();
  return { arm, registry, factory: async () => reconcileDeps };
}

describe('azure-mdr reconcile', () => {
  it('prints the plan with reasons and writes nothing with --dry-run', async () => {
    const d = await deps();
    const o = io();
    const code = await makeReconcileCommand(d.factory).run(['--tenant', T, '--dry-run'], o.value);
    expect(code).toBe(0);
    expect(o.out()).toMatch(/^create  activity-log\s+\/subscriptions\/0{8}-/m);
    expect(o.out()).toContain('plan (dry run, nothing written)');
    expect(d.arm.writes()).toEqual([]);
  });

  it('applies and prints JSON with --json', async () => {
    const d = await deps();
    const o = io();
    await makeReconcileCommand(d.factory).run(['--tenant', T, '--json'], o.value);
    expect(JSON.parse(o.out())).toMatchObject({ tenantId: T, dryRun: false, counts: { created: 1 } });
    expect(d.arm.writes()).toHaveLength(1);
  });

  it('reads every target with --full even when the activity log shows no change', async () => {
    const d = await deps();
    const cmd = makeReconcileCommand(d.factory);
    await cmd.run(['--tenant', T], io().value);
    const reads = () => d.arm.calls.filter((c) => c.op.startsWith('list ')).length;
    const before = reads();
    const quiet = io();
    await cmd.run(['--tenant', T, '--json'], quiet.value);
    expect(JSON.parse(quiet.out())).toMatchObject({ trusted: 1 });
    expect(reads()).toBe(before);
    const full = io();
    await cmd.run(['--tenant', T, '--full', '--json'], full.value);
    expect(JSON.parse(full.out())).toMatchObject({ trusted: 0 });
    expect(reads()).toBe(before + 1);
  });

  it('rejects a missing tenant id as a usage error', async () => {
    await expect(makeReconcileCommand((await deps()).factory).run([], io().value)).rejects.toThrow(/--tenant <id> is required/);
  });
});

describe('azure-mdr coverage', () => {
  it('shows the ledger the last reconcile recorded', async () => {
    const d = await deps();
    await makeReconcileCommand(d.factory).run(['--tenant', T], io().value);
    const o = io();
    expect(await makeCoverageCommand(d.factory).run(['--tenant', T], o.value)).toBe(0);
    expect(o.out()).toMatch(/activity-log\s+created/);
    const j = io();
    await makeCoverageCommand(d.factory).run(['--tenant', T, '--json'], j.value);
    expect(JSON.parse(j.out()).totals).toMatchObject({ targets: 1, covered: 1 });
  });
});
