/**
 * Re-stamps a telemetry fixture with a scenario's ids, so ingest attributes it to the onboarded tenant: tenant ids
 * (`tenantId`/`TenantId`/`AADTenantId`/`homeTenantId`/`resourceTenantId` values, `/tenants/<id>` paths, the tenant
 * claim) become the scenario tenant, and subscription ids (`/subscriptions/<id>` segments of resource ids and URLs,
 * `subscriptionId` values) become the scenario's subscriptions, in order of first appearance, cycling.
 *
 * Works on the text, not on parsed JSON, so every quirk of the original body (invalid JSON, single quotes,
 * JSON-in-a-string with escaped quotes, key casing, upper-case ids) survives; only id values change.
 * Pure and deterministic: the same input gives the same output.
 */
export interface RestampIds {
  tenantId: string;
  /** At least one; records' subscriptions are spread over them. */
  subscriptionIds: readonly string[];
}

const GUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const GUID_ONLY = new RegExp(`^${GUID}$`);
// Key, then `":"`, `': '`, `\":\"` (a JSON string inside a JSON string) …, then the value up to its closing quote.
const Q = `\\\\*["']`;
const SEP = `(${Q}\\s*:\\s*${Q})`;
const TENANT_FIELD = new RegExp(`(${Q})((?:aad|home|resource)?tenant_?id)${SEP}([^"'\\\\]*)`, 'gi');
const TENANT_CLAIM = new RegExp(`((?:claims[/_]tenantid|${Q}tid)${SEP})(${GUID})(?![0-9A-Za-z-])`, 'gi');
const TENANT_PATH = /(\/tenants\/)([^/"'\\\s?#]+)/gi;
const SUBSCRIPTION_FIELD = new RegExp(`(${Q})(subscription_?id)${SEP}([^"'\\\\]*)`, 'gi');
const SUBSCRIPTION_PATH = /(\/subscriptions\/)([^/"'\\\s?#]+)/gi;

/** Keeps an upper-case GUID upper case (mixed-case resource ids are a quirk worth keeping); placeholders become plain ids. */
function inCaseOf(original: string, replacement: string): string {
  return GUID_ONLY.test(original) && original === original.toUpperCase() && original !== original.toLowerCase() ? replacement.toUpperCase() : replacement;
}

const TENANT_COLUMN = /^(?:aad|home|resource)?tenant_?id$/i;
const SUBSCRIPTION_COLUMN = /^subscription_?id$/i;

/**
 * Log Analytics query results (`{"tables":[{"columns":[{name}],"rows":[[…]]}]}`) carry ids by column, not by key:
 * those columns are rewritten structurally (the document is then re-serialized compactly).
 */
function restampQueryTables(text: string, tenant: string, subFor: (id: string) => string): string {
  if (!/"tables"\s*:/.test(text) || !/"rows"\s*:/.test(text)) return text;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return text;
  }
  const tables = (doc as { tables?: unknown }).tables;
  if (!Array.isArray(tables)) return text;
  let changed = false;
  for (const t of tables as { columns?: unknown; rows?: unknown }[]) {
    if (!Array.isArray(t.columns) || !Array.isArray(t.rows)) continue;
    const names = (t.columns as { name?: unknown }[]).map((c) => (typeof c?.name === 'string' ? c.name : ''));
    for (const row of t.rows as unknown[]) {
      if (!Array.isArray(row)) continue;
      names.forEach((n, i) => {
        const v = row[i];
        if (typeof v !== 'string' || v.trim() === '') return;
        if (TENANT_COLUMN.test(n)) row[i] = inCaseOf(v, tenant);
        else if (SUBSCRIPTION_COLUMN.test(n)) row[i] = subFor(v);
        else return;
        changed = true;
      });
    }
  }
  return changed ? JSON.stringify(doc) : text;
}

export function restamp(text: string, ids: RestampIds): string {
  if (ids.subscriptionIds.length === 0) throw new Error('restamp needs at least one subscription id');
  const tenant = ids.tenantId.toLowerCase();
  const subs = new Map<string, string>();
  const subFor = (original: string): string => {
    const key = original.toLowerCase();
    let s = subs.get(key);
    if (s === undefined) {
      s = ids.subscriptionIds[subs.size % ids.subscriptionIds.length]!.toLowerCase();
      subs.set(key, s);
    }
    return inCaseOf(original, s);
  };
  const tenantGuids = new Set<string>();
  const noteTenant = (v: string) => {
    if (GUID_ONLY.test(v)) tenantGuids.add(v.toLowerCase());
  };

  let out = restampQueryTables(text, tenant, subFor)
    .replace(SUBSCRIPTION_PATH, (_m, pre: string, id: string) => `${pre}${subFor(id)}`)
    .replace(SUBSCRIPTION_FIELD, (m, q: string, key: string, sep: string, v: string) => (v.trim() === '' ? m : `${q}${key}${sep}${subFor(v)}`))
    .replace(TENANT_PATH, (_m, pre: string, id: string) => {
      noteTenant(id);
      return `${pre}${inCaseOf(id, tenant)}`;
    })
    .replace(TENANT_FIELD, (m, q: string, key: string, sep: string, v: string) => {
      if (v.trim() === '') return m;
      noteTenant(v);
      return `${q}${key}${sep}${inCaseOf(v, tenant)}`;
    })
    .replace(TENANT_CLAIM, (_m, pre: string, _sep: string, v: string) => {
      noteTenant(v);
      return `${pre}${inCaseOf(v, tenant)}`;
    });

  // The same ids elsewhere (scopes, claims, nested strings) follow, so a record never names both old and new ids.
  const rest = [...tenantGuids].filter((g) => g !== tenant).map((g) => [g, tenant] as const);
  for (const [old, s] of subs) if (GUID_ONLY.test(old) && old !== s && !tenantGuids.has(old)) rest.push([old, s]);
  for (const [old, next] of rest) {
    out = out.replace(new RegExp(`(?<![0-9A-Za-z-])${old}(?![0-9A-Za-z-])`, 'gi'), (m) => inCaseOf(m, next));
  }
  return out;
}
