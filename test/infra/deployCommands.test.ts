import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSettings } from '../../src/lib/config/settings.js';
import { onboardingTemplate } from '../../src/lib/onboarding/onboardingTemplate.js';
import { bicepDeclarations, bicepParams, objectBody, objectEntries, type BicepParam } from '../support/bicep.js';
import { azCalls, azDeployments, markdownSnippets, type AzDeployment } from '../support/docCommands.js';

// Every `az deployment … create` in the docs is checked against the template it deploys: each -p/--parameters
// name must be a parameter of that template, and every required parameter (no default) must be given. The real
// bash reads the commands (test/support/docCommands.ts), so quoting and continuations are what a reader gets.
const root = path.resolve(import.meta.dirname, '../..');
const read = (rel: string) => readFileSync(path.join(root, rel), 'utf8');
const docFiles = ['README.md', 'infra/README.md', ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

const settings = parseSettings({
  MDR_PROVIDER_TENANT_ID: '11111111-1111-1111-1111-111111111111',
  MDR_PROVIDER_SUBSCRIPTION_ID: '22222222-2222-2222-2222-222222222222',
  MDR_INGEST_PRINCIPAL_ID: '33333333-3333-3333-3333-333333333333',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
});

/** Parameters of the customer's onboarding template (the JSON the API hands out), in the Bicep reader's shape. */
function onboardingParams(): Map<string, BicepParam> {
  const params = onboardingTemplate(settings, 'contoso-root').template.parameters as Record<string, { type: string; defaultValue?: unknown }>;
  return new Map(Object.entries(params).map(([name, p]) => [name, { name, type: p.type, required: !('defaultValue' in p) }]));
}

/** The parameters of the template a documented command deploys; undefined for a file the docs should not name. */
function templateParams(file: string): Map<string, BicepParam> | undefined {
  if (file.endsWith('.bicep')) return bicepParams(read(file));
  if (/(^|\/)[a-z0-9]+-onboarding\.json$/.test(file)) return onboardingParams();
  return undefined;
}

/** What is wrong with one deployment command: unknown parameters, missing required ones, an unknown template. */
export function deploymentProblems(d: AzDeployment, paramsOf: (file: string) => Map<string, BicepParam> | undefined): string[] {
  if (!d.templateFile) return [`${d.source}: no --template-file`];
  const params = paramsOf(d.templateFile);
  if (!params) return [`${d.source}: deploys ${d.templateFile}, a template this test does not know`];
  const problems: string[] = [];
  for (const name of d.parameters.keys()) if (!params.has(name)) problems.push(`${d.source}: ${d.templateFile} has no parameter ${name}`);
  if (d.parameterFiles.length === 0)
    for (const p of params.values()) if (p.required && !d.parameters.has(p.name)) problems.push(`${d.source}: required parameter ${p.name} of ${d.templateFile} is not given`);
  return problems;
}

describe('deployment commands in the docs', () => {
  let deployments: AzDeployment[] = [];
  beforeAll(async () => {
    deployments = azDeployments(await azCalls(docFiles.flatMap((f) => markdownSnippets(read(f), f))));
  }, 120_000);

  it('are found in README, infra/README and docs (both the provider and the customer deployment)', () => {
    const files = new Set(deployments.map((d) => d.templateFile));
    expect(files).toContain('infra/main.bicep');
    expect([...files].some((f) => f?.endsWith('-onboarding.json'))).toBe(true);
    const sources = new Set(deployments.map((d) => d.source.split(':')[0]));
    expect(sources).toContain('README.md');
    expect(sources).toContain('infra/README.md');
    expect(sources).toContain('docs/onboarding.md');
  });

  it('pass only parameters the deployed template declares, and every required one', () => {
    expect(deployments.flatMap((d) => deploymentProblems(d, templateParams))).toEqual([]);
  });

  it('refuse an unknown parameter and report a missing required one (the README mistake this test guards against)', async () => {
    const doc = [
      '```sh',
      'az deployment group create -g mdr-app -f infra/main.bicep \\',
      "  -p providerTenantId=<t> ingestPrincipalId=<group> poolNamePrefix=x poolRegions='[\"westeurope\"]'",
      '```',
    ].join('\n');
    const [d] = azDeployments(await azCalls(markdownSnippets(doc, 'old-readme.md')));
    expect(d?.parameters.get('poolRegions')).toBe('["westeurope"]');
    expect(deploymentProblems(d!, templateParams)).toEqual([
      'old-readme.md:2: infra/main.bicep has no parameter ingestPrincipalId',
      'old-readme.md:2: required parameter ingestGroupObjectId of infra/main.bicep is not given',
    ]);
  });

  it('include the commands the API hands the customer, checked against the template it hands out with them', async () => {
    const m = onboardingTemplate(settings, 'contoso-root');
    const ds = azDeployments(await azCalls(m.commands.map((text, i) => ({ text, file: `commands[${i}]`, line: 1 }))));
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ scope: 'mg', templateFile: 'mdr-onboarding.json' });
    expect(ds.flatMap((d) => deploymentProblems(d, templateParams))).toEqual([]);
  });
});

describe('module calls in infra/*.bicep', () => {
  const files = ['infra/main.bicep', ...readdirSync(path.join(root, 'infra/modules')).filter((f) => f.endsWith('.bicep')).map((f) => `infra/modules/${f}`)];

  it('pass exactly the parameters each module declares, every required one included', () => {
    const problems: string[] = [];
    let calls = 0;
    for (const file of files) {
      for (const mod of bicepDeclarations(read(file)).filter((d) => d.kind === 'module')) {
        calls++;
        const target = path.posix.join(path.posix.dirname(file), mod.target);
        const declared = bicepParams(read(target));
        const given = objectEntries(objectBody(mod.properties.get('params')) ?? '');
        for (const name of given.keys()) if (!declared.has(name)) problems.push(`${file} module ${mod.symbol}: ${target} has no parameter ${name}`);
        for (const p of declared.values()) if (p.required && !given.has(p.name)) problems.push(`${file} module ${mod.symbol}: required ${p.name} of ${target} not given`);
      }
    }
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(problems).toEqual([]);
  });

  it('reads parameter declarations: a default or a nullable type makes a parameter optional', () => {
    const ps = bicepParams(["@minLength(3)", 'param a string', "param b string = 'x'", 'param c int?', 'param d object = {', '  k: 1', '}'].join('\n'));
    expect([...ps.values()].map((p) => [p.name, p.required])).toEqual([['a', true], ['b', false], ['c', false], ['d', false]]);
  });
});

describe('monitoring parameters (alerts and workbook)', () => {
  const main = read('infra/main.bicep');
  const monitoring = read('infra/modules/monitoring.bicep');
  const defaultOf = (text: string, name: string) => new RegExp(`^param ${name} \\w+ = (.+)$`, 'm').exec(text)?.[1]?.trim();

  it('reach the monitoring module from main.bicep under the same names, optional, with the same defaults', () => {
    const call = bicepDeclarations(main).find((d) => d.kind === 'module' && d.target === 'modules/monitoring.bicep');
    expect(call).toBeDefined();
    const given = objectEntries(objectBody(call!.properties.get('params')) ?? '');
    expect(given.get('appInsightsId')).toBe('appInsights.id');
    const tunables = [...bicepParams(monitoring).keys()].filter((p) => !['location', 'namePrefix', 'tags', 'appInsightsId'].includes(p));
    expect(tunables.sort()).toEqual(['alertEmailAddresses', 'alertWebhookUrl', 'alertsEnabled', 'deadLetterMinCount', 'deadLetterPercent', 'healthRunMissingMinutes', 'reconcileFailingRuns']);
    for (const p of tunables) {
      expect(given.get(p), p).toBe(p);
      expect(bicepParams(main).get(p)?.required, p).toBe(false);
      expect(defaultOf(main, p), p).toBe(defaultOf(monitoring, p));
    }
    // The webhook URL may carry a token: secure in both templates.
    for (const text of [main, monitoring]) expect(text).toMatch(/@secure\(\)\nparam alertWebhookUrl string/);
  });

  it('are shown in infra/README with a deployment that passes every one of them', async () => {
    const ds = azDeployments(await azCalls(markdownSnippets(read('infra/README.md'), 'infra/README.md')));
    const withAlerts = ds.find((d) => d.parameters.has('alertEmailAddresses'));
    expect(withAlerts?.templateFile).toBe('infra/main.bicep');
    expect(withAlerts!.parameters.get('alertEmailAddresses')).toBe('["soc-oncall@contoso.com"]');
    for (const p of ['alertWebhookUrl', 'deadLetterPercent', 'deadLetterMinCount', 'reconcileFailingRuns', 'healthRunMissingMinutes']) expect(withAlerts!.parameters.has(p), p).toBe(true);
    expect(deploymentProblems(withAlerts!, templateParams)).toEqual([]);
  }, 120_000);
});
