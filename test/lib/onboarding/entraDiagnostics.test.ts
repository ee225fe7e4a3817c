import { afterAll, describe, expect, it } from 'vitest';
import { parseSettings } from '../../../src/lib/config/settings.js';
import { onboardingTemplate } from '../../../src/lib/onboarding/onboardingTemplate.js';
import { ENTRA_LOGS, ENTRA_TABLES } from '../../../src/lib/reconcile/entraLogs.js';
import { FakeAzCli } from '../../support/fakeAzCli.js';

// The customer's Entra ID step, run as the customer would: the printed command text, by the real bash, with the
// fake `az` (test/support/fakeAz.cjs) first on PATH. The fake takes `az rest` only for the tenant-level
// microsoft.aadiam/diagnosticSettings API at 2017-04-01, only a workspace that exists, and only the categories a
// tenant offers (as Microsoft's Zero Trust Assessment lists them); it refuses anything else, which fails the test.
const settings = parseSettings({
  MDR_PROVIDER_TENANT_ID: '11111111-1111-1111-1111-111111111111',
  MDR_PROVIDER_SUBSCRIPTION_ID: '22222222-2222-2222-2222-222222222222',
  MDR_INGEST_PRINCIPAL_ID: '33333333-3333-3333-3333-333333333333',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
});
const ws = (sub: string, name: string) => `/subscriptions/${sub}/resourceGroups/rg-sec.(eu)/providers/Microsoft.OperationalInsights/workspaces/${name}`;
const WS1 = ws('44444444-4444-4444-4444-444444444444', 'log-sentinel');
const WS2 = ws('55555555-5555-5555-5555-555555555555', 'log-identity');
const SLOW = { timeout: 120_000 };
const clis: FakeAzCli[] = [];
afterAll(() => clis.forEach((c) => c.dispose()));
const customer = () => {
  const cli = new FakeAzCli({ managementGroup: 'contoso-root', entities: [], workspaces: [WS1, WS2] });
  clis.push(cli);
  return cli;
};

describe("the customer's Entra ID diagnostic-settings step, run by bash", () => {
  it('sends every Entra category whose table our export takes to each configured workspace', SLOW, async () => {
    const m = onboardingTemplate(settings, 'contoso-root', [WS1, WS2]).entraDiagnostics;
    const cli = customer();
    const run = await cli.bash(m.commands.join('\n'));
    const s = cli.state();
    expect(s.errors).toEqual([]);
    expect(run.status).toBe(0);
    const byWorkspace = Object.values(s.entraDiagnosticSettings);
    expect(byWorkspace.map((x) => x.workspaceId).sort()).toEqual([WS1, WS2].sort());
    for (const x of byWorkspace) {
      expect(x.logs.every((l) => l.enabled)).toBe(true);
      // The categories fill exactly the tables the export rule takes (reconcile/entraLogs.ts), risk events and AD FS included.
      const tables = x.logs.map((l) => ENTRA_LOGS.find((e) => e.category === l.category)?.table);
      expect([...tables].sort()).toEqual([...ENTRA_TABLES].sort());
      expect(x.logs.map((l) => l.category)).toEqual(expect.arrayContaining(['SignInLogs', 'AuditLogs', 'UserRiskEvents', 'ServicePrincipalRiskEvents', 'ADFSSignInLogs']));
    }
    // Tenant-level API at 2017-04-01, by path: the cloud's own ARM endpoint is prefixed by az.
    const urls = s.calls.map((c) => c.args[c.args.indexOf('--url') + 1]);
    expect(urls.every((u) => u?.startsWith('/providers/microsoft.aadiam/diagnosticSettings') && u.endsWith('?api-version=2017-04-01'))).toBe(true);
  });

  it('updates the same settings when run again instead of adding one more per workspace', SLOW, async () => {
    const m = onboardingTemplate(settings, 'contoso-root', [WS1]).entraDiagnostics;
    const cli = customer();
    await cli.bash(m.commands.join('\n'));
    await cli.bash(m.commands.join('\n'));
    expect(Object.keys(cli.state().entraDiagnosticSettings)).toHaveLength(1);
    // The first command lists what the tenant already has, so a customer sees a setting that would double the rows.
    const listed = await cli.bash(m.commands[0]!);
    expect(JSON.parse(listed.stdout)).toEqual([{ name: `${settings.prefix}-entra-log-sentinel`, workspace: WS1, categories: ENTRA_LOGS.map((l) => l.category) }]);
  });

  it('names a placeholder workspace until the tenant record names one, and says who runs it', () => {
    const m = onboardingTemplate(settings, 'contoso-root').entraDiagnostics;
    expect(m.commands.at(-1)).toContain('"workspaceId":"<log-analytics-workspace-resource-id>"');
    expect(m.note).toMatch(/Security Administrator/);
  });
});
