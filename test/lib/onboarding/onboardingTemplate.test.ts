import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../../src/lib/config/settings.js';
import { onboardingTemplate, shellWord, TEMPLATE_SCHEMA } from '../../../src/lib/onboarding/onboardingTemplate.js';

const settings = parseSettings({
  MDR_PROVIDER_TENANT_ID: '11111111-1111-1111-1111-111111111111',
  MDR_PROVIDER_SUBSCRIPTION_ID: '22222222-2222-2222-2222-222222222222',
  MDR_INGEST_PRINCIPAL_ID: '33333333-3333-3333-3333-333333333333',
  MDR_OFFER_NAME: 'Contoso MDR',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
});

const OWNER = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';
const FOUR = ['acdd72a7-3385-48ef-bd42-f606fba81ae7', '92aaf0da-9dab-42b6-94a3-d43ce8d16293', 'fb1c8493-542b-48eb-b624-b4c8fea62acd', '91c1777a-f3dc-4fae-b103-61d183457e46'];

type Obj = Record<string, unknown>;
// The template goes through JSON as the customer receives it.
const generated = () => JSON.parse(JSON.stringify(onboardingTemplate(settings, 'contoso-root').template)) as Obj;
const resources = (t: Obj) => t.resources as Obj[];
const props = (r: Obj) => r.properties as Obj;

describe('onboardingTemplate', () => {
  it('is a management-group deployment template with parameters, resources and outputs', () => {
    const t = generated();
    expect(t.$schema).toBe(TEMPLATE_SCHEMA);
    expect(t.contentVersion).toBe('1.0.0.0');
    for (const r of resources(t)) {
      expect(typeof r.type).toBe('string');
      expect(r.apiVersion).toMatch(/^\d{4}-\d{2}-\d{2}(-preview)?$/);
      expect(typeof r.name).toBe('string');
    }
  });

  it('contains the automation resource-group policy and the Lighthouse policy, both DeployIfNotExists and both assigned', () => {
    const t = generated();
    const defs = resources(t).filter((r) => r.type === 'Microsoft.Authorization/policyDefinitions');
    expect(defs).toHaveLength(2);
    const rg = defs.find((d) => ((props(d).policyRule as Obj).then as { details: Obj }).details.type === 'Microsoft.Resources/resourceGroups');
    const lh = defs.find((d) => ((props(d).policyRule as Obj).then as { details: Obj }).details.type === 'Microsoft.ManagedServices/registrationDefinitions');
    expect(rg).toBeDefined();
    expect(lh).toBeDefined();
    const lhThen = (props(lh!).policyRule as Obj).then as { effect: string; details: Obj };
    expect(lhThen.effect.toLowerCase()).toBe('deployifnotexists');
    expect(JSON.stringify(lhThen.details.existenceCondition)).toContain('Microsoft.ManagedServices/registrationDefinitions/managedByTenantId');
    const rgThen = (props(rg!).policyRule as Obj).then as { effect: string; details: Obj };
    expect(JSON.stringify(props(rg!).parameters)).toContain('DeployIfNotExists');
    expect(rgThen.effect).toBe("[[parameters('effect')]");
    const assignments = resources(t).filter((r) => r.type === 'Microsoft.Authorization/policyAssignments');
    expect(assignments.map((a) => (props(a).policyDefinitionId as string).includes(String(rg!.name)) || (props(a).policyDefinitionId as string).includes(String(lh!.name)))).toEqual([true, true]);
    for (const a of assignments) expect(a.identity).toEqual({ type: 'SystemAssigned' });
    const params = JSON.stringify(assignments.map((a) => props(a).parameters));
    expect(params).toContain("parameters('automationResourceGroupName')");
    expect((t.parameters as Obj).automationResourceGroupName).toMatchObject({ defaultValue: 'MDRAutomation' });
  });

  it('delegates exactly Reader, Log Analytics Contributor, Security Admin and the registration-assignment Delete role to the ingest group', () => {
    const t = generated();
    const auths = (t.variables as Obj).managedByAuthorizations as { principalId: string; roleDefinitionId: string }[];
    expect(auths.map((a) => a.roleDefinitionId).sort()).toEqual([...FOUR].sort());
    expect(auths.every((a) => a.principalId === '33333333-3333-3333-3333-333333333333')).toBe(true);
    expect((t.variables as Obj).managedByTenantId).toBe('11111111-1111-1111-1111-111111111111');
    // No other place grants a delegated role: the only GUIDs in the whole template are these, Owner and Contributor.
    const guids = new Set(JSON.stringify(t).match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g));
    expect([...guids].filter((g) => !FOUR.includes(g)).sort()).toEqual([OWNER, '11111111-1111-1111-1111-111111111111', '33333333-3333-3333-3333-333333333333', 'b24988ac-6180-42a0-ab88-20f7382dd24c'].sort());
  });

  it('assigns Owner only to the Lighthouse policy identity, at the management-group scope', () => {
    const t = generated();
    // Each policy identity's role sits in a nested deployment that receives the identity's principal id.
    const roleDeployments = resources(t).filter((r) => r.type === 'Microsoft.Resources/deployments');
    const inner = (d: Obj) => ((props(d).template as Obj).resources as Obj[])[0]!;
    const owners = roleDeployments.filter((d) => String(props(inner(d)).roleDefinitionId).includes(OWNER));
    expect(owners).toHaveLength(1);
    const owner = owners[0]!;
    expect(owner.scope).toBeUndefined(); // deployment scope = the management group, nothing wider or narrower
    expect(inner(owner).scope).toBeUndefined();
    expect(resources(t).filter((r) => r.type === 'Microsoft.Authorization/roleAssignments')).toEqual([]);
    const principal = String(((props(owner).parameters as Obj).principalId as Obj).value);
    expect(principal).toMatch(/^\[reference\(extensionResourceId\(managementGroup\(\)\.id, 'Microsoft\.Authorization\/policyAssignments', '[^']+'\), '[^']+', 'full'\)\.identity\.principalId\]$/);
    const lhAssignment = resources(t).find((r) => r.type === 'Microsoft.Authorization/policyAssignments' && String(props(r).policyDefinitionId).includes('lighthouse'));
    expect(principal).toContain(`'${String(lhAssignment!.name)}'`);
    // the role assignment's name follows the principal (re-onboarding creates a new identity, hence a new name)
    expect(String(inner(owner).name)).toContain("parameters('principalId')");
    // the delegation itself never carries Owner
    const auths = JSON.stringify((t.variables as Obj).managedByAuthorizations);
    expect(auths).not.toContain(OWNER);
  });

  it('escapes policy-rule expressions so ARM evaluates them per subscription, not at deployment time', () => {
    const t = generated();
    const rules = resources(t).filter((r) => r.type === 'Microsoft.Authorization/policyDefinitions').map((d) => JSON.stringify(props(d).policyRule));
    for (const r of rules) {
      expect(r).not.toMatch(/"\[(?!\[)/);
      expect(r).toContain('"[[');
    }
  });

  it('fills the management group into the az commands', () => {
    const m = onboardingTemplate(settings, 'contoso-root');
    expect(m.commands[0]).toMatch(/^az deployment mg create --management-group-id contoso-root /);
    expect(m.commands.join('\n')).toContain('az policy remediation create');
    expect(m.commands.join('\n')).toContain('/providers/Microsoft.Management/managementGroups/contoso-root/providers/Microsoft.Authorization/policyAssignments/');
    expect(m.removal.join('\n')).toContain("managedByTenantId=='11111111-1111-1111-1111-111111111111'");
    expect(m.removal.join('\n')).toContain('az managedservices definition delete');
    expect(m.commands.join('\n')).not.toContain('show-sub-under-mg');
  });

  // bash itself is the judge: `bash -n` parses without running, and printf shows the words a command line becomes.
  const bashParses = (line: string) => execFileSync('bash', ['-n', '-c', line], { stdio: 'pipe' });
  const bashWords = (line: string) => execFileSync('bash', ['-c', line.replace(/^az /, "printf '%s\\n' ")], { encoding: 'utf8' }).split('\n').slice(0, -1);

  it('quotes a management group id with parentheses (Azure allows them) so that bash parses every command', () => {
    for (const mg of ['contoso(prod)', 'contoso-root', undefined]) {
      const m = onboardingTemplate(settings, mg, ['/subscriptions/0/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/log']);
      for (const line of [...m.commands, ...m.removal, ...m.entraDiagnostics.commands]) expect(() => bashParses(line), line).not.toThrow();
    }
    const words = bashWords(onboardingTemplate(settings, 'contoso(prod)').commands[0]!);
    expect(words.slice(0, 5)).toEqual(['deployment', 'mg', 'create', '--management-group-id', 'contoso(prod)']);
    const removal = onboardingTemplate(settings, 'contoso(prod)').removal[1]!;
    expect(bashWords(removal).at(-1)).toBe('/providers/Microsoft.Management/managementGroups/contoso(prod)');
  });

  it('shellWord leaves plain words alone and makes any other text one word, quotes included', () => {
    expect(shellWord('contoso-root')).toBe('contoso-root');
    for (const text of ["it's (a) $test; `x` & y", 'on board.json', '<management-group-id>', '']) {
      expect(execFileSync('bash', ['-c', `printf '%s' ${shellWord(text)}`], { encoding: 'utf8' })).toBe(text);
    }
  });
});
