import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { GUID_PATTERN } from '../guid.js';

/** Every HTTP handler factory returns one of these; src/functions registers it. */
export type HttpHandler = (req: HttpRequest, ctx: InvocationContext) => Promise<HttpResponseInit>;

export interface FieldProblem {
  field: string;
  message: string;
}

/** Problem types are URNs (RFC 9457 allows any URI); docs/onboarding.md lists them. */
export const PROBLEM_BASE = 'urn:azure-mdr-connector:problem:';

/** An RFC 9457 problem response; `errors` names each bad field. */
export function problem(
  status: number,
  slug: string,
  title: string,
  detail: string,
  opts: { errors?: FieldProblem[]; headers?: Record<string, string> } = {},
): HttpResponseInit {
  return {
    status,
    headers: { 'content-type': 'application/problem+json', ...opts.headers },
    jsonBody: { type: `${PROBLEM_BASE}${slug}`, title, status, detail, ...(opts.errors ? { errors: opts.errors } : {}) },
  };
}

/** A tenant id route parameter: a GUID, nothing else reaches the registry or ARM. */
export const TENANT_ID_PATTERN = GUID_PATTERN;
