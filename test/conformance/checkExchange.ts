import type { RecordedRequest } from '../../sim/armSimulator.js';
import type { SpecDoc, SpecIndex } from './specIndex.js';

type Node = Record<string, unknown>;
const isObj = (v: unknown): v is Node => v !== null && typeof v === 'object' && !Array.isArray(v);

/** ARM's own error envelope (authentication, throttling, unknown subscription): common-types ErrorResponse, not the provider's. */
const ARM_ERROR_DOC = 'specification/common-types/resource-management/v2/types.json';

/**
 * Query parameters of a `nextLink` the service itself handed out are opaque continuation tokens, not the
 * operation's declared parameters (x-ms-pageable: the client follows the link as given).
 */
export interface ExchangeContext {
  nextLinks: Set<string>;
}

export interface ExchangeProblems {
  /** What the client sent that the spec does not allow. */
  request: string[];
  /** What the simulator answered that the spec does not declare. */
  response: string[];
}

/** Checks one recorded exchange against the spec excerpts; each problem is one line naming the exchange. */
export function checkExchange(index: SpecIndex, rec: RecordedRequest, ctx: ExchangeContext): ExchangeProblems {
  const where = `${rec.method} ${rec.path}?api-version=${rec.apiVersion} → ${rec.status}`;
  const problems: string[] = [];
  const answer: string[] = [];
  const out = (): ExchangeProblems => ({ request: problems, response: answer });
  const res = rec.response;
  if (!res) return { request: [], response: [`${where}: no response recorded (start the simulator with recordResponses)`] };
  const query = new URLSearchParams(rec.query ?? '');
  const url = `${rec.path}?${rec.query ?? ''}`;

  // Azure-AsyncOperation status monitors are URLs the service handed out, not operations of any spec (ARM RPC async operations).
  if (/\/operationStatus\/[^/]+$/i.test(rec.path)) {
    if (res.body !== undefined) answer.push(...index.validate(index.docs.find((d) => d.source.path.endsWith('v5/types.json'))!, { $ref: '#/definitions/OperationStatusResult' }, 'response', res.body).map((p) => `${where}: status monitor body ${p}`));
    return out();
  }

  const found = index.find(rec.method, rec.path, rec.apiVersion);
  if (!found) return { request: [`${where}: no operation of the spec excerpts matches this method, path and api-version`], response: [] };
  const { op, params } = found;
  const tag = `${where} [${op.operationId}]`;
  const followsNextLink = [...ctx.nextLinks].some((l) => l.endsWith(url) || l.endsWith(url.replace(/\?$/, '')));

  for (const { node: p, doc } of op.parameters) {
    const name = String(p.name);
    if (p.in === 'path') {
      const value = params[name];
      if (value === undefined) problems.push(`${tag}: path parameter ${name} missing`);
      else problems.push(...index.validate(doc, p, 'request', value).map((e) => `${tag}: path parameter ${name}='${value}' ${e}`));
    } else if (p.in === 'query') {
      const value = query.get(name);
      if (value === null) {
        if (p.required === true) problems.push(`${tag}: required query parameter ${name} missing`);
      } else if (name === 'api-version') {
        if (value !== op.doc.info.version) problems.push(`${tag}: api-version ${value} is not the excerpt's ${op.doc.info.version}`);
      } else problems.push(...filterProblems(name, p, value).map((e) => `${tag}: ${e}`));
    } else if (p.in === 'body') {
      if (rec.body === undefined) {
        if (p.required === true) problems.push(`${tag}: required body missing`);
      } else problems.push(...index.validate(doc, p.schema as Node, 'request', rec.body).map((e) => `${tag}: request body ${e}`));
    }
  }
  const declaredQuery = new Set(op.parameters.filter((p) => p.node.in === 'query').map((p) => String(p.node.name)));
  if (!followsNextLink) for (const k of query.keys()) if (!declaredQuery.has(k)) problems.push(`${tag}: query parameter ${k} is not declared`);
  if (!op.parameters.some((p) => p.node.in === 'body') && rec.body !== undefined) problems.push(`${tag}: sends a body the operation does not take`);

  // ---- the answer
  if (res.origin === 'arm') {
    if (rec.status < 400) answer.push(`${tag}: a success answered by ARM itself, not the resource provider`);
    const doc = index.docs.find((d) => d.source.path === ARM_ERROR_DOC)!;
    answer.push(...index.validate(doc, { $ref: '#/definitions/ErrorResponse' }, 'response', res.body).map((e) => `${tag}: ARM error body ${e}`));
    return out();
  }
  const responses = op.node.responses as Record<string, Node>;
  const declared = responses[String(rec.status)];
  const response = declared ?? (rec.status >= 400 ? responses.default : undefined);
  if (!response) {
    answer.push(`${tag}: status ${rec.status} is not declared (declared: ${Object.keys(responses).join(', ')})`);
    return out();
  }
  if (isObj(response.schema)) {
    if (res.body === undefined) answer.push(`${tag}: response has no body but the spec declares one`);
    else answer.push(...index.validate(op.doc, response.schema, 'response', res.body).map((e) => `${tag}: response body ${e}`));
  } else if (res.body !== undefined) answer.push(`${tag}: response has a body but the spec declares none for ${rec.status}`);

  const pageable = op.node['x-ms-pageable'] as { nextLinkName?: string | null } | undefined;
  if (pageable?.nextLinkName && isObj(res.body) && typeof res.body[pageable.nextLinkName] === 'string') ctx.nextLinks.add(res.body[pageable.nextLinkName] as string);

  // A PUT answers with the resource as it now is: whatever writable value the client sent must come back.
  const bodyParam = op.parameters.find((p) => p.node.in === 'body');
  if (rec.method === 'PUT' && rec.status < 300 && bodyParam && isObj(res.body) && rec.body !== undefined) {
    const writeOnly = index.writeOnlyNames(bodyParam.doc, bodyParam.node.schema as Node);
    answer.push(...echoProblems(rec.body, res.body, '', writeOnly).map((e) => `${tag}: PUT response ${e}`));
  }
  return out();
}

function echoProblems(sent: unknown, got: unknown, path: string, writeOnly: Set<string>): string[] {
  if (Array.isArray(sent)) {
    if (!Array.isArray(got) || got.length !== sent.length) return [`${path || '(root)'}: sent ${sent.length} item(s), got ${JSON.stringify(got)}`];
    return sent.flatMap((s, i) => echoProblems(s, got[i], `${path}[${i}]`, writeOnly));
  }
  if (isObj(sent)) {
    if (!isObj(got)) return [`${path || '(root)'}: sent an object, got ${JSON.stringify(got)}`];
    return Object.entries(sent).flatMap(([k, v]) => {
      if (writeOnly.has(k)) return [];
      const p = path ? `${path}.${k}` : k;
      return k in got ? echoProblems(v, got[k], p, writeOnly) : [`${p}: sent ${JSON.stringify(v)}, not in the response`];
    });
  }
  return sent === got ? [] : [`${path}: sent ${JSON.stringify(sent)}, got ${JSON.stringify(got)}`];
}

/**
 * `$filter` of ActivityLogs_List: the parameter's description lists the only allowed patterns ("No other syntax
 * is allowed"); each example becomes a pattern with its quoted values free.
 */
function filterProblems(name: string, p: Node, value: string): string[] {
  if (name !== '$filter' || typeof p.description !== 'string') return [];
  const examples = [...p.description.matchAll(/\$filter=(.+?)\.(?:<br>|$)/g)].map((m) => m[1] ?? '');
  if (examples.length === 0) return [];
  const patterns = examples.map((e) => new RegExp(`^${e.replace(/'[^']*'/g, '\u0000').replace(/[.*+?^${}()|[\]\\]/g, (c) => `\\${c}`).replace(/\u0000/g, "'[^']*'")}$`));
  return patterns.some((re) => re.test(value.trim())) ? [] : [`$filter "${value}" is none of the documented patterns`];
}

export type { SpecDoc };
