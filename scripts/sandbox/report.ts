import { basename } from 'node:path';
import type { SandboxResult } from './runSandbox.js';

/** `report.md` of a sandbox run: what happened, for a person, with the numbers that prove it. */

const cell = (s: unknown): string => String(s ?? '').replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
const table = (head: string[], rows: unknown[][]): string =>
  [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
const clip = (s: string, n = 160): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The part of an ARM id that tells resources apart: `kv-x`, `stacct/blobServices/default`, a subscription id. */
function shortId(id: string): string {
  const s = id.split('/').filter(Boolean);
  const p = s.findIndex((x) => x.toLowerCase() === 'providers');
  if (p >= 0 && s.length > p + 3) return s.slice(p + 3).join('/');
  if (s.length === 2 && s[0]!.toLowerCase() === 'subscriptions') return `subscription ${s[1]}`;
  if (s.length === 4 && s[2]!.toLowerCase() === 'resourcegroups') return `resource group ${s[3]} (subscription ${s[1]!.slice(0, 8)}…)`;
  return id;
}

export function sandboxReport(r: SandboxResult): string {
  const out: string[] = [];
  const t = r.tenant;
  const c = r.coverage.totals;
  out.push(`# Sandbox run: ${t.displayName}`, '');
  out.push(
    `This run onboarded one customer tenant from \`${basename(r.scenarioPath)}\` against a local ARM simulator and Azurite, ` +
      `reconciled its export settings until nothing was left to change, then sent ${r.telemetry.messages} Event Hub messages ` +
      `(${r.telemetry.fixtures} corpus fixtures re-stamped with the tenant's ids, plus ${r.telemetry.malformed.length} deliberately broken bodies) ` +
      `through the ingest handler. Everything below was read back from what the real code wrote (Table storage, blobs, the simulated ARM).`,
    '',
    `- Started ${r.startedAt}, took ${(r.durationMs / 1000).toFixed(1)} s.`,
    `- Result: ${r.problems.length === 0 ? '**all checks passed**' : `**${r.problems.length} check(s) failed**`}: ` +
      `${c.covered}/${c.targets} targets streaming, ${r.ingest.events} OCSF events (${r.ingest.invalidEvents.length} invalid), ${r.ingest.deadLetters} dead-lettered records.`,
    '',
  );
  if (r.problems.length > 0) out.push('## Problems', '', ...r.problems.map((p) => `- ${p}`), '');

  out.push('## Tenant', '');
  out.push(
    table(
      ['field', 'value'],
      [
        ['tenant id', `\`${t.tenantId}\``],
        ['display name', t.displayName],
        ['status', t.status],
        ['regions (up front)', t.regions.join(', ')],
        ['onboarding', `PUT /api/tenants/{id} → HTTP ${r.onboarding.longPath.accepted}, operation ${r.onboarding.longPath.operation} after ${r.onboarding.longPath.polls} poll(s); retried PUT → HTTP ${r.onboarding.status}; app settings ${r.onboarding.appSettings || 'n/a'}`],
        ['last reconcile', t.lastReconcile ? `${t.lastReconcile.result} at ${t.lastReconcile.at}` : 'never'],
      ],
    ),
    '',
  );

  out.push('## Event hubs', '', 'One hub per region the tenant has resources in: regions beyond the up-front ones were provisioned by the reconciler on demand.', '');
  out.push(table(['region', 'namespace', 'hub', 'consumer group', 'state'], r.hubs.map((h) => [h.region, h.namespace, `\`${h.hub}\``, h.consumerGroup, h.state])), '');
  if (r.appSettings) out.push(`Function App ingest settings: ${r.appSettings.status}${'bindings' in r.appSettings ? ` (${r.appSettings.bindings} binding(s))` : ''}.`, '');

  out.push('## Coverage', '');
  const states = Object.entries(c.byState).map(([k, v]) => `${k} ${v}`).join(', ');
  out.push(
    `${c.covered} of ${c.targets} export targets stream to the tenant's hubs (${states}). ` +
      (r.coverageFinal
        ? 'Every target is in a final state: streaming, or blocked for a reason the table names. (`created` stays `created` for the 90 minutes Azure may take before data flows.)'
        : '**Some targets are not in a final state** (see Problems).'),
    '',
  );
  out.push(
    table(
      ['target', 'resource', 'region', 'state', 'reason'],
      r.coverage.entries.map((e) => [e.target, shortId(e.resourceId), e.region, e.state, e.state === 'streaming' ? (e.settingName ? `ours: \`${e.settingName}\`` : 'in sync') : clip(e.detail ?? '')]),
    ),
    '',
  );
  out.push(`Reconcile runs until a run plans no write (${r.reconcile.converged ? `converged after ${r.reconcile.runs.length} run(s)` : `NOT converged after ${r.reconcile.runs.length} runs`}):`, '');
  out.push(
    table(
      ['run', 'result', 'writes planned', 'targets vouched by the activity log', 'ARM reads', 'ARM writes', '429s'],
      r.reconcile.runs.map((x) => [x.run, x.result, x.plannedWrites, x.trusted, x.arm.reads, x.arm.writes + x.arm.deletes, x.arm.status429]),
    ),
    '',
  );

  out.push('## Events per OCSF class', '');
  out.push(
    `${r.telemetry.messages} messages in ${r.telemetry.batches} batches to ${r.telemetry.hubs.length} hub(s) held ${r.ingest.records} records: ` +
      `${r.ingest.events} became OCSF 1.8 events and ${r.ingest.deadLetters} were dead-lettered ` +
      `(${r.ingest.records === r.ingest.events + r.ingest.deadLetters ? 'nothing lost: every record is either an event or a dead letter in the blobs' : `**records are missing**: the handler reported ${r.ingest.handlerEvents} events and ${r.ingest.handlerDeadLetters} dead letters`}). ` +
      `${r.ingest.invalidEvents.length === 0 ? 'Every event validates against the OCSF 1.8.0 schema.' : `**${r.ingest.invalidEvents.length} events do not validate.**`}`,
    '',
  );
  out.push(table(['class', 'class_uid', 'events'], r.ingest.eventsByClass.map((x) => [x.className, x.classUid, x.count])), '');

  out.push('## Dead letters by reason', '');
  out.push('Dead letters keep the original bytes, so `azure-mdr replay` can feed them again once the cause is fixed.', '');
  out.push(table(['reason', 'count', 'example'], r.ingest.deadLettersByReason.map((x) => [x.reason, x.count, clip(x.example)])), '');
  out.push('The broken bodies sent on purpose, and what became of them:', '');
  out.push(table(['body', 'outcome'], r.telemetry.malformedOutcomes.map((m) => [`\`${m.label.replace(/^malformed\//, '')}\``, m.outcome])), '');

  out.push('## Stream health', '');
  const h = r.health.tenants[0];
  if (!h) out.push(`Not evaluated: ${r.health.errors.map((e) => e.message).join('; ') || 'no tenant'}.`, '');
  else {
    out.push(
      `Verdict **${h.verdict}**: ${h.reason} (silence threshold ${h.thresholdMinutes} min; a dry run, so the ledger above is left as the reconciler wrote it). ` +
        'Hub runtime comes from what the sandbox enqueued. Sources are judged by event time and the corpus events keep their original timestamps, ' +
        (h.sources.some((x) => x.verdict !== 'ok')
          ? 'so a source past its start-up grace period looks silent: the check working as designed, not a sandbox fault.'
          : 'so once the 90-minute start-up grace of the new settings has passed, a later check would call these sources silent.'),
      '',
    );
    out.push(table(['hub', 'region', 'verdict', 'reason'], h.hubs.map((x) => [`${x.namespace}/${x.hub}`, x.region, x.verdict, x.reason])), '');
    if (h.sources.length > 0) out.push(table(['source', 'verdict', 'last event', 'reason'], h.sources.map((s) => [s.source, s.verdict, s.lastEventTime ?? '', clip(s.reason)])), '');
    if (r.health.ledgerChanges.length > 0) out.push(`Ledger changes health would make: ${r.health.ledgerChanges.length} (${r.health.ledgerChanges.map((x) => `${x.target} ${x.from}→${x.to}`).slice(0, 5).join(', ')}${r.health.ledgerChanges.length > 5 ? ', …' : ''}).`, '');
  }

  out.push('## Alert-state sync', '');
  const a = r.alert;
  if ('skipped' in a) out.push(`Skipped: ${a.skipped}.`, '');
  else if (a.result)
    out.push(
      `An analyst set Defender alert \`${a.alertName}\` (subscription \`${a.subscriptionId}\`, ${a.result.location}) from **${a.result.from ?? '?'}** to **${a.result.to}** ` +
        `through POST /api/tenants/{id}/alerts/{alertName}/state (HTTP ${a.status}); reading the alert back through ARM gives status **${a.confirmedStatus ?? '?'}**.`,
      '',
    );
  else out.push(`Failed: ${a.problem ?? `HTTP ${a.status}`}.`, '');

  const ed = r.eventDriven;
  out.push('## Event-driven coverage and tamper response', '');
  out.push(
    `After convergence, \`customer-admin\` created a storage account and deleted our activity-log diagnostic setting. The ` +
      `${ed.records} activity-log record(s) of those changes (Event Hub form of Microsoft's activity log schema) went through the ingest ` +
      `handler; their change signals became ${ed.workItems} targeted work item(s) on the reconcile queue (coalescing window ` +
      `${ed.delaySeconds} s, queue polling up to ${ed.maxPollingSeconds} s as host.json sets it), run by the reconcile queue handler. ` +
      `Latency is from the records' arrival at ingest to the simulator's time of our PUT. In Azure, add the activity log's own ` +
      `delivery delay before arrival: Microsoft documents 3 to 20 minutes for activity logs (Azure Monitor, "Log data ingestion time").`,
    '',
  );
  out.push(table(['change', 'arrived at ingest', 'our setting back', 'latency'], ed.changes.map((c) => [c.change, c.arrivedAt, c.coveredAt ?? 'not covered', c.latencyMs === undefined ? '—' : `${(c.latencyMs / 1000).toFixed(1)} s`])), '');
  if (ed.finding) {
    out.push(
      table(
        ['tamper finding', 'value'],
        [
          ['title', ed.finding.title],
          ['uid', `\`${ed.finding.uid}\``],
          ['caller', ed.finding.caller ?? '?'],
          ['caller IP', ed.finding.callerIp ?? '?'],
          ['OCSF 1.8 valid', ed.finding.valid ? 'yes' : `no: ${ed.finding.errors.slice(0, 2).join(', ')}`],
          ['ledger', ed.ledgerTamper ? `activity-log entry records it (${ed.ledgerTamper.operation} at ${ed.ledgerTamper.at}, repaired ${ed.ledgerTamper.repairedAt ?? '?'})` : 'not recorded'],
        ],
      ),
      '',
    );
  }
  out.push('## ARM calls made', '', 'Counted by the simulator, which enforces ARM\'s per-subscription read/write limits (429 with Retry-After when exceeded).', '');
  const rows = r.arm.byPhase.map((p) => [p.phase, p.counts.reads, p.counts.writes, p.counts.deletes, p.counts.status429]);
  rows.push(['**total**', r.arm.total.reads, r.arm.total.writes, r.arm.total.deletes, r.arm.total.status429]);
  out.push(table(['phase', 'reads', 'writes', 'deletes', '429s'], rows), '');

  out.push('## Files', '', `- \`${basename(r.files.events)}\`: one OCSF event per line`, `- \`${basename(r.files.deadLetters)}\`: one dead letter per line (a message with failed records: its original bytes and an outcome per record)`, `- \`${basename(r.files.coverage)}\`: the coverage ledger (same JSON as \`azure-mdr coverage --json\`)`, `- \`${basename(r.files.eventDriven)}\`: the event-driven step, with the tamper finding as written`, '');
  return `${out.join('\n')}\n`;
}
