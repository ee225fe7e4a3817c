import { parseArgs } from 'node:util';
import { coverageReport, formatCoverageTable } from '../../lib/reconcile/coverageReport.js';
import { requireTenantArg, type CliCommand, type CliIo } from '../types.js';
import { defaultCliDeps, type CliDepsFactory } from './reconcileDeps.js';

const usage = `usage: azure-mdr coverage --tenant <id> [--json]

Shows the coverage ledger of a tenant as the last reconcile recorded it: per export target its state
(streaming, created, repaired, slots-exhausted, no-hub-in-region, unsupported, forbidden, failed) and why, and the
last tamper with our object there (deleted or re-pointed by someone else: when, by whom, from where, finding uid).

  --tenant <id>   the tenant GUID
  --json          print JSON (the same document as GET /api/tenants/{id}/coverage)
`;


export function makeCoverageCommand(depsFactory: CliDepsFactory = defaultCliDeps): CliCommand {
  return {
    name: 'coverage',
    summary: "show a tenant's coverage ledger (what streams, and why not)",
    usage,
    async run(argv: string[], io: CliIo): Promise<number> {
      const { values } = parseArgs({ args: argv, strict: true, options: { tenant: { type: 'string' }, json: { type: 'boolean' } } });
      const tenant = requireTenantArg(values.tenant);
      const tenantId = tenant.toLowerCase();
      const { registry } = await depsFactory(io.env);
      if (!(await registry.getTenant(tenantId))) {
        io.stderr.write(`azure-mdr coverage: tenant ${tenantId} is not registered\n`);
        return 1;
      }
      const report = coverageReport(tenantId, await registry.listCoverage(tenantId));
      io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatCoverageTable(report));
      return 0;
    },
  };
}

export const coverageCommand = makeCoverageCommand();
