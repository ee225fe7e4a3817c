import { parseArgs } from 'node:util';
import { parseSettings } from '../../lib/config/settings.js';
import { formatHealth } from '../../lib/health/formatHealth.js';
import { createEventHubsPartitionInfo } from '../../lib/health/eventHubsPartitionInfo.js';
import { runHealthCheck, type HealthDeps } from '../../lib/health/runHealthCheck.js';
import { stderrLogger } from '../../lib/log.js';
import { createRegistry } from '../../lib/registry/createRegistry.js';
import { UsageError, type CliCommand, type CliIo } from '../types.js';
import { GUID_PATTERN } from '../../lib/guid.js';

const usage = `usage: azure-mdr health [--tenant <id>] [--json] [--record]

Stream health: per tenant hub, the partitions' last enqueued time; per expected source (from the coverage
ledger) when ingest last saw it. A source quiet for longer than MDR_SILENCE_THRESHOLD_MINUTES (new settings get
at least 90 min) is silent. Without --tenant it also reports the ingest fleet: hub slots used per ingest app,
FULL when no app has room (onboarding then answers 503 capacity), hubs no app reads. Exit code 1 when a tenant
could not be evaluated, the fleet is full or a hub is unread. Uses the app settings of this environment and the
identity of the caller.

  --tenant <id>   only this tenant (default: every registered tenant)
  --json          print the report as JSON
  --record        also write silent/streaming into the coverage ledger, as the health timer does
`;


export type HealthDepsFactory = (env: Record<string, string | undefined>) => Promise<HealthDeps>;

export const defaultHealthDeps: HealthDepsFactory = async (env) => {
  const settings = parseSettings(env);
  return {
    settings,
    registry: createRegistry(settings),
    partitionInfo: createEventHubsPartitionInfo({ authorityHost: settings.cloud.authorityHost, managedIdentityClientId: settings.managedIdentityClientId }),
    logger: stderrLogger('error'),
  };
};

export function makeHealthCommand(depsFactory: HealthDepsFactory = defaultHealthDeps): CliCommand {
  return {
    name: 'health',
    summary: 'stream health per tenant: silent hubs and sources',
    usage,
    async run(argv: string[], io: CliIo): Promise<number> {
      const { values } = parseArgs({ args: argv, strict: true, options: { tenant: { type: 'string' }, json: { type: 'boolean' }, record: { type: 'boolean' } } });
      if (values.tenant !== undefined && !GUID_PATTERN.test(values.tenant)) throw new UsageError('--tenant must be a tenant GUID');
      const deps = await depsFactory(io.env);
      try {
        const report = await runHealthCheck(deps, { tenantId: values.tenant?.toLowerCase(), dryRun: !values.record });
        io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatHealth(report));
        // A full fleet or hubs nobody reads need an operator as much as a tenant that could not be evaluated.
        return report.errors.length === 0 && !report.fleet?.full && (report.fleet?.unassigned.length ?? 0) === 0 ? 0 : 1;
      } finally {
        await deps.partitionInfo.close?.();
      }
    },
  };
}

export const healthCommand = makeHealthCommand();
