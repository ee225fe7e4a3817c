import { readFileSync } from 'node:fs';
import path from 'node:path';
import { bicepDeclarations, bicepVariables, objectBody, objectEntries, type BicepDeclaration } from './bicep.js';

/**
 * The role assignments infra/ makes for the two app identities, read from the Bicep source (test/support/bicep.ts):
 * who gets which role on which scope. docs/security.md's role tables (test/infra/securityRoles.test.ts) and the
 * rights audit (test/infra/rightsAudit.int.test.ts) both check against this one reading.
 */
const root = path.resolve(import.meta.dirname, '../..');
const read = (rel: string) => readFileSync(path.join(root, rel), 'utf8');

/** Built-in role names by definition id (the ids infra/ uses; names as in Azure's built-in role list). */
export const BUILT_IN_ROLES: Readonly<Record<string, string>> = {
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

/** Custom roles of infra/modules/roleDefinitions.bicep: the module output a role assignment names → role name and resource symbol. */
export const CUSTOM_ROLES: Readonly<Record<string, { name: string; symbol: string }>> = {
  settingsWriterRoleDefinitionId: { name: 'MDR Function App settings writer', symbol: 'appSettingsWriter' },
  appSettingsWriterRoleDefinitionId: { name: 'MDR Function App settings writer', symbol: 'appSettingsWriter' },
  poolManagerRoleDefinitionId: { name: 'MDR Event Hubs pool manager', symbol: 'poolManager' },
};

export type Identity = 'control' | 'ingest';

/** Where a role is assigned. Storage scopes carry the resource name (resolved with main.bicep's parameter defaults). */
export type GrantScope =
  | { kind: 'container' | 'queue' | 'table'; name: string }
  | { kind: 'storage account' | 'Application Insights' | 'downstream hub' | 'pool resource group' | 'each ingest app' | 'the control app' | 'resource group of the app' }
  | { kind: 'unknown'; name: string };

export interface Grant {
  identity: Identity;
  role: string;
  scope: GrantScope;
  /** The Bicep file and resource symbol that makes the assignment. */
  source: string;
}

export const scopeText = (s: GrantScope): string => ('name' in s ? `${s.kind} ${s.name}` : s.kind);
export const grantText = (g: Pick<Grant, 'role' | 'scope'>): string => `${g.role} @ ${scopeText(g.scope)}`;

const unquote = (v: string | undefined) => v?.trim().replace(/^'(.*)'$/s, '$1');

/** Expressions of main.bicep, with its variables and parameter defaults filled in. */
export function mainBicep() {
  const text = read('infra/main.bicep');
  const vars = bicepVariables(text);
  const decls = bicepDeclarations(text);
  const defaultOf = (name: string) => unquote(/=\s*('[^']*'|\d+|true|false)/.exec(text.split('\n').find((l) => l.startsWith(`param ${name} `)) ?? '')?.[1]);

  /** A string-valued expression with variables and parameter defaults filled in; other interpolations become <nn>. */
  function resolveString(expr: string | undefined): string {
    const e = (expr ?? '').trim();
    if (/^[A-Za-z_]\w*$/.test(e)) return vars.has(e) ? resolveString(vars.get(e)) : (defaultOf(e) ?? e);
    return (unquote(e) ?? e).replace(/\$\{([^}]*)\}/g, (_, inner: string) => (/^[A-Za-z_]\w*$/.test(inner.trim()) ? resolveString(inner.trim()) : '<nn>'));
  }

  /** A list-valued expression: a literal `[ … ]`, a variable, or concat(…, …). */
  function resolveList(expr: string | undefined): string[] {
    const e = (expr ?? '').trim();
    if (/^[A-Za-z_]\w*$/.test(e)) return resolveList(vars.get(e));
    const concat = /^concat\((.*)\)$/s.exec(e);
    if (concat) {
      const [a = '', b = ''] = splitTopLevel(concat[1]!);
      return [...resolveList(a), ...resolveList(b)];
    }
    if (e.startsWith('[')) return splitTopLevel(e.slice(1, -1)).filter((x) => x.trim() !== '').map(resolveString);
    return [];
  }

  return { text, vars, decls, defaultOf, resolveString, resolveList };
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
  if (ref) return BUILT_IN_ROLES[unquote(roleVar.get(ref)) ?? ''] ?? `unknown role ${expr}`;
  for (const [k, v] of Object.entries(CUSTOM_ROLES)) if (expr.includes(k)) return v.name;
  const lit = /'([0-9a-f-]{36})'/.exec(expr)?.[1];
  return (lit && BUILT_IN_ROLES[lit]) ?? `unknown role ${expr}`;
}

/** The scope a storage child resource declaration stands for, by its type; undefined for other types. */
function storageScope(d: BicepDeclaration | undefined, name: string): GrantScope | undefined {
  const t = d?.target ?? '';
  if (t.startsWith('Microsoft.Storage/storageAccounts/blobServices/containers@')) return { kind: 'container', name };
  if (t.startsWith('Microsoft.Storage/storageAccounts/queueServices/queues@')) return { kind: 'queue', name };
  if (t.startsWith('Microsoft.Storage/storageAccounts/tableServices/tables@')) return { kind: 'table', name };
  if (t.startsWith('Microsoft.Storage/storageAccounts@')) return { kind: 'storage account' };
  if (t.startsWith('Microsoft.Insights/components@')) return { kind: 'Application Insights' };
  if (t.startsWith('Microsoft.EventHub/namespaces/eventhubs@')) return { kind: 'downstream hub' };
  return undefined;
}

const isRoleAssignment = (d: BicepDeclaration) => d.target.startsWith('Microsoft.Authorization/roleAssignments@');
const assignmentProps = (d: BicepDeclaration) => objectEntries(objectBody(d.properties.get('properties')) ?? '');

/** Every role assignment infra/ makes to the control app's or an ingest app's identity. */
export function bicepGrants(): Grant[] {
  const out: Grant[] = [];
  const main = mainBicep();

  // main.bicep: the control app's identity
  const mainRoles = objectEntries(objectBody(main.vars.get('roles')) ?? '');
  const mainScope = (scope: string | undefined, item?: string): GrantScope => {
    if (!scope) return { kind: 'resource group of the app' };
    if (scope === 'site') return { kind: 'the control app' };
    const loop = /^(\w+)\[i\]$/.exec(scope);
    const d = main.decls.find((x) => x.symbol === (loop ? loop[1] : scope) && !x.existing);
    const name = loop && item ? item : main.resolveString(d?.properties.get('name'));
    return storageScope(d, name) ?? { kind: 'unknown', name: scope };
  };
  for (const d of main.decls.filter(isRoleAssignment)) {
    const props = assignmentProps(d);
    if (props.get('principalId') !== 'site.identity.principalId') continue;
    const role = roleName(props.get('roleDefinitionId') ?? '', mainRoles);
    const items = d.loop ? main.resolveList(/\s+in\s+(\w+)$/.exec(d.loop)?.[1]) : [undefined];
    for (const item of items) out.push({ identity: 'control', role, scope: mainScope(d.properties.get('scope'), item), source: `infra/main.bicep ${d.symbol}` });
  }

  // modules/pool.bicep: the control app (appPrincipalId) and each ingest app (loop over ingestPrincipalIds)
  const pool = read('infra/modules/pool.bicep');
  const poolVars = bicepVariables(pool);
  for (const d of bicepDeclarations(pool).filter(isRoleAssignment)) {
    const props = assignmentProps(d);
    const p = props.get('principalId');
    const identity: Identity | undefined = p === 'appPrincipalId' ? 'control' : d.loop?.includes('ingestPrincipalIds') && p === 'principalId' ? 'ingest' : undefined;
    const expr = props.get('roleDefinitionId') ?? '';
    if (identity) out.push({ identity, role: roleName(poolVars.get(expr) ?? expr, new Map()), scope: { kind: 'pool resource group' }, source: `infra/modules/pool.bicep ${d.symbol}` });
  }

  // modules/ingestApp.bicep: each ingest app's identity, and the control app's settings writer on each ingest app
  const ingest = read('infra/modules/ingestApp.bicep');
  const ingestDecls = bicepDeclarations(ingest);
  const ingestRoles = objectEntries(objectBody(bicepVariables(ingest).get('roles')) ?? '');
  const call = objectEntries(objectBody(main.decls.find((d) => d.target === 'modules/ingestApp.bicep')?.properties.get('params')) ?? '');
  const ingestScope = (scope: string | undefined, item?: string): GrantScope => {
    if (scope === 'site') return { kind: 'each ingest app' };
    const loop = /^(\w+)\[i\]$/.exec(scope ?? '');
    const d = ingestDecls.find((x) => x.symbol === (loop ? loop[1] : scope));
    // The module's resources are named by its parameters, which main.bicep's call passes.
    const name = loop && item ? item : main.resolveString(call.get(d?.properties.get('name') ?? ''));
    return storageScope(d, name) ?? { kind: 'unknown', name: scope ?? '' };
  };
  for (const d of ingestDecls.filter(isRoleAssignment)) {
    const props = assignmentProps(d);
    const p = props.get('principalId');
    const identity: Identity | undefined = p === 'site.identity.principalId' ? 'ingest' : p === 'controlPrincipalId' ? 'control' : undefined;
    if (!identity) continue;
    const role = roleName(props.get('roleDefinitionId') ?? '', ingestRoles);
    const items = d.loop ? main.resolveList(call.get('hostContainerNames')) : [undefined];
    for (const item of items) out.push({ identity, role, scope: ingestScope(d.properties.get('scope'), item), source: `infra/modules/ingestApp.bicep ${d.symbol}` });
  }
  return out;
}

/** The storage resources main.bicep creates (deployed, not `existing`), by kind, with resolved names. */
export function bicepStorageResources(): { kind: 'container' | 'queue' | 'table'; name: string }[] {
  const main = mainBicep();
  const out: { kind: 'container' | 'queue' | 'table'; name: string }[] = [];
  for (const d of main.decls) {
    if (d.existing) continue;
    const names = d.loop ? main.resolveList(/\s+in\s+(\w+)$/.exec(d.loop)?.[1]) : [main.resolveString(d.properties.get('name'))];
    for (const name of names) {
      const s = storageScope(d, name);
      if (s && (s.kind === 'container' || s.kind === 'queue' || s.kind === 'table')) out.push({ kind: s.kind, name });
    }
  }
  // Each ingest app's own deployment container is created by the module.
  const call = objectEntries(objectBody(main.decls.find((d) => d.target === 'modules/ingestApp.bicep')?.properties.get('params')) ?? '');
  out.push({ kind: 'container', name: main.resolveString(call.get('deploymentContainerName')) });
  return out;
}

/** The permissions of a custom role of infra/modules/roleDefinitions.bicep, by role name. */
export function customRolePermissions(name: string): { actions: string[]; dataActions: string[] } {
  const text = read('infra/modules/roleDefinitions.bicep');
  const symbol = Object.values(CUSTOM_ROLES).find((c) => c.name === name)?.symbol;
  const d = bicepDeclarations(text).find((x) => x.symbol === symbol);
  if (!d) throw new Error(`no custom role ${name} in infra/modules/roleDefinitions.bicep`);
  const body = d.body.replace(/\/\/[^\n]*/g, ''); // comments quote actions too ('*/read')
  const list = (key: string) => [...(new RegExp(`(?<![A-Za-z])${key}:\\s*\\[([^\\]]*)\\]`).exec(body)?.[1] ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1]!);
  return { actions: list('actions'), dataActions: list('dataActions') };
}
