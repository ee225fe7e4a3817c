import { parseArgs } from 'node:util';
import { syncIngestAppSettings } from '../../lib/onboarding/appSettingsSync.js';
import { clientFactoryOptionsFromSettings, createAzureClients } from '../../lib/azure/clientFactory.js';
import { parseSettings } from '../../lib/config/settings.js';
import { stderrLogger } from '../../lib/log.js';
import { createRegistry } from '../../lib/registry/createRegistry.js';
import { UsageError, type CliCommand, type CliIo } from '../types.js';

type BindingsDeps = Parameters<typeof syncIngestAppSettings>[0];
const defaultDeps = async (env: Record<string, string | undefined>): Promise<BindingsDeps> => {
  const settings = parseSettings(env);
  return { settings, registry: createRegistry(settings), clients: createAzureClients(clientFactoryOptionsFromSettings(settings)), logger: stderrLogger('warn') };
};

const usage = `usage: azure-mdr bindings --app <function-app-resource-id>

Brings the Function App's ingest settings (MDR_INGEST_BINDINGS and one MDR_EHNS_<NAMESPACE>__fullyQualifiedNamespace
per pool namespace) in line with the registry, with YOUR identity (it needs Website Contributor, or the
"MDR Function App settings writer" role, on the app). This is how bindings follow new hubs when the app itself
may not write its settings (infra parameter selfUpdateBindings=false, the default; docs/security.md says why).
Writes only when something changed; writing restarts the app, which then starts one trigger per hub.

  --app <id>   /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Web/sites/<app>
               (default: MDR_FUNCTION_APP_RESOURCE_ID)
`;

export function makeBindingsCommand(depsFactory: (env: Record<string, string | undefined>) => Promise<BindingsDeps> = defaultDeps): CliCommand {
  return {
    name: 'bindings',
    summary: "update the app's ingest bindings from the registry (operator identity)",
    usage,
    async run(argv: string[], io: CliIo): Promise<number> {
      const { values } = parseArgs({ args: argv, strict: true, options: { app: { type: 'string' } } });
      const app = values.app ?? io.env.MDR_FUNCTION_APP_RESOURCE_ID;
      if (!app) throw new UsageError('--app <function-app-resource-id> is required (or set MDR_FUNCTION_APP_RESOURCE_ID)');
      const deps = await depsFactory({ ...io.env, MDR_FUNCTION_APP_RESOURCE_ID: app });
      const r = await syncIngestAppSettings(deps);
      if (r.status === 'skipped') {
        io.stderr.write(`azure-mdr bindings: ${r.reason}\n`);
        return 1;
      }
      io.stdout.write(r.status === 'unchanged' ? `unchanged: ${r.bindings} binding(s)\n` : `updated: ${r.bindings} binding(s); added ${r.added.join(', ') || '-'}; changed ${r.changed.join(', ') || '-'}; removed ${r.removed.join(', ') || '-'}\n`);
      return 0;
    },
  };
}

export const bindingsCommand = makeBindingsCommand();
