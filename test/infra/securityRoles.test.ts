import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bicepDeclarations, bicepParams, bicepVariables, objectBody, objectEntries } from '../support/bicep.js';

// docs/security.md §2.3 must list exactly the roles infra/ gives the Function App's identity, at the same scopes.
const root = path.resolve(import.meta.dirname, '../..');
const read = (rel: string) => readFileSync(path.join(root, rel), 'utf8');

/** Built-in role names by definition id (Azure built-in roles; azure-facts §6 and the role ids infra/ uses). */
const BUILT_IN: Record<string, string> = {
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': 'Storage Blob Data Owner',
  'ba92f5b4-2d11-453d-a403-e96b0029c9fe': 'Storage Blob Data Contributor',
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88': 'Storage Queue Data Contributor',
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3': 'Storage Table Data Contributor',
  '76199698-9eea-4c19-bc75-cec21354c6b6': 'Storage Table Data Reader',
  '2b629674-e913-4c01-ae53-ef4638d8f975': 'Azure Event Hubs Data Sender',
  'a638d3c7-ab3a-418d-83e6-5f17a39d4fde': 'Azure Event Hubs Data Receiver',
  '3913510d-42f4-4e42-8a64-420c390055eb': 'Monitoring Metrics Publisher',
};
const CUSTOM: Record<string, string> = {
  'roleDefs.outputs.appSettingsWriterRoleDefinitionId': 'MDR Function App settings writer',
  poolManagerRoleDefinitionId: 'MDR Event Hubs pool manager',
};

const unquote = (v: string | undefined) => v?.trim().replace(/^'(.*)'$/, '$1');

/** "<role> @ <scope>" for every role assignment of the app identity in main.bicep and the pool module. */
function bicepGrants(): string[] {
  const main = read('infra/main.bicep');
  const vars = bicepVariables(main);
  const params = bicepParams(main);
  const roleVar = objectEntries(objectBody(vars.get('roles')) ?? '');
  const defaultOf = (name: string) => unquote(/=\s*'([^']*)'/.exec(main.split('\n').find((l) => l.startsWith(`param ${name} `)) ?? '')?.[0]?.slice(1).trim());
  const nameOf = (expr: string): string => {
    const guid = /roles\.(\w+)/.exec(expr)?.[1];
    if (guid) return BUILT_IN[unquote(roleVar.get(guid)) ?? ''] ?? `unknown role ${expr}`;
    for (const [k, v] of Object.entries(CUSTOM)) if (expr.includes(k)) return v;
    const lit = /'([0-9a-f-]{36})'/.exec(expr)?.[1];
    return (lit && BUILT_IN[lit]) ?? `unknown role ${expr}`;
  };
  const containerName = (symbol: string): string => {
    const decl = bicepDeclarations(main).find((d) => d.symbol === symbol);
    const name = decl?.properties.get('name') ?? '';
    const fromVar = unquote(vars.get(name));
    return fromVar ?? (params.has(name) ? (defaultOf(name) ?? name) : (unquote(name) ?? name));
  };
  const scopeOf = (scope: string | undefined, loopItem?: string): string => {
    if (!scope) return 'resource group of the app';
    if (/^hostContainerRes\[i\]$/.test(scope) && loopItem) return `container ${loopItem}`;
    if (scope.endsWith('ContainerRes')) return `container ${containerName(scope)}`;
    return ({ storage: 'storage account', appInsights: 'Application Insights', downstreamHub: 'downstream hub', site: 'the Function App' } as Record<string, string>)[scope] ?? `unknown scope ${scope}`;
  };
  const out: string[] = [];
  for (const d of bicepDeclarations(main)) {
    if (!d.target.startsWith('Microsoft.Authorization/roleAssignments@')) continue;
    const props = objectEntries(objectBody(d.properties.get('properties')) ?? '');
    if (props.get('principalId') !== 'site.identity.principalId') continue;
    const role = nameOf(props.get('roleDefinitionId') ?? '');
    if (d.loop) {
      const [, , , list] = /^\((\w+),\s*(\w+)\)\s+in\s+(\w+)$/.exec(d.loop) ?? [];
      const items = [...(vars.get(list ?? '') ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1]!);
      for (const item of items) out.push(`${role} @ ${scopeOf(d.properties.get('scope'), item)}`);
    } else out.push(`${role} @ ${scopeOf(d.properties.get('scope'))}`);
  }
  const pool = read('infra/modules/pool.bicep');
  const poolVars = bicepVariables(pool);
  for (const d of bicepDeclarations(pool)) {
    if (!d.target.startsWith('Microsoft.Authorization/roleAssignments@')) continue;
    const props = objectEntries(objectBody(d.properties.get('properties')) ?? '');
    if (props.get('principalId') !== 'appPrincipalId') continue;
    const expr = props.get('roleDefinitionId') ?? '';
    out.push(`${nameOf(poolVars.get(expr) ?? expr)} @ pool resource group`);
  }
  return out.sort();
}

/** "<role> @ <scope>" for every row of the §2.3 table in docs/security.md. */
function documentedGrants(): string[] {
  const doc = read('docs/security.md');
  const section = doc.slice(doc.indexOf("### 2.3 The Function App's identity"));
  const lines = section.split('\n');
  const header = lines.findIndex((l) => l.startsWith('| Role | Scope | Why | What an attacker holding it could do |'));
  expect(header).toBeGreaterThanOrEqual(0);
  const table: string[] = [];
  for (const l of lines.slice(header + 2)) {
    if (!l.startsWith('|')) break;
    table.push(l);
  }
  return table.map((row) => {
    const [role = '', scope = ''] = row.split('|').slice(1).map((c) => c.trim());
    const r = role.replace(/\*\*/g, '').replace(/\s*\(custom\)$/, '');
    const container = /^container `([^`]+)`/.exec(scope)?.[1];
    const s = container
      ? `container ${container}`
      : scope.startsWith('storage account') ? 'storage account'
      : scope.startsWith('Application Insights') ? 'Application Insights'
      : scope.startsWith('pool resource group') ? 'pool resource group'
      : scope.startsWith('downstream hub') ? 'downstream hub'
      : scope.startsWith('the Function App') ? 'the Function App'
      : `unknown scope ${scope}`;
    return `${r} @ ${s}`;
  }).sort();
}

describe('docs/security.md role table', () => {
  it('lists exactly the roles and scopes infra/ grants the app identity', () => {
    const bicep = bicepGrants();
    expect(bicep.length).toBeGreaterThanOrEqual(10);
    expect(bicep.filter((g) => g.includes('unknown'))).toEqual([]);
    expect(documentedGrants()).toEqual(bicep);
  });

  it('grants blob data roles per container, never on the storage account', () => {
    expect(bicepGrants().filter((g) => g.startsWith('Storage Blob') && !g.includes('@ container '))).toEqual([]);
  });
});
