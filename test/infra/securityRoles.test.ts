import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_CONTAINER } from '../../src/lib/fleet/checkpoints.js';
import { bicepDeclarations, bicepParams, bicepVariables, objectBody, objectEntries } from '../support/bicep.js';

// docs/security.md §2.3 (control app) and §2.4 (ingest apps) must list exactly the roles infra/ gives each identity,
// at the same scopes.
const root = path.resolve(import.meta.dirname, '../..');
const read = (rel: string) => readFileSync(path.join(root, rel), 'utf8');

/** Built-in role names by definition id (Azure built-in roles; azure-facts §6 and the role ids infra/ uses). */
const BUILT_IN: Record<string, string> = {
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': 'Storage Blob Data Owner',
  'ba92f5b4-2d11-453d-a403-e96b0029c9fe': 'Storage Blob Data Contributor',
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88': 'Storage Queue Data Contributor',
  'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a': 'Storage Queue Data Message Sender',
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3': 'Storage Table Data Contributor',
  '76199698-9eea-4c19-bc75-cec21354c6b6': 'Storage Table Data Reader',
  '2b629674-e913-4c01-ae53-ef4638d8f975': 'Azure Event Hubs Data Sender',
  'a638d3c7-ab3a-418d-83e6-5f17a39d4fde': 'Azure Event Hubs Data Receiver',
  '3913510d-42f4-4e42-8a64-420c390055eb': 'Monitoring Metrics Publisher',
};
const CUSTOM: Record<string, string> = {
  settingsWriterRoleDefinitionId: 'MDR Function App settings writer',
  poolManagerRoleDefinitionId: 'MDR Event Hubs pool manager',
};

const unquote = (v: string | undefined) => v?.trim().replace(/^'(.*)'$/s, '$1');

type Identity = 'control' | 'ingest';
interface Grants {
  control: string[];
  ingest: string[];
}

const main = read('infra/main.bicep');
const mainVars = bicepVariables(main);
const mainParams = bicepParams(main);
const defaultOf = (name: string) => unquote(/=\s*('[^']*'|\d+|true|false)/.exec(main.split('\n').find((l) => l.startsWith(`param ${name} `)) ?? '')?.[1]);

/** A string-valued Bicep expression of main.bicep with its variables and parameter defaults filled in; other interpolations become <nn>. */
function resolveString(expr: string | undefined): string {
  const e = (expr ?? '').trim();
  if (/^[A-Za-z_]\w*$/.test(e)) return mainVars.has(e) ? resolveString(mainVars.get(e)) : (defaultOf(e) ?? e);
  return (unquote(e) ?? e).replace(/\$\{([^}]*)\}/g, (_, inner: string) => (/^[A-Za-z_]\w*$/.test(inner.trim()) ? resolveString(inner.trim()) : '<nn>'));
}

/** A list-valued expression: a literal `[ … ]`, a variable, or concat(…, …). */
function resolveList(expr: string | undefined): string[] {
  const e = (expr ?? '').trim();
  if (/^[A-Za-z_]\w*$/.test(e)) return resolveList(mainVars.get(e));
  const concat = /^concat\((.*)\)$/s.exec(e);
  if (concat) {
    const [a = '', b = ''] = splitTopLevel(concat[1]!);
    return [...resolveList(a), ...resolveList(b)];
  }
  if (e.startsWith('[')) return splitTopLevel(e.slice(1, -1)).filter((x) => x.trim() !== '').map(resolveString);
  return [];
}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  let quoted = false;
  for (const c of s) {
    if (c === "'") quoted = !quoted;
    if (!quoted && (c === '[' || c === '(')) depth++;
    if (!quoted && (c === ']' || c === ')')) depth--;
    if (!quoted && depth === 0 && (c === ',' || c === '\n')) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function roleName(expr: string, roleVar: Map<string, string>): string {
  const ref = /roles\.(\w+)/.exec(expr)?.[1];
  if (ref) return BUILT_IN[unquote(roleVar.get(ref)) ?? ''] ?? `unknown role ${expr}`;
  for (const [k, v] of Object.entries(CUSTOM)) if (expr.includes(k)) return v;
  const lit = /'([0-9a-f-]{36})'/.exec(expr)?.[1];
  return (lit && BUILT_IN[lit]) ?? `unknown role ${expr}`;
}

/** "<role> @ <scope>" for every role assignment in infra/, by the identity that receives it. */
function bicepGrants(): Grants {
  const out: Grants = { control: [], ingest: [] };
  const add = (who: Identity | undefined, g: string) => (who ? out[who].push(g) : undefined);

  // main.bicep: the control app's identity
  const mainRoles = objectEntries(objectBody(mainVars.get('roles')) ?? '');
  const mainDecls = bicepDeclarations(main);
  const containerOf = (symbol: string) => resolveString(mainDecls.find((d) => d.symbol === symbol)?.properties.get('name'));
  const mainScope = (scope: string | undefined, item?: string): string => {
    if (!scope) return 'resource group of the app';
    if (/^hostContainerRes\[i\]$/.test(scope) && item) return `container ${item}`;
    if (scope.endsWith('ContainerRes')) return `container ${containerOf(scope)}`;
    return ({ storage: 'storage account', appInsights: 'Application Insights', downstreamHub: 'downstream hub', site: 'the control app' } as Record<string, string>)[scope] ?? `unknown scope ${scope}`;
  };
  for (const d of mainDecls) {
    if (!d.target.startsWith('Microsoft.Authorization/roleAssignments@')) continue;
    const props = objectEntries(objectBody(d.properties.get('properties')) ?? '');
    const who: Identity | undefined = props.get('principalId') === 'site.identity.principalId' ? 'control' : undefined;
    const role = roleName(props.get('roleDefinitionId') ?? '', mainRoles);
    if (d.loop) {
      const list = /\s+in\s+(\w+)$/.exec(d.loop)?.[1];
      for (const item of resolveList(list)) add(who, `${role} @ ${mainScope(d.properties.get('scope'), item)}`);
    } else add(who, `${role} @ ${mainScope(d.properties.get('scope'))}`);
  }

  // modules/pool.bicep: the control app (appPrincipalId) and each ingest app (loop over ingestPrincipalIds)
  const pool = read('infra/modules/pool.bicep');
  const poolVars = bicepVariables(pool);
  for (const d of bicepDeclarations(pool)) {
    if (!d.target.startsWith('Microsoft.Authorization/roleAssignments@')) continue;
    const props = objectEntries(objectBody(d.properties.get('properties')) ?? '');
    const p = props.get('principalId');
    const who: Identity | undefined = p === 'appPrincipalId' ? 'control' : d.loop?.includes('ingestPrincipalIds') && p === 'principalId' ? 'ingest' : undefined;
    const expr = props.get('roleDefinitionId') ?? '';
    add(who, `${roleName(poolVars.get(expr) ?? expr, new Map())} @ pool resource group`);
  }

  // modules/ingestApp.bicep: each ingest app's identity, and the control app's settings writer on each ingest app
  const ingest = read('infra/modules/ingestApp.bicep');
  const ingestRoles = objectEntries(objectBody(bicepVariables(ingest).get('roles')) ?? '');
  const call = objectEntries(objectBody(mainDecls.find((d) => d.target === 'modules/ingestApp.bicep')?.properties.get('params')) ?? '');
  const ingestScope = (scope: string | undefined, item?: string): string => {
    if (scope === 'hostContainers[i]' && item) return `container ${item}`;
    const byParam: Record<string, string> = {
      packageContainer: `container ${resolveString(call.get('deploymentContainerName'))}`,
      outputContainer: `container ${resolveString(call.get('outputContainerName'))}`,
      deadLetterContainer: `container ${resolveString(call.get('deadLetterContainerName'))}`,
      reconcileQueue: `queue ${resolveString(call.get('reconcileQueueName'))}`,
      lastSeenTable: `table ${resolveString(call.get('lastSeenTableName'))}`,
      coverageTable: `table ${resolveString(call.get('coverageTableName'))}`,
      appInsights: 'Application Insights',
      downstreamHub: 'downstream hub',
      site: 'each ingest app',
    };
    return byParam[scope ?? ''] ?? `unknown scope ${scope}`;
  };
  for (const d of bicepDeclarations(ingest)) {
    if (!d.target.startsWith('Microsoft.Authorization/roleAssignments@')) continue;
    const props = objectEntries(objectBody(d.properties.get('properties')) ?? '');
    const p = props.get('principalId');
    const who: Identity | undefined = p === 'site.identity.principalId' ? 'ingest' : p === 'controlPrincipalId' ? 'control' : undefined;
    const role = roleName(props.get('roleDefinitionId') ?? '', ingestRoles);
    if (d.loop) for (const item of resolveList(call.get('hostContainerNames'))) add(who, `${role} @ ${ingestScope(d.properties.get('scope'), item)}`);
    else add(who, `${role} @ ${ingestScope(d.properties.get('scope'))}`);
  }
  return { control: out.control.sort(), ingest: out.ingest.sort() };
}

/** "<role> @ <scope>" for every row of one role table of docs/security.md. */
function documentedGrants(heading: string): string[] {
  const doc = read('docs/security.md');
  const start = doc.indexOf(heading);
  expect(start, heading).toBeGreaterThanOrEqual(0);
  const lines = doc.slice(start).split('\n');
  const header = lines.findIndex((l) => l.startsWith('| Role | Scope | Why | What an attacker holding it could do |'));
  expect(header).toBeGreaterThanOrEqual(0);
  const table: string[] = [];
  for (const l of lines.slice(header + 2)) {
    if (!l.startsWith('|')) break;
    table.push(l);
  }
  return table
    .map((row) => {
      const [role = '', scope = ''] = row.split('|').slice(1).map((c) => c.trim());
      const r = role.replace(/\*\*/g, '').replace(/\s*\(custom\)$/, '');
      const named = /^(container|queue|table) `([^`]+)`/.exec(scope);
      const s = named
        ? `${named[1]} ${named[2]}`
        : (['storage account', 'Application Insights', 'pool resource group', 'downstream hub', 'each ingest app', 'the control app'].find((p) => scope.startsWith(p)) ?? `unknown scope ${scope}`);
      return `${r} @ ${s}`;
    })
    .sort();
}

describe('docs/security.md role tables', () => {
  const grants = bicepGrants();

  it('list exactly the roles and scopes infra/ grants the control app identity', () => {
    expect(grants.control.length).toBeGreaterThanOrEqual(8);
    expect(grants.control.filter((g) => g.includes('unknown'))).toEqual([]);
    expect(documentedGrants("### 2.3 The control app's identity")).toEqual(grants.control);
  });

  it('list exactly the roles and scopes infra/ grants each ingest app identity', () => {
    expect(grants.ingest.length).toBeGreaterThanOrEqual(10);
    expect(grants.ingest.filter((g) => g.includes('unknown'))).toEqual([]);
    expect(documentedGrants("### 2.4 The ingest apps' identities")).toEqual(grants.ingest);
  });

  it('grant blob data roles per container, never on the storage account', () => {
    expect([...grants.control, ...grants.ingest].filter((g) => g.startsWith('Storage Blob') && !g.includes('@ container '))).toEqual([]);
  });

  it('give the ingest apps data-plane roles only: no custom (ARM) role, nothing on the storage account, the pool only to receive', () => {
    expect(grants.ingest.filter((g) => g.startsWith('MDR '))).toEqual([]);
    expect(grants.ingest.filter((g) => g.endsWith('@ storage account'))).toEqual([]);
    expect(grants.ingest.filter((g) => g.endsWith('@ pool resource group'))).toEqual(['Azure Event Hubs Data Receiver @ pool resource group']);
    expect(grants.ingest).toContain('Storage Queue Data Message Sender @ queue mdr-reconcile');
  });

  it('let the control app write the ingest apps’ settings and never its own', () => {
    expect(grants.control).toContain('MDR Function App settings writer @ each ingest app');
    expect(grants.control.filter((g) => g.endsWith('@ the control app'))).toEqual([]);
  });

  it('give every ingest app the shared checkpoint container the Event Hubs extension uses, in the control app’s storage account', () => {
    expect(grants.ingest).toContain(`Storage Blob Data Owner @ container ${CHECKPOINT_CONTAINER}`);
    const call = objectEntries(objectBody(bicepDeclarations(main).find((d) => d.target === 'modules/ingestApp.bicep')?.properties.get('params')) ?? '');
    expect(call.get('storageAccountName')).toBe('storage.name');
    expect(objectEntries(objectBody(mainVars.get('sharedAppSettings')) ?? '').get('AzureWebJobsStorage__accountName')).toBe('storage.name');
    expect(call.get('sharedSettings')).toBe('sharedAppSettings');
  });
});

describe('ingest app names', () => {
  it('differ from each other and from the control app within the 32 characters the Functions host id keeps, even with the longest prefix', () => {
    const expand = (template: string, nn: string) =>
      (unquote(template) ?? '').replace('${resourcePrefix}', 'p'.repeat(12)).replace(/\$\{padLeft\([^}]*\)\}/, nn).replace(/\$\{uniqueString\([^}]*\)\}/, 'u'.repeat(13));
    const ingestTemplate = /\[for i in range\(0, ingestAppCount\):\s*('.*')\]/.exec(mainVars.get('ingestAppNames') ?? '')?.[1] ?? '';
    const controlTemplate = /^param appName string = ('.*')$/m.exec(main)?.[1] ?? '';
    const ids = [expand(controlTemplate, ''), ...['01', '02', '99'].map((nn) => expand(ingestTemplate, nn))].map((n) => n.slice(0, 32));
    expect(ids.every((n) => !n.includes('${'))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(mainParams.get('ingestAppCount')).toMatchObject({ type: 'int', required: false });
  });
});
