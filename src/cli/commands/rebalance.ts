import { parseArgs } from 'node:util';
import { clientFactoryOptionsFromSettings, createAzureClients } from '../../lib/azure/clientFactory.js';
import { parseSettings } from '../../lib/config/settings.js';
import { CHECKPOINT_CONTAINER } from '../../lib/fleet/checkpoints.js';
import { rebalanceIngest, type RebalanceDeps, type RebalanceRequest, type RebalanceResult } from '../../lib/fleet/rebalance.js';
import { stderrLogger } from '../../lib/log.js';
import { createRegistry } from '../../lib/registry/createRegistry.js';
import { blobServiceClientFor, storageTarget } from '../../lib/storage/storageClients.js';
import { UsageError, type CliCommand, type CliIo } from '../types.js';
import { LOWERCASE_GUID_PATTERN } from '../../lib/guid.js';

export type RebalanceDepsFactory = (env: Record<string, string | undefined>) => Promise<RebalanceDeps>;

const defaultDeps: RebalanceDepsFactory = async (env) => {
  const settings = parseSettings(env);
  const blobs = await blobServiceClientFor(storageTarget(settings));
  return {
    settings,
    registry: createRegistry(settings),
    clients: createAzureClients(clientFactoryOptionsFromSettings(settings)),
    checkpoints: blobs.getContainerClient(CHECKPOINT_CONTAINER),
    logger: stderrLogger('warn'),
  };
};

const usage = `usage: azure-mdr rebalance (--move <tenantId>/<region> --to <app> | --drain <app> | --even) [--dry-run] [--json]

Moves tenant hubs between ingest apps, make-before-break: the new owners' settings are written first (for a
moment both apps read the hub and share its partitions and checkpoints), then the old owners'. Each affected app
restarts once. Nothing is lost: the new owner resumes from the old owner's checkpoints (same storage account,
same consumer group); at most the events after a partition's last checkpoint are read twice, with the same event
uids. Runs with YOUR identity (settings writer on the ingest apps, Table Data Contributor on the registry; Blob
Data Reader on the azure-webjobs-eventhub container to report checkpoints). See docs/fleet.md.

  --move <t>/<r>  move the hub of tenant <t> in region <r> ...
  --to <app>      ... to this ingest app (site name)
  --drain <app>   move every hub off this app (an app leaving the fleet: remove it from ingestAppCount after)
  --even          spread hubs evenly over the active apps, none over MDR_INGEST_APP_MAX_HUBS
  --dry-run       print the moves without making them
  --json          print the result as JSON
`;

const APP = /^[a-z0-9][a-z0-9-]{0,58}[a-z0-9]$/;

export function formatRebalance(r: RebalanceResult): string {
  const out: string[] = [];
  out.push(r.moves.length === 0 ? 'nothing to move' : `${r.dryRun ? 'would move' : 'moved'} ${r.moves.length} hub(s):`);
  for (const m of r.moves) out.push(`  ${m.tenantId}/${m.region}: ${m.from} -> ${m.to}`);
  for (const u of r.unplaced) out.push(`  ! ${u}: no active app has room (add ingest apps, docs/fleet.md#adding-capacity)`);
  for (const s of r.synced) out.push(`  settings ${s.app}: ${s.status}, ${s.bindings} binding(s), ${s.bytes} bytes`);
  for (const c of r.checkpoints) {
    const fmt = (cs: typeof c.before) => (cs.length === 0 ? 'none yet' : cs.map((p) => `${p.partitionId}@${p.sequenceNumber ?? '?'}`).join(' '));
    out.push(c.unreadable ? `  checkpoints ${c.hub}: not all readable (${c.unreadable}); the move does not depend on them${c.after.length > 0 ? `; after ${fmt(c.after)}` : ''}` : `  checkpoints ${c.hub}: before ${fmt(c.before)}; after ${fmt(c.after)}`);
  }
  return `${out.join('\n')}\n`;
}

export function makeRebalanceCommand(depsFactory: RebalanceDepsFactory = defaultDeps): CliCommand {
  return {
    name: 'rebalance',
    summary: 'move tenant hubs between ingest apps without losing events',
    usage,
    async run(argv: string[], io: CliIo): Promise<number> {
      const { values } = parseArgs({
        args: argv,
        strict: true,
        options: { move: { type: 'string' }, to: { type: 'string' }, drain: { type: 'string' }, even: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
      });
      const chosen = [values.move !== undefined, values.drain !== undefined, values.even === true].filter(Boolean).length;
      if (chosen !== 1) throw new UsageError('give exactly one of --move <tenantId>/<region> --to <app>, --drain <app> or --even');
      let req: RebalanceRequest;
      if (values.move !== undefined) {
        const [tenantId = '', region = '', ...rest] = values.move.toLowerCase().split('/');
        if (!LOWERCASE_GUID_PATTERN.test(tenantId) || !/^[a-z0-9]{2,40}$/.test(region) || rest.length > 0) throw new UsageError('--move expects <tenantId>/<region>, e.g. 3e8a9c21-6d4b-4f70-b2e5-a1c9d8f07b35/westeurope');
        if (!values.to || !APP.test(values.to.toLowerCase())) throw new UsageError('--move needs --to <ingest app name>');
        req = { kind: 'move', tenantId, region, to: values.to.toLowerCase() };
      } else if (values.drain !== undefined) {
        if (!APP.test(values.drain.toLowerCase())) throw new UsageError('--drain expects an ingest app (site) name');
        req = { kind: 'drain', app: values.drain.toLowerCase() };
      } else req = { kind: 'even' };
      if (values.to !== undefined && values.move === undefined) throw new UsageError('--to goes with --move');
      const deps = await depsFactory(io.env);
      const r = await rebalanceIngest(deps, req, { dryRun: values['dry-run'] === true });
      io.stdout.write(values.json ? `${JSON.stringify(r, null, 2)}\n` : formatRebalance(r));
      return r.unplaced.length === 0 ? 0 : 1;
    },
  };
}

export const rebalanceCommand = makeRebalanceCommand();
