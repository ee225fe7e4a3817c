import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_CONTAINER } from '../../src/lib/fleet/checkpoints.js';
import { bicepDeclarations, bicepParams, objectBody, objectEntries } from '../support/bicep.js';
import { bicepGrants, grantText, mainBicep } from '../support/bicepGrants.js';

// docs/security.md §2.3 (control app) and §2.4 (ingest apps) must list exactly the roles infra/ gives each identity,
// at the same scopes.
const root = path.resolve(import.meta.dirname, '../..');
const read = (rel: string) => readFileSync(path.join(root, rel), 'utf8');
const unquote = (v: string | undefined) => v?.trim().replace(/^'(.*)'$/s, '$1');

const { text: main, vars: mainVars } = mainBicep();
const mainParams = bicepParams(main);

/** "<role> @ <scope>" for every role assignment in infra/, by the identity that receives it. */
function grantsByIdentity(): { control: string[]; ingest: string[] } {
  const all = bicepGrants();
  const of = (who: 'control' | 'ingest') => all.filter((g) => g.identity === who).map(grantText).sort();
  return { control: of('control'), ingest: of('ingest') };
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
  const grants = grantsByIdentity();

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
