import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../../src/lib/config/settings.js';
import { onboardingTemplate, ROLE } from '../../../src/lib/onboarding/onboardingTemplate.js';
import { compileQuery } from '../../support/jmespath.js';
import { runShell, type Az } from '../../support/miniShell.js';

// Deploy-by-reading: the customer's template and the exact commands the API prints are run, as bash would run
// them, against a fake `az` over a management group with nested groups (test/fixtures/deploy, SOURCES.md there).
// The fake keeps what matters to these commands the way ARM does: role-assignment names cannot be re-pointed to
// another principal (RoleAssignmentUpdateNotPermitted), deleting a policy assignment deletes its identity but not
// that identity's role assignments, the Lighthouse policy's existence check looks for a registration definition of
// the provider, and a delegation cannot be deployed in a subscription where Microsoft.ManagedServices is not yet
// registered.
const fixtures = path.resolve(import.meta.dirname, '../../fixtures/deploy');
type Entity = { id: string; type: string; name: string; parent: { id: string } };
const entities = JSON.parse(readFileSync(path.join(fixtures, 'management-group-entities.json'), 'utf8')) as Entity[];
const schema = JSON.parse(readFileSync(path.join(fixtures, 'arm-schema-excerpts.json'), 'utf8')) as {
  resources: Record<string, { required: string[] }>;
  definitions: Record<string, { required: string[]; enums: Record<string, string[]> }>;
};

const PROVIDER = '11111111-1111-1111-1111-111111111111';
const settings = parseSettings({
  MDR_PROVIDER_TENANT_ID: PROVIDER,
  MDR_PROVIDER_SUBSCRIPTION_ID: '22222222-2222-2222-2222-222222222222',
  MDR_INGEST_PRINCIPAL_ID: '33333333-3333-3333-3333-333333333333',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
});
const MG = 'contoso-root';
const BENEATH = ['10000000-0000-0000-0000-000000000001', '20000000-0000-0000-0000-000000000002', '30000000-0000-0000-0000-000000000003', '40000000-0000-0000-0000-000000000004'];
const material = () => onboardingTemplate(settings, MG);
type Obj = Record<string, unknown>;

/** ARM's guid() is a deterministic hash of its arguments; any such hash models it for name equality. */
const armGuid = (args: string[]) => createHash('sha256').update(args.join('-')).digest('hex').slice(0, 32);

class FakeAzure {
  principals = 0;
  readonly policyAssignments = new Map<string, string>(); // name → identity principal id
  readonly roleAssignments = new Map<string, { principalId: string; role: string }>();
  readonly providers = new Map<string, 'Registering' | 'Registered'>();
  readonly definitions = new Map<string, { name: string; managedByTenantId: string }[]>();
  readonly delegations = new Map<string, { name: string; definition: string }[]>();
  readonly automationGroups = new Set<string>();
  readonly errors: string[] = [];
  constructor(readonly template: Obj) {}

  private evalGuidName(expr: string, params: Record<string, string>): string {
    const m = /^\[guid\((.*)\)\]$/.exec(expr);
    if (!m) throw new Error(`role assignment name is not a guid() expression: ${expr}`);
    const args = m[1]!.split(/,\s*/).map((a) => {
      if (a === 'managementGroup().id') return `/providers/Microsoft.Management/managementGroups/${MG}`;
      const p = /^parameters\('(\w+)'\)$/.exec(a);
      if (p) return params[p[1]!] ?? '';
      const lit = /^'(.*)'$/.exec(a);
      if (lit) return lit[1]!;
      throw new Error(`unsupported guid() argument ${a}`);
    });
    return armGuid(args);
  }

  private principalOf(expr: unknown): string {
    const m = /policyAssignments', '([^']+)'\), '[^']+', 'full'\)\.identity\.principalId\]$/.exec(String(expr));
    const pid = m ? this.policyAssignments.get(m[1]!) : undefined;
    if (!pid) throw new Error(`cannot resolve principal from ${String(expr)}`);
    return pid;
  }

  private putRoleAssignment(name: string, principalId: string, roleDefinitionId: string): void {
    const role = /'([0-9a-f-]{36})'\)\]$/.exec(roleDefinitionId)?.[1] ?? roleDefinitionId;
    const existing = this.roleAssignments.get(name);
    if (existing && existing.principalId !== principalId) throw new Error('RoleAssignmentUpdateNotPermitted: Tenant ID, application ID, principal ID, and scope are not allowed to be updated.');
    this.roleAssignments.set(name, { principalId, role });
  }

  deploy(): void {
    for (const r of this.template.resources as Obj[]) {
      if (r.type === 'Microsoft.Authorization/policyAssignments' && !this.policyAssignments.has(String(r.name))) this.policyAssignments.set(String(r.name), `principal-${++this.principals}`);
      if (r.type === 'Microsoft.Authorization/roleAssignments') {
        const p = r.properties as Obj;
        this.putRoleAssignment(this.evalGuidName(String(r.name), {}), this.principalOf(p.principalId), String(p.roleDefinitionId));
      }
      if (r.type === 'Microsoft.Resources/deployments') {
        const p = r.properties as { parameters: Record<string, { value: unknown }>; template: { resources: Obj[] } };
        const params = Object.fromEntries(Object.entries(p.parameters).map(([k, v]) => [k, this.principalOf(v.value)]));
        for (const inner of p.template.resources) {
          const ip = inner.properties as Obj;
          const principal = /^\[parameters\('(\w+)'\)\]$/.exec(String(ip.principalId))?.[1];
          this.putRoleAssignment(this.evalGuidName(String(inner.name), params), params[principal ?? ''] ?? '', String(ip.roleDefinitionId));
        }
      }
    }
  }

  private hasRole(assignment: string, role: string): boolean {
    const pid = this.policyAssignments.get(assignment);
    return [...this.roleAssignments.values()].some((r) => r.principalId === pid && r.role === role);
  }

  private remediate(sub: string, assignmentId: string): string | undefined {
    const name = assignmentId.split('/').pop() ?? '';
    if (!this.policyAssignments.has(name)) return `PolicyAssignmentNotFound: ${name}`;
    if (name === material().names.rgAssignment) {
      if (!this.hasRole(name, ROLE.Contributor)) return 'AuthorizationFailed: the policy identity cannot create the resource group';
      this.automationGroups.add(sub);
      return undefined;
    }
    if (!this.hasRole(name, ROLE.Owner)) return 'AuthorizationFailed: the policy identity cannot create the delegation';
    const defs = this.definitions.get(sub) ?? [];
    if (defs.some((d) => d.managedByTenantId === PROVIDER)) return undefined; // compliant: existence condition met
    if (this.providers.get(sub) !== 'Registered') return "MissingSubscriptionRegistration: The subscription is not registered to use namespace 'Microsoft.ManagedServices'.";
    const def = `def-${armGuid([settings.provider.offerName])}`;
    this.definitions.set(sub, [...defs, { name: def, managedByTenantId: PROVIDER }]);
    this.delegations.set(sub, [...(this.delegations.get(sub) ?? []), { name: `asg-${def}`, definition: def }]);
    return undefined;
  }

  readonly az: Az = (args) => {
    const opt = (name: string) => {
      const i = args.indexOf(name);
      return i >= 0 ? args[i + 1] : undefined;
    };
    const firstOption = args.findIndex((a) => a.startsWith('-'));
    const cmd = args.slice(0, firstOption < 0 ? args.length : firstOption).slice(0, 3).join(' ');
    const out = (lines: unknown) => ({ status: 0, stdout: Array.isArray(lines) ? lines.map(String).join('\n') : String(lines ?? '') });
    const fail = (msg: string) => {
      this.errors.push(`az ${args.slice(0, 3).join(' ')}: ${msg}`);
      return { status: 1, stdout: '' };
    };
    try {
      if (args[0] === 'deployment' && args[1] === 'mg' && args[2] === 'create') {
        if (opt('--management-group-id') !== MG) return fail('wrong management group');
        this.deploy();
        return out('');
      }
      if (cmd === 'account management-group entities') return out(compileQuery(opt('--query') ?? '')(entities));
      if (cmd === 'account management-group subscription') {
        // show-sub-under-mg: direct children only (what the old commands used)
        return out(entities.filter((e) => e.parent.id.endsWith(`/${opt('--name')}`) && e.type.endsWith('subscriptions')).map((e) => e.name));
      }
      if (cmd === 'provider register') {
        this.providers.set(opt('--subscription') ?? '', args.includes('--wait') ? 'Registered' : 'Registering');
        return out('');
      }
      if (cmd === 'policy remediation create') {
        const err = this.remediate(opt('--subscription') ?? '', opt('--policy-assignment') ?? '');
        return err ? fail(err) : out('');
      }
      if (cmd === 'policy assignment show') {
        const pid = this.policyAssignments.get(opt('--name') ?? '');
        return pid ? out(pid) : fail('PolicyAssignmentNotFound');
      }
      if (cmd === 'policy assignment delete') {
        this.policyAssignments.delete(opt('--name') ?? '');
        return out('');
      }
      if (cmd === 'role assignment list') {
        const list = [...this.roleAssignments].map(([name, r]) => ({ id: `/providers/Microsoft.Management/managementGroups/${MG}/providers/Microsoft.Authorization/roleAssignments/${name}`, name, principalId: r.principalId }));
        return out(compileQuery(opt('--query') ?? '')(list));
      }
      if (cmd === 'role assignment delete') {
        this.roleAssignments.delete(String(opt('--ids')).split('/').pop() ?? '');
        return out('');
      }
      if (cmd === 'managedservices assignment list') {
        const sub = opt('--subscription') ?? '';
        const defs = this.definitions.get(sub) ?? [];
        const list = (this.delegations.get(sub) ?? []).map((a) => ({ name: a.name, properties: { registrationDefinition: { properties: { managedByTenantId: defs.find((d) => d.name === a.definition)?.managedByTenantId } } } }));
        return out(compileQuery(opt('--query') ?? '')(list));
      }
      if (cmd === 'managedservices assignment delete') {
        const sub = opt('--subscription') ?? '';
        this.delegations.set(sub, (this.delegations.get(sub) ?? []).filter((a) => a.name !== opt('--assignment')));
        return out('');
      }
      if (cmd === 'managedservices definition list') {
        return out(compileQuery(opt('--query') ?? '')((this.definitions.get(opt('--subscription') ?? '') ?? []).map((d) => ({ name: d.name, properties: { managedByTenantId: d.managedByTenantId } }))));
      }
      if (cmd === 'managedservices definition delete') {
        const sub = opt('--subscription') ?? '';
        this.definitions.set(sub, (this.definitions.get(sub) ?? []).filter((d) => d.name !== opt('--definition')));
        return out('');
      }
    } catch (e) {
      return fail((e as Error).message);
    }
    throw new Error(`the fake az does not know: az ${args.join(' ')}`);
  };

  delegated(): string[] {
    return [...this.delegations].filter(([, a]) => a.length > 0).map(([s]) => s).sort();
  }
}

const onboard = (azure: FakeAzure, commands = material().commands) => runShell(commands.join('\n'), azure.az);

describe('the customer onboarding, run against a management group with nested groups', () => {
  it('delegates every subscription beneath the group at any depth, and none outside it', () => {
    const azure = new FakeAzure(material().template);
    const run = onboard(azure);
    expect(azure.errors).toEqual([]);
    expect(azure.delegated()).toEqual(BENEATH);
    expect([...azure.automationGroups].sort()).toEqual(BENEATH);
    expect(run.status).toBe(0);
  });

  it('registers Microsoft.ManagedServices and waits for it before remediating each subscription', () => {
    const azure = new FakeAzure(material().template);
    const { calls } = onboard(azure);
    for (const sub of BENEATH) {
      const register = calls.findIndex((c) => c.args[0] === 'provider' && c.args.includes(sub));
      const remediate = calls.findIndex((c) => c.args[0] === 'policy' && c.args[1] === 'remediation' && c.args.includes(sub));
      expect(register).toBeGreaterThanOrEqual(0);
      expect(calls[register]?.args).toContain('--wait');
      expect(register).toBeLessThan(remediate);
    }
  });

  it('would have missed the nested subscriptions with the direct-children listing the commands used before', () => {
    const azure = new FakeAzure(material().template);
    const old = material().commands.map((c) => c.replace(/az account management-group entities list --query '[^']*' -o tsv/, `az account management-group subscription show-sub-under-mg --name ${MG} --query "[].name" -o tsv`));
    onboard(azure, old);
    expect(azure.delegated()).toEqual([BENEATH[0]]);
  });

  it('is idempotent: deploying and remediating twice changes nothing and fails nothing', () => {
    const azure = new FakeAzure(material().template);
    onboard(azure);
    const roles = new Map(azure.roleAssignments);
    onboard(azure);
    expect(azure.errors).toEqual([]);
    expect(azure.roleAssignments).toEqual(roles);
    expect(azure.delegated()).toEqual(BENEATH);
  });

  it('can be done again after the documented removal: delegations come back, no role assignment collides, nothing is left over', () => {
    const azure = new FakeAzure(material().template);
    onboard(azure);
    const firstPrincipals = [...azure.policyAssignments.values()];
    const removal = runShell(material().removal.join('\n'), azure.az);
    expect(azure.errors).toEqual([]);
    expect(removal.status).toBe(0);
    expect(azure.delegated()).toEqual([]);
    expect([...azure.definitions.values()].flat()).toEqual([]);
    expect(azure.roleAssignments.size).toBe(0);

    onboard(azure);
    expect(azure.errors).toEqual([]);
    expect(azure.delegated()).toEqual(BENEATH);
    const principals = new Set([...azure.roleAssignments.values()].map((r) => r.principalId));
    for (const p of firstPrincipals) expect(principals.has(p)).toBe(false);
  });

  it('can be done again even when the role-assignment clean-up was skipped, because the names follow the principal', () => {
    const azure = new FakeAzure(material().template);
    onboard(azure);
    runShell(material().removal.slice(1).join('\n'), azure.az);
    onboard(azure);
    expect(azure.errors).toEqual([]);
    expect(azure.delegated()).toEqual(BENEATH);
  });

  it('(the fake enforces what ARM does) a fixed role-assignment name fails on re-onboarding with RoleAssignmentUpdateNotPermitted', () => {
    const fixed = structuredClone(material().template);
    for (const r of fixed.resources as Obj[]) {
      if (r.type !== 'Microsoft.Resources/deployments') continue;
      const inner = ((r.properties as Obj).template as { resources: Obj[] }).resources[0]!;
      inner.name = String(inner.name).replace("parameters('principalId')", `'${String(r.name)}'`);
    }
    const azure = new FakeAzure(fixed);
    onboard(azure);
    runShell(material().removal.slice(1).join('\n'), azure.az);
    onboard(azure);
    expect(azure.errors.some((e) => e.includes('RoleAssignmentUpdateNotPermitted'))).toBe(true);
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
