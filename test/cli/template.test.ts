import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/types.js';

function io(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIo = { stdin: [], stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) }, env };
  return { value, out: () => out.join(''), err: () => err.join('') };
}

const env = { MDR_PROVIDER_TENANT_ID: '11111111-1111-1111-1111-111111111111', MDR_INGEST_PRINCIPAL_ID: '33333333-3333-3333-3333-333333333333' };

describe('azure-mdr template', () => {
  it('prints the template as JSON from the app settings in the environment', async () => {
    const x = io(env);
    expect(await main(['template'], x.value)).toBe(0);
    const t = JSON.parse(x.out()) as { $schema: string; variables: { managedByTenantId: string } };
    expect(t.$schema).toContain('managementGroupDeploymentTemplate.json');
    expect(t.variables.managedByTenantId).toBe(env.MDR_PROVIDER_TENANT_ID);
  });

  it('lets flags override the environment and prints the commands with the management group', async () => {
    const x = io(env);
    expect(await main(['template', '--commands', '--management-group', 'contoso-root', '--provider-tenant', '44444444-4444-4444-4444-444444444444'], x.value)).toBe(0);
    expect(x.out()).toContain('az deployment mg create --management-group-id contoso-root');
    expect(x.out()).toContain("managedByTenantId=='44444444-4444-4444-4444-444444444444'");
  });

  it('writes the template to a file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mdr-tpl-')), 'onboard.json');
    const x = io(env);
    expect(await main(['template', '--out', file, '--management-group', 'mg1'], x.value)).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8')).contentVersion).toBe('1.0.0.0');
    expect(x.out()).toContain(`--template-file ${file}`);
  });

  it('quotes a file name with a space in the printed deploy command, so bash passes it as one argument', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mdr-tpl-')), 'on board.json');
    const x = io(env);
    expect(await main(['template', '--out', file, '--management-group', 'mg1'], x.value)).toBe(0);
    const deploy = x.out().split('\n').find((l) => l.startsWith('az deployment mg create'))!;
    const words = execFileSync('bash', ['-c', deploy.replace(/^az /, "printf '%s\\n' ")], { encoding: 'utf8' }).split('\n');
    expect(words[words.indexOf('--template-file') + 1]).toBe(file);
  });

  it("prints the customer's Entra diagnostic-setting commands for each --entra-workspace, and refuses an id that is not a workspace", async () => {
    const ws = '/subscriptions/55555555-5555-5555-5555-555555555555/resourceGroups/sec/providers/Microsoft.OperationalInsights/workspaces/log-entra';
    const x = io(env);
    expect(await main(['template', '--commands', '--entra-workspace', ws], x.value)).toBe(0);
    expect(x.out()).toContain('az rest --method put --url "/providers/microsoft.aadiam/diagnosticSettings/mdr-entra-log-entra?api-version=2017-04-01"');
    expect(x.out()).toContain(`"workspaceId":"${ws}"`);
    const bad = io(env);
    expect(await main(['template', '--commands', '--entra-workspace', "/subscriptions/x'; rm -rf ~; '"], bad.value)).toBe(2);
    expect(bad.err()).toMatch(/--entra-workspace expects a Log Analytics workspace ARM id/);
  });

  it('exits 2 naming the missing provider tenant', async () => {
    const x = io({ MDR_INGEST_PRINCIPAL_ID: env.MDR_INGEST_PRINCIPAL_ID });
    expect(await main(['template'], x.value)).toBe(2);
    expect(x.err()).toMatch(/--provider-tenant \(or MDR_PROVIDER_TENANT_ID\) is missing: give a GUID/);
    expect(x.err()).not.toContain('received undefined');
  });
});
