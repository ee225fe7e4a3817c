import type { Handler, Reply, RouteContext, Router } from '../http.js';
import { badRequest, notFound, objectBody, propsOf, withFlatErrors } from '../http.js';
import type { SimState } from '../state.js';

interface Categories {
  logs: string[];
  groups: string[];
  metrics: string[];
}
const STORAGE_SERVICE: Categories = { logs: ['StorageRead', 'StorageWrite', 'StorageDelete'], groups: ['allLogs', 'audit'], metrics: ['Transaction'] };
const CATEGORIES: Record<string, Categories> = {
  subscription: { logs: ['Administrative', 'Security', 'ServiceHealth', 'Alert', 'Recommendation', 'Policy', 'Autoscale', 'ResourceHealth'], groups: ['allLogs'], metrics: [] },
  'microsoft.keyvault/vaults': { logs: ['AuditEvent', 'AzurePolicyEvaluationDetails'], groups: ['allLogs', 'audit'], metrics: ['AllMetrics'] },
  'microsoft.storage/storageaccounts': { logs: [], groups: [], metrics: ['Transaction', 'Capacity'] },
  'microsoft.storage/storageaccounts/blobservices': STORAGE_SERVICE,
  'microsoft.storage/storageaccounts/queueservices': STORAGE_SERVICE,
  'microsoft.storage/storageaccounts/tableservices': STORAGE_SERVICE,
  'microsoft.storage/storageaccounts/fileservices': STORAGE_SERVICE,
  'microsoft.operationalinsights/workspaces': { logs: ['Audit', 'SummaryLogs'], groups: ['allLogs', 'audit'], metrics: ['AllMetrics'] },
  'microsoft.eventhub/namespaces': { logs: ['ArchiveLogs', 'OperationalLogs', 'AutoScaleLogs', 'KafkaCoordinatorLogs', 'RuntimeAuditLogs'], groups: ['allLogs', 'audit'], metrics: ['AllMetrics'] },
};
const DEFAULT_CATEGORIES: Categories = { logs: [], groups: ['allLogs', 'audit'], metrics: ['AllMetrics'] };
export const MAX_SETTINGS_PER_RESOURCE = 5;

interface Target {
  id: string; // canonical
  /** undefined = global (subscription scope), so any Event Hubs region is accepted. */
  location: string | undefined;
  categories: Categories;
}

const normRegion = (r: string) => r.toLowerCase().replace(/\s+/g, '');

function resolveTarget(st: SimState, target: string): Target | undefined {
  const sub = /^\/subscriptions\/([^/]+)$/i.exec(target);
  if (sub) {
    const s = st.subscription(sub[1] ?? '');
    return s ? { id: `/subscriptions/${s.subscriptionId}`, location: undefined, categories: CATEGORIES.subscription ?? DEFAULT_CATEGORIES } : undefined;
  }
  const r = st.get(target);
  if (!r || r.type === 'Microsoft.Resources/resourceGroups') return undefined;
  return { id: r.id, location: r.location, categories: CATEGORIES[r.type.toLowerCase()] ?? DEFAULT_CATEGORIES };
}

const RULE_RE = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.EventHub\/namespaces\/[^/]+\/authorizationRules\/[^/]+$/i;

function validate(st: SimState, t: Target, p: Record<string, unknown>): Reply | undefined {
  const ehRule = p.eventHubAuthorizationRuleId;
  if (![p.workspaceId, p.storageAccountId, ehRule, p.marketplacePartnerId, p.serviceBusRuleId].some((v) => typeof v === 'string' && v !== ''))
    return badRequest('BadRequest', 'At least one destination (workspaceId, storageAccountId, eventHubAuthorizationRuleId, marketplacePartnerId) must be specified.');
  const logs = Array.isArray(p.logs) ? (p.logs as unknown[]) : [];
  const metrics = Array.isArray(p.metrics) ? (p.metrics as unknown[]) : [];
  let usesGroup = false;
  let usesCategory = false;
  for (const l of logs) {
    const entry = (l ?? {}) as Record<string, unknown>;
    if (typeof entry.categoryGroup === 'string') {
      usesGroup = true;
      if (!t.categories.groups.includes(entry.categoryGroup)) return badRequest('BadRequest', `Category group '${entry.categoryGroup}' is not supported for '${t.id}'. Supported: ${t.categories.groups.join(', ') || 'none'}.`);
    } else if (typeof entry.category === 'string') {
      usesCategory = true;
      if (!t.categories.logs.includes(entry.category)) return badRequest('BadRequest', `Category '${entry.category}' is not supported for '${t.id}'. Supported: ${t.categories.logs.join(', ') || 'none'}.`);
    } else return badRequest('BadRequest', 'Each logs entry needs a category or a categoryGroup.');
    if (typeof entry.enabled !== 'boolean') return badRequest('BadRequest', "Each logs entry needs 'enabled'.");
  }
  if (usesGroup && usesCategory) return badRequest('BadRequest', 'Category groups and individual categories cannot be combined in one diagnostic setting.');
  for (const m of metrics) {
    const cat = ((m ?? {}) as Record<string, unknown>).category;
    if (typeof cat !== 'string' || !t.categories.metrics.includes(cat)) return badRequest('BadRequest', `Metric category '${String(cat)}' is not supported for '${t.id}'.`);
  }
  if (typeof ehRule === 'string' && ehRule !== '') {
    if (!RULE_RE.test(ehRule)) return badRequest('LinkedInvalidPropertyId', `eventHubAuthorizationRuleId '${ehRule}' must be a namespace-level authorization rule id (.../namespaces/<ns>/authorizationRules/<rule>).`);
    const rule = st.get(ehRule);
    if (!rule) return badRequest('LinkedAuthorizationFailed', `The Event Hubs authorization rule '${ehRule}' does not exist or cannot be accessed.`);
    const ns = st.get(ehRule.slice(0, ehRule.toLowerCase().lastIndexOf('/authorizationrules/')));
    if (t.location !== undefined && ns?.location !== undefined && normRegion(ns.location) !== normRegion(t.location))
      return badRequest('BadRequest', `The Event Hubs namespace must be in the same region as the resource. Resource region: '${t.location}', namespace region: '${ns.location}'.`);
  }
  return undefined;
}

const settingId = (t: Target, name: string) => `${t.id}/providers/microsoft.insights/diagnosticSettings/${name}`;
const wireSetting = (id: string, name: string, properties: Record<string, unknown>) => ({ id, name, type: 'Microsoft.Insights/diagnosticSettings', properties });

export function registerDiagnosticSettings(router: Router): void {
  // 2021-05-01-preview answers errors as a flat {code, message} (its ErrorResponse), not ARM's {error: {…}}.
  const r = { on: (method: string, template: string, h: Handler) => router.on(method, template, withFlatErrors(h)) };
  const base = '{+target}/providers/Microsoft.Insights/diagnosticSettings';
  const targetOr404 = (ctx: RouteContext): Target | Reply => resolveTarget(ctx.state, ctx.params.target ?? '') ?? notFound(ctx.params.target ?? '');
  r.on('GET', base, (ctx) => {
    const t = targetOr404(ctx);
    if ('status' in t) return t;
    // Not pageable: the spec's collection has only `value` (x-ms-pageable nextLinkName null); at most 5 per resource anyway.
    return { status: 200, body: { value: ctx.state.list(`${t.id}/providers/microsoft.insights/diagnosticSettings`).map((s) => wireSetting(s.id, s.name, s.properties)) } };
  });
  r.on('GET', `${base}/{name}`, (ctx) => {
    const t = targetOr404(ctx);
    if ('status' in t) return t;
    const s = ctx.state.get(settingId(t, ctx.params.name ?? ''));
    return s ? { status: 200, body: wireSetting(s.id, s.name, s.properties) } : notFound(`diagnosticSettings/${ctx.params.name}`);
  });
  r.on('PUT', `${base}/{name}`, (ctx) => {
    const t = targetOr404(ctx);
    if ('status' in t) return t;
    const name = ctx.params.name ?? '';
    const existing = ctx.state.get(settingId(t, name));
    const props = propsOf(objectBody(ctx));
    const err = validate(ctx.state, t, props);
    if (err) return err;
    const count = ctx.state.list(`${t.id}/providers/microsoft.insights/diagnosticSettings`).length;
    if (!existing && count >= MAX_SETTINGS_PER_RESOURCE)
      return badRequest('BadRequest', `Diagnostic settings does not support more than ${MAX_SETTINGS_PER_RESOURCE} diagnostic settings per resource. '${t.id}' already has ${count}.`);
    const id = existing?.id ?? settingId(t, name);
    const sub = /^\/subscriptions\/([^/]+)/i.exec(t.id)?.[1] ?? '';
    ctx.state.put({ id, name: existing?.name ?? name, type: 'Microsoft.Insights/diagnosticSettings', subscriptionId: sub, properties: props });
    return { status: 200, body: wireSetting(id, existing?.name ?? name, props) };
  });
  r.on('DELETE', `${base}/{name}`, (ctx) => {
    const t = targetOr404(ctx);
    if ('status' in t) return t;
    return { status: ctx.state.delete(settingId(t, ctx.params.name ?? '')) ? 200 : 204 };
  });
}
