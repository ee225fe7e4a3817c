import { parseArgs } from 'node:util';
import { clientFactoryOptionsFromSettings, createAzureClients, type AzureClients } from '../../lib/azure/clientFactory.js';
import { parseSettings } from '../../lib/config/settings.js';
import { alertNameProblem, parseAlertStateBody, setAlertState } from '../../lib/alerts/alertState.js';
import { ValidationError } from '../../lib/errors.js';
import { stderrLogger, type Logger } from '../../lib/log.js';
import { requireTenantArg, UsageError, type CliCommand, type CliIo } from '../types.js';

const usage = `usage: azure-mdr alert-state --tenant <id> --subscription <id> --location <loc> --alert <name>
                            --state Dismissed|Resolved|Active|InProgress [--resource-group <rg>] [--json]

Sets the state of a Defender for Cloud alert in a customer subscription through the Lighthouse delegation
(needs the Security Admin role in the offer). Same rules as POST /api/tenants/{id}/alerts/{alertName}/state.

  --tenant <id>           the customer tenant GUID (the subscription must be delegated by it)
  --subscription <id>     the subscription holding the alert
  --location <loc>        the alert's ASC location (the /locations/{loc}/alerts/ segment of its id)
  --alert <name>          the alert name (last segment of its id)
  --state <state>         Dismissed, Resolved, Active or InProgress
  --resource-group <rg>   for alerts at resource-group level
  --json                  print the result as JSON
`;


export type AlertStateDepsFactory = (env: Record<string, string | undefined>) => Promise<{ clients: AzureClients; logger: Logger }>;

export const defaultAlertStateDeps: AlertStateDepsFactory = async (env) => {
  const settings = parseSettings(env);
  // The audit line (alert.state_changed) is info: keep it on stderr.
  return { clients: createAzureClients(clientFactoryOptionsFromSettings(settings)), logger: stderrLogger('info') };
};

export function makeAlertStateCommand(depsFactory: AlertStateDepsFactory = defaultAlertStateDeps): CliCommand {
  return {
    name: 'alert-state',
    summary: 'set a Defender for Cloud alert to Dismissed, Resolved, Active or InProgress',
    usage,
    async run(argv: string[], io: CliIo): Promise<number> {
      const { values } = parseArgs({
        args: argv,
        strict: true,
        options: {
          tenant: { type: 'string' },
          subscription: { type: 'string' },
          location: { type: 'string' },
          'resource-group': { type: 'string' },
          alert: { type: 'string' },
          state: { type: 'string' },
          json: { type: 'boolean' },
        },
      });
      const tenant = requireTenantArg(values.tenant);
      const nameProblem = values.alert === undefined ? 'is required' : alertNameProblem(values.alert);
      if (nameProblem) throw new UsageError(`--alert ${nameProblem}`);
      let body;
      try {
        body = parseAlertStateBody({ state: values.state, subscriptionId: values.subscription, location: values.location, resourceGroup: values['resource-group'] });
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
        const flag: Record<string, string> = { subscriptionId: '--subscription', resourceGroup: '--resource-group', state: '--state', location: '--location' };
        throw new UsageError(e.problems.map((p) => `${flag[p.field] ?? p.field} ${p.message}`).join('; '));
      }
      const { clients, logger } = await depsFactory(io.env);
      const actor = `cli:${io.env.USER ?? io.env.USERNAME ?? 'unknown'}`;
      const result = await setAlertState({ clients, tenant: { tenantId: tenant.toLowerCase() }, alertName: values.alert!, body, actor, logger });
      io.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : `alert ${result.alertName}: ${result.from ?? '?'} -> ${result.to} (subscription ${result.subscriptionId}${result.resourceGroup ? `, resource group ${result.resourceGroup}` : ''})\n`);
      return 0;
    },
  };
}

export const alertStateCommand = makeAlertStateCommand();
