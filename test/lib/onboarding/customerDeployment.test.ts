import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSettings } from '../../../src/lib/config/settings.js';
import { onboardingTemplate } from '../../../src/lib/onboarding/onboardingTemplate.js';
import { FakeAzCli, type FakeAzState } from '../../support/fakeAzCli.js';

// Deploy-by-reading: the customer's template and the exact command text the API prints are run by the real bash,
// with a fake `az` (test/support/fakeAz.cjs) first on PATH, over a management group with nested groups
// (test/fixtures/deploy, SOURCES.md there). `--query` is evaluated by the reference JMESPath implementation. The
// fake keeps what matters to these commands the way ARM does: role-assignment names cannot be re-pointed to
// another principal (RoleAssignmentUpdateNotPermitted), deleting a policy assignment deletes its identity but not
// that identity's role assignments, the Lighthouse policy's existence check looks for a registration definition of
// the provider, and a delegation cannot be deployed in a subscription where Microsoft.ManagedServices is not yet
// registered. It refuses any az command or option it does not implement, which fails the test.
const fixtures = path.resolve(import.meta.dirname, '../../fixtures/deploy');
const entities = JSON.parse(readFileSync(path.join(fixtures, 'management-group-entities.json'), 'utf8')) as unknown[];
const schema = JSON.parse(readFileSync(path.join(fixtures, 'arm-schema-excerpts.json'), 'utf8')) as {
  resources: Record<string, { required: string[] }>;
  definitions: Record<string, { required: string[]; enums: Record<string, string[]> }>;
};

const settings = parseSettings({
  MDR_PROVIDER_TENANT_ID: '11111111-1111-1111-1111-111111111111',
  MDR_PROVIDER_SUBSCRIPTION_ID: '22222222-2222-2222-2222-222222222222',
  MDR_INGEST_PRINCIPAL_ID: '33333333-3333-3333-3333-333333333333',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
});
const MG = 'contoso-root';
const BENEATH = ['10000000-0000-0000-0000-000000000001', '20000000-0000-0000-0000-000000000002', '30000000-0000-0000-0000-000000000003', '40000000-0000-0000-0000-000000000004'];
const material = () => onboardingTemplate(settings, MG);
type Obj = Record<string, unknown>;

// Each az call is a node process; on a loaded 2-core machine a run of several scripts takes a while.
const SLOW = { timeout: 300_000 };
const clis: FakeAzCli[] = [];
afterAll(() => clis.forEach((c) => c.dispose()));

/** A customer's Azure as the fake az sees it, with `template` saved where the printed commands look for it. */
function customerAzure(template: Obj = material().template): FakeAzCli {
  const cli = new FakeAzCli({ managementGroup: MG, entities });
  cli.writeFile(`${settings.prefix}-onboarding.json`, JSON.stringify(template, null, 2));
  clis.push(cli);
  return cli;
}
const onboard = (cli: FakeAzCli, commands = material().commands) => cli.bash(commands.join('\n'));
const remove = (cli: FakeAzCli, commands = material().removal) => cli.bash(commands.join('\n'));
const delegated = (s: FakeAzState) => Object.entries(s.delegations).filter(([, a]) => a.length > 0).map(([sub]) => sub).sort();

describe('the customer onboarding, run by bash against a management group with nested groups', () => {
  let fresh: { cli: FakeAzCli; status: number | null; state: FakeAzState };
  beforeAll(async () => {
    const cli = customerAzure();
    const run = await onboard(cli);
    fresh = { cli, status: run.status, state: cli.state() };
  }, SLOW.timeout);

  it('delegates every subscription beneath the group at any depth, and none outside it', () => {
    expect(fresh.state.errors).toEqual([]);
    expect(delegated(fresh.state)).toEqual(BENEATH);
    expect([...fresh.state.automationGroups].sort()).toEqual(BENEATH);
    expect(fresh.status).toBe(0);
  });

  it('registers Microsoft.ManagedServices and waits for it before remediating each subscription', () => {
    const { calls } = fresh.state;
    for (const sub of BENEATH) {
      const register = calls.findIndex((c) => c.args[0] === 'provider' && c.args.includes(sub));
      const remediate = calls.findIndex((c) => c.args[0] === 'policy' && c.args[1] === 'remediation' && c.args.includes(sub));
      expect(register).toBeGreaterThanOrEqual(0);
      expect(calls[register]?.args).toContain('--wait');
      expect(register).toBeLessThan(remediate);
    }
  });

  it('would have missed the nested subscriptions with the direct-children listing the commands used before', SLOW, async () => {
    const cli = customerAzure();
    const old = material().commands.map((c) => c.replace(/az account management-group entities list --query '[^']*' -o tsv/, `az account management-group subscription show-sub-under-mg --name ${MG} --query "[].name" -o tsv`));
    expect(old).not.toEqual(material().commands);
    await onboard(cli, old);
    expect(delegated(cli.state())).toEqual([BENEATH[0]]);
  });

  it('would have failed the remediation where the provider registration was not waited for', SLOW, async () => {
    const cli = customerAzure();
    const noWait = material().commands.map((c) => c.replace(' --wait', ''));
    expect(noWait).not.toEqual(material().commands);
    await onboard(cli, noWait);
    expect(cli.state().errors.filter((e) => e.includes('MissingSubscriptionRegistration'))).toHaveLength(BENEATH.length);
    expect(delegated(cli.state())).toEqual([]);
  });

  it('is idempotent: deploying and remediating twice changes nothing and fails nothing', SLOW, async () => {
    const cli = customerAzure();
    await onboard(cli);
    const roles = cli.state().roleAssignments;
    await onboard(cli);
    expect(cli.state().errors).toEqual([]);
    expect(cli.state().roleAssignments).toEqual(roles);
    expect(delegated(cli.state())).toEqual(BENEATH);
  });

  it('can be done again after the documented removal: delegations come back, no role assignment collides, nothing is left over', SLOW, async () => {
    const cli = customerAzure();
    await onboard(cli);
    const firstPrincipals = Object.values(cli.state().policyAssignments).map((a) => a.principalId);
    const removal = await remove(cli);
    const removed = cli.state();
    expect(removed.errors).toEqual([]);
    expect(removal.status).toBe(0);
    expect(delegated(removed)).toEqual([]);
    expect(Object.values(removed.definitions).flat()).toEqual([]);
    expect(Object.keys(removed.roleAssignments)).toHaveLength(0);

    await onboard(cli);
    const again = cli.state();
    expect(again.errors).toEqual([]);
    expect(delegated(again)).toEqual(BENEATH);
    const principals = new Set(Object.values(again.roleAssignments).map((r) => r.principalId));
    for (const p of firstPrincipals) expect(principals.has(p)).toBe(false);
  });

  it('can be done again even when the role-assignment clean-up was skipped, because the names follow the principal', SLOW, async () => {
    const cli = customerAzure();
    await onboard(cli);
    await remove(cli, material().removal.slice(1));
    expect(Object.keys(cli.state().roleAssignments).length).toBeGreaterThan(0); // the skipped clean-up left them
    await onboard(cli);
    expect(cli.state().errors).toEqual([]);
    expect(delegated(cli.state())).toEqual(BENEATH);
  });

  it('(the fake enforces what ARM does) a fixed role-assignment name fails on re-onboarding with RoleAssignmentUpdateNotPermitted', SLOW, async () => {
    const fixed = structuredClone(material().template);
    let changed = 0;
    for (const r of fixed.resources as Obj[]) {
      if (r.type !== 'Microsoft.Resources/deployments') continue;
      const inner = ((r.properties as Obj).template as { resources: Obj[] }).resources[0]!;
      inner.name = String(inner.name).replace("parameters('principalId')", `'${String(r.name)}'`);
      changed++;
    }
    expect(changed).toBe(2);
    const cli = customerAzure(fixed);
    await onboard(cli);
    expect(cli.state().errors).toEqual([]);
    await remove(cli, material().removal.slice(1));
    await onboard(cli);
    expect(cli.state().errors.some((e) => e.includes('RoleAssignmentUpdateNotPermitted'))).toBe(true);
  });

  it('(the fake is strict) refuses an az command or option it does not implement, loudly', SLOW, async () => {
    const cli = customerAzure();
    await expect(cli.bash('az group list -o tsv')).rejects.toThrow(/unsupported command: az group list/);
    await expect(cli.bash(`az account management-group entities list --top 5`)).rejects.toThrow(/unsupported option --top/);
  });
});

describe('the customer template against the ARM template schemas (excerpts in test/fixtures/deploy)', () => {
  /** Every resource of the template and of nested deployment templates, policy deployments included. */
  function allResources(t: Obj): Obj[] {
    const out: Obj[] = [];
    const visit = (resources: unknown) => {
      for (const r of (resources as Obj[] | undefined) ?? []) {
        out.push(r);
        const nested = ((r.properties as Obj | undefined)?.template as Obj | undefined)?.resources;
        if (nested) visit(nested);
        const policyDeployment = ((((r.properties as Obj | undefined)?.policyRule as Obj | undefined)?.then as Obj | undefined)?.details as Obj | undefined)?.deployment as Obj | undefined;
        if (policyDeployment) visit(((policyDeployment.properties as Obj).template as Obj).resources);
      }
    };
    visit(t.resources);
    return out;
  }

  it('gives every Microsoft.Resources resource what the schemas require, in every schema version recorded', () => {
    const resources = allResources(material().template);
    const problems: string[] = [];
    let checked = 0;
    for (const r of resources) {
      for (const [key, def] of Object.entries(schema.resources)) {
        if (!key.startsWith(`${String(r.type)}@`)) continue;
        checked++;
        for (const field of def.required) if (!(field in r)) problems.push(`${String(r.type)} ${String(r.name)} lacks ${field} (${key})`);
      }
      if (r.type === 'Microsoft.Resources/deployments') {
        const d = schema.definitions['DeploymentProperties@2022-09-01']!;
        const p = r.properties as Obj;
        for (const field of d.required) if (!(field in p)) problems.push(`deployment ${String(r.name)} properties lack ${field}`);
        if (!d.enums.mode!.includes(String(p.mode))) problems.push(`deployment ${String(r.name)} mode ${String(p.mode)}`);
        const scope = (p.expressionEvaluationOptions as Obj | undefined)?.scope;
        if (scope !== undefined && !d.enums['expressionEvaluationOptions.scope']!.includes(String(scope))) problems.push(`deployment ${String(r.name)} scope ${String(scope)}`);
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(4); // the automation resource group (two versions) and the two role deployments
  });

  it('names every resource with a type, an api version and a name', () => {
    for (const r of allResources(material().template)) {
      expect(typeof r.type).toBe('string');
      expect(String(r.apiVersion)).toMatch(/^\d{4}-\d{2}-\d{2}(-preview)?$/);
      expect(typeof r.name).toBe('string');
    }
  });
});
