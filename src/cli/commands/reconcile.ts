import { parseArgs } from 'node:util';
import { formatPlan } from '../../lib/reconcile/formatPlan.js';
import { reconcileTenant } from '../../lib/reconcile/reconcileTenant.js';
import { requireTenantArg, type CliCommand, type CliIo } from '../types.js';
import { defaultCliDeps, type CliDepsFactory } from './reconcileDeps.js';

const usage = `usage: azure-mdr reconcile --tenant <id> [--dry-run] [--full] [--json]

Reconciles one tenant's exports (activity log, storage, Key Vault, Entra data export, Defender continuous export)
with the settings of this environment (same app settings as the Function App).

  --tenant <id>   the tenant GUID
  --dry-run       print the plan (create/update/delete/none/blocked per target, with reasons); write nothing.
                  A dry run reads every target.
  --full          read every target, even those the activity log shows unchanged since their last read
                  (a run otherwise trusts them until MDR_RECONCILE_RESYNC_HOURS; see docs/reconcile.md)
  --json          print the report as JSON instead of text
`;


export function makeReconcileCommand(depsFactory: CliDepsFactory = defaultCliDeps): CliCommand {
  return {
    name: 'reconcile',
    summary: "plan (--dry-run) or apply a tenant's export configuration",
    usage,
    async run(argv: string[], io: CliIo): Promise<number> {
      const { values } = parseArgs({ args: argv, strict: true, options: { tenant: { type: 'string' }, 'dry-run': { type: 'boolean' }, full: { type: 'boolean' }, json: { type: 'boolean' } } });
      const tenant = requireTenantArg(values.tenant);
      const deps = await depsFactory(io.env);
      const tty = Boolean((io.stderr as { isTTY?: boolean }).isTTY);
      const report = await reconcileTenant(tenant.toLowerCase(), deps, {
        dryRun: values['dry-run'] ?? false,
        full: values.full ?? false,
        onProgress: tty ? (p) => io.stderr.write(`\r${values['dry-run'] ? 'planning' : 'reconciling'} ${p.done}/${p.total}${p.done === p.total ? '\n' : ''}`) : undefined,
      });
      io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatPlan(report));
      return report.result === 'succeeded' ? 0 : 1;
    },
  };
}

export const reconcileCommand = makeReconcileCommand();
