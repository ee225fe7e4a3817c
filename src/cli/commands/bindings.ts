import { parseArgs } from 'node:util';
import { syncIngestAppSettings, type AppSettingsSyncResult } from '../../lib/onboarding/appSettingsSync.js';
import { clientFactoryOptionsFromSettings, createAzureClients } from '../../lib/azure/clientFactory.js';
import { parseSettings } from '../../lib/config/settings.js';
import { appNameOf } from '../../lib/azure/siteId.js';
import { stderrLogger } from '../../lib/log.js';
import { createRegistry } from '../../lib/registry/createRegistry.js';
import { UsageError, type CliCommand, type CliIo } from '../types.js';

type BindingsDeps = Parameters<typeof syncIngestAppSettings>[0];
const defaultDeps = async (env: Record<string, string | undefined>): Promise<BindingsDeps> => {
  const settings = parseSettings(env);
  return { settings, registry: createRegistry(settings), clients: createAzureClients(clientFactoryOptionsFromSettings(settings)), logger: stderrLogger('warn') };
};

const usage = `usage: azure-mdr bindings [--app <ingest-app-resource-id>]...

Brings the ingest apps' settings (MDR_INGEST_BINDINGS and one MDR_EHNS_<NAMESPACE>__fullyQualifiedNamespace per
pool namespace) in line with the registry, with YOUR identity (it needs the "MDR Function App settings writer"
role, or Website Contributor, on each ingest app). Each app gets the hubs the registry assigns to it; ready hubs no
app holds are assigned first. Writes an app only when its settings changed: writing restarts that app alone.
This is how bindings follow new hubs when the control plane does not write them itself
(MDR_INGEST_SETTINGS_SYNC=manual, infra parameter autoUpdateIngestBindings=false; docs/fleet.md).

The fleet is MDR_INGEST_APPS (or MDR_FUNCTION_APP_RESOURCE_ID for a single app running everything).

  --app <id>   only this ingest app (repeatable); when no fleet is configured, these apps are the fleet;
               an app outside a configured fleet is refused (exit 2)
               /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Web/sites/<app>
`;

export function formatSync(r: AppSettingsSyncResult): string {
  if (r.status === 'skipped') return `skipped: ${r.reason}\n`;
  const lines = r.apps.map((a) =>
    a.status === 'unchanged'
      ? `${a.app}: unchanged, ${a.bindings} binding(s), ${a.bytes} bytes`
      : `${a.app}: updated, ${a.bindings} binding(s), ${a.bytes} bytes; added ${a.added.join(', ') || '-'}; changed ${a.changed.join(', ') || '-'}; removed ${a.removed.join(', ') || '-'}`,
  );
  if (r.unassigned > 0) lines.push(`${r.unassigned} ready hub(s) have no ingest app: every app is full (docs/fleet.md#adding-capacity)`);
  return `${lines.join('\n')}\n`;
}

export function makeBindingsCommand(depsFactory: (env: Record<string, string | undefined>) => Promise<BindingsDeps> = defaultDeps): CliCommand {
  return {
    name: 'bindings',
    summary: "write the ingest apps' bindings from the registry (operator identity)",
    usage,
    async run(argv: string[], io: CliIo): Promise<number> {
      const { values } = parseArgs({ args: argv, strict: true, options: { app: { type: 'string', multiple: true } } });
      const apps = values.app ?? [];
      for (const a of apps) {
        try {
          appNameOf(a);
        } catch {
          throw new UsageError(`--app expects a Function App resource id, got ${JSON.stringify(a)}`);
        }
      }
      const env = { ...io.env };
      // Without a configured fleet (a single app), the apps named are the fleet.
      if (apps.length > 0 && !env.MDR_INGEST_APPS?.trim() && !env.MDR_FUNCTION_APP_RESOURCE_ID?.trim()) env.MDR_INGEST_APPS = apps.join(',');
      const deps = await depsFactory(env);
      // An app outside the fleet would be skipped without a word (a typo must not look like success).
      const fleet = new Set(deps.settings.fleet.ingestApps.map((id) => appNameOf(id).toLowerCase()));
      const outside = apps.filter((a) => !fleet.has(appNameOf(a).toLowerCase()));
      if (fleet.size > 0 && outside.length > 0) throw new UsageError(`--app ${outside.join(', ')} is not in the ingest fleet (MDR_INGEST_APPS or MDR_FUNCTION_APP_RESOURCE_ID): ${[...fleet].join(', ')}`);
      const r = await syncIngestAppSettings(deps, { operator: true, ...(apps.length > 0 ? { apps: apps.map(appNameOf) } : {}) });
      if (r.status === 'skipped') {
        io.stderr.write(`azure-mdr bindings: ${r.reason}\n`);
        return 1;
      }
      io.stdout.write(formatSync(r));
      return r.unassigned > 0 ? 1 : 0;
    },
  };
}

export const bindingsCommand = makeBindingsCommand();
