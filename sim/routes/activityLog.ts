import { randomUUID } from 'node:crypto';
import type { Router } from '../http.js';
import { badRequest, paged, withFlatErrors } from '../http.js';

/**
 * The subscription activity log (Administrative events) as ARM keeps it: every successful write, delete or
 * action under a subscription leaves one event, which `ActivityLogs_List` returns for a time window and,
 * optionally, one resource provider — the `$filter` patterns azure-facts / the REST docs allow, nothing else.
 */
export interface SimActivityEvent {
  eventDataId: string;
  correlationId: string;
  /** ms since epoch, the simulator's clock (ARM's eventTimestamp). */
  at: number;
  subscriptionId: string;
  /** As the request addressed it (ARM keeps the caller's casing; consumers compare case-insensitively). */
  resourceId: string;
  /** e.g. `Microsoft.Insights/diagnosticSettings/delete`, `Microsoft.Storage/storageAccounts/listKeys/action`. */
  operationName: string;
  resourceProviderName: string;
  caller: string;
}

/**
 * What ARM logs for a request: operation `<namespace>/<type>[/<type>…]/{write|delete|<action>/action}` of the
 * last provider segment of the path (diagnostic settings on a storage service are `Microsoft.Insights/…`).
 */
export function activityOf(method: string, path: string): { resourceId: string; operationName: string; resourceProviderName: string } | undefined {
  const segs = path.replace(/\/+$/, '').split('/').slice(1);
  const p = segs.map((s) => s.toLowerCase()).lastIndexOf('providers');
  let namespace: string;
  let rest: string[];
  if (p >= 0 && segs[p + 1]) {
    namespace = segs[p + 1]!;
    rest = segs.slice(p + 2);
  } else {
    // /subscriptions/{id}/resourceGroups/{rg}: ARM names it Microsoft.Resources/subscriptions/resourceGroups.
    namespace = 'Microsoft.Resources';
    rest = segs;
  }
  const action = method === 'POST' && rest.length % 2 === 1 ? rest.at(-1) : undefined;
  const typed = action ? rest.slice(0, -1) : rest;
  const types = typed.filter((_, i) => i % 2 === 0);
  const verb = action ? `${action}/action` : method === 'DELETE' ? 'delete' : method === 'PUT' || method === 'PATCH' ? 'write' : undefined;
  if (!verb || types.length === 0) return undefined;
  const resourceId = action ? path.slice(0, path.length - action.length - 1) : path;
  return { resourceId, operationName: `${namespace}/${types.join('/')}/${verb}`, resourceProviderName: namespace };
}

export function newActivityEvent(subscriptionId: string, caller: string, at: number, a: NonNullable<ReturnType<typeof activityOf>>): SimActivityEvent {
  return { eventDataId: randomUUID(), correlationId: randomUUID(), at, subscriptionId, caller, ...a };
}

const loc = (value: string) => ({ value, localizedValue: value });

function wireEvent(e: SimActivityEvent): Record<string, unknown> {
  const time = new Date(e.at).toISOString();
  return {
    authorization: { action: e.operationName, scope: e.resourceId },
    caller: e.caller,
    correlationId: e.correlationId,
    eventDataId: e.eventDataId,
    id: `${e.resourceId}/events/${e.eventDataId}/ticks/${e.at * 10_000}`,
    eventName: loc('EndRequest'),
    category: loc('Administrative'),
    level: 'Informational',
    resourceId: e.resourceId,
    resourceProviderName: loc(e.resourceProviderName),
    operationId: e.correlationId,
    operationName: loc(e.operationName),
    status: loc('Succeeded'),
    subStatus: loc(''),
    eventTimestamp: time,
    submissionTimestamp: time,
    subscriptionId: e.subscriptionId,
  };
}

const FILTER_CLAUSE = /^\s*(eventTimestamp|resourceProvider|resourceGroupName|resourceUri|correlationId)\s+(ge|le|eq)\s+'([^']*)'\s*$/i;
const NINETY_DAYS_MS = 90 * 86_400_000;

export function registerActivityLog(r: Router): void {
  // 2015-04-01 answers errors as a flat {code, message} (activityLogs_API.json ErrorResponse).
  r.on('GET', '/subscriptions/{sub}/providers/Microsoft.Insights/eventtypes/management/values', withFlatErrors((ctx) => {
    const filter = ctx.query.get('$filter') ?? '';
    let from: number | undefined;
    let to = ctx.state.clock();
    let provider: string | undefined;
    for (const clause of filter.split(/\s+and\s+/i)) {
      const m = FILTER_CLAUSE.exec(clause);
      if (!m) return badRequest('BadRequest', `The $filter '${filter}' is not supported: only eventTimestamp ge/le plus one of resourceProvider, resourceGroupName, resourceUri or correlationId eq.`);
      const [, field, op, value] = m as unknown as [string, string, string, string];
      const f = field.toLowerCase();
      if (f === 'eventtimestamp') {
        const t = Date.parse(value);
        if (Number.isNaN(t)) return badRequest('BadRequest', `'${value}' is not a valid eventTimestamp.`);
        if (op.toLowerCase() === 'ge') from = t;
        else if (op.toLowerCase() === 'le') to = t;
      } else if (f === 'resourceprovider') provider = value.toLowerCase();
      else return badRequest('BadRequest', `The simulator does not implement the ${field} filter.`);
    }
    if (from === undefined) return badRequest('BadRequest', "The $filter must contain a start time: eventTimestamp ge '<time>'.");
    if (to - from > NINETY_DAYS_MS) return badRequest('BadRequest', 'The time range of the query cannot exceed 90 days.');
    const events = ctx.state
      .activityOfSubscription(ctx.params.sub ?? '')
      .filter((e) => e.at >= from! && e.at <= to && (!provider || e.resourceProviderName.toLowerCase() === provider))
      // Newest first, as the service returns them. Events are recorded in order, so reversing before the (stable) sort
      // keeps events of the same millisecond newest first too; sorting alone left those oldest first.
      .reverse()
      .sort((a, b) => b.at - a.at)
      .map(wireEvent);
    const select = ctx.query.get('$select');
    const fields = select ? new Set(select.split(',').map((s) => s.trim())) : undefined;
    return paged(ctx, fields ? events.map((e) => Object.fromEntries(Object.entries(e).filter(([k]) => fields.has(k)))) : events);
  }));
}
