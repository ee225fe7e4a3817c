import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { envSchema } from '../../lib/config/settings.js';
import { onboardingTemplate, shellWord } from '../../lib/onboarding/onboardingTemplate.js';
import { WORKSPACE_ID } from '../../lib/onboarding/tenantRequest.js';
import { UsageError, type CliCommand, type CliIo } from '../types.js';

const usage = `usage: azure-mdr template [--management-group ID] [--out FILE] [--commands] [--entra-workspace ID]...
                         [--provider-tenant GUID] [--principal-id GUID] [--principal-name NAME]
                         [--offer-name NAME] [--automation-rg NAME] [--prefix PREFIX]

Prints the customer onboarding template (ARM JSON, management-group scope): the Lighthouse delegation and the
automation resource group, each kept in every subscription by a DeployIfNotExists policy.

  --management-group ID  the customer's management group (fills the az commands; default: a placeholder)
  --out FILE             write the template to FILE and print the az commands
  --commands             print only the az commands (deployment, remediation, Entra ID logs, delegation removal)
  --entra-workspace ID   a Log Analytics workspace (ARM id) to receive the tenant's Entra ID logs; repeatable
                         (fills the customer's Entra diagnostic-setting commands; default: a placeholder)
  Provider values come from the app settings in the environment (MDR_PROVIDER_TENANT_ID, MDR_INGEST_PRINCIPAL_ID,
  MDR_INGEST_PRINCIPAL_DISPLAY_NAME, MDR_OFFER_NAME, MDR_AUTOMATION_RESOURCE_GROUP, MDR_RESOURCE_PREFIX);
  the flags override them.
`;

const pickSchema = envSchema.pick({
  MDR_PROVIDER_TENANT_ID: true,
  MDR_INGEST_PRINCIPAL_ID: true,
  MDR_INGEST_PRINCIPAL_DISPLAY_NAME: true,
  MDR_OFFER_NAME: true,
  MDR_AUTOMATION_RESOURCE_GROUP: true,
  MDR_RESOURCE_PREFIX: true,
});

export const templateCommand: CliCommand = {
  name: 'template',
  summary: 'print the customer onboarding template (management-group ARM JSON) and its az commands',
  usage,
  async run(argv: string[], io: CliIo): Promise<number> {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        'management-group': { type: 'string' },
        out: { type: 'string' },
        commands: { type: 'boolean' },
        'provider-tenant': { type: 'string' },
        'principal-id': { type: 'string' },
        'principal-name': { type: 'string' },
        'offer-name': { type: 'string' },
        'automation-rg': { type: 'string' },
        prefix: { type: 'string' },
        'entra-workspace': { type: 'string', multiple: true },
      },
    });
    const raw: Record<string, string | undefined> = {
      MDR_PROVIDER_TENANT_ID: values['provider-tenant'] ?? io.env.MDR_PROVIDER_TENANT_ID,
      MDR_INGEST_PRINCIPAL_ID: values['principal-id'] ?? io.env.MDR_INGEST_PRINCIPAL_ID,
      MDR_INGEST_PRINCIPAL_DISPLAY_NAME: values['principal-name'] ?? io.env.MDR_INGEST_PRINCIPAL_DISPLAY_NAME,
      MDR_OFFER_NAME: values['offer-name'] ?? io.env.MDR_OFFER_NAME,
      MDR_AUTOMATION_RESOURCE_GROUP: values['automation-rg'] ?? io.env.MDR_AUTOMATION_RESOURCE_GROUP,
      MDR_RESOURCE_PREFIX: values.prefix ?? io.env.MDR_RESOURCE_PREFIX,
    };
    for (const k of Object.keys(raw)) if (!raw[k]?.trim()) delete raw[k];
    const parsed = pickSchema.safeParse(raw);
    if (!parsed.success) {
      const flag: Record<string, string> = { MDR_PROVIDER_TENANT_ID: '--provider-tenant', MDR_INGEST_PRINCIPAL_ID: '--principal-id', MDR_INGEST_PRINCIPAL_DISPLAY_NAME: '--principal-name', MDR_OFFER_NAME: '--offer-name', MDR_AUTOMATION_RESOURCE_GROUP: '--automation-rg', MDR_RESOURCE_PREFIX: '--prefix' };
      const msgs = parsed.error.issues.map((i) => {
        const k = String(i.path[0]);
        // A missing value needs no schema wording ("expected string, received undefined"): say what to give.
        if (raw[k] === undefined) return `${flag[k] ?? k} (or ${k}) is missing: ${k.endsWith('_ID') ? 'give a GUID' : 'give a value'}`;
        return `${flag[k] ?? k} (or ${k}) is invalid: ${i.message}`;
      });
      throw new UsageError(msgs.join('; '));
    }
    const mg = values['management-group'];
    if (mg !== undefined && !/^[-\w.()]{1,90}$/.test(mg)) throw new UsageError('--management-group expects a management group id (1-90 letters, digits, - _ . ( ))');
    const workspaces = values['entra-workspace'] ?? [];
    for (const w of workspaces)
      if (!WORKSPACE_ID.test(w))
        throw new UsageError(`--entra-workspace expects a Log Analytics workspace ARM id (/subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.OperationalInsights/workspaces/<name>), got ${w}`);
    const e = parsed.data;
    const m = onboardingTemplate(
      {
        prefix: e.MDR_RESOURCE_PREFIX,
        provider: { tenantId: e.MDR_PROVIDER_TENANT_ID, ingestPrincipalId: e.MDR_INGEST_PRINCIPAL_ID, ingestPrincipalDisplayName: e.MDR_INGEST_PRINCIPAL_DISPLAY_NAME, offerName: e.MDR_OFFER_NAME, automationResourceGroup: e.MDR_AUTOMATION_RESOURCE_GROUP },
      },
      mg,
      workspaces,
    );
    const json = `${JSON.stringify(m.template, null, 2)}\n`;
    const commandText = [
      '# deploy (management-group scope), then remediate existing subscriptions',
      ...m.commands,
      '',
      `# Entra ID logs to the workspace (tenant-level; ${m.entraDiagnostics.note})`,
      ...m.entraDiagnostics.commands,
      '',
      '# later, to remove the delegation',
      ...m.removal,
      '',
    ].join('\n');
    const outFile = values.out;
    if (outFile) {
      await writeFile(outFile, json);
      io.stderr.write(`wrote ${outFile}\n`);
      // A replacer function: `$&` or `$$` in a file name is text, not a replacement pattern.
      io.stdout.write(commandText.replaceAll(`${e.MDR_RESOURCE_PREFIX}-onboarding.json`, () => shellWord(outFile)));
    } else if (values.commands) {
      io.stdout.write(commandText);
    } else {
      io.stdout.write(json);
    }
    return 0;
  },
};
