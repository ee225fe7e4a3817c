import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { isKnownRegion, normalizeRegion } from '../azure/regions.js';
import { tenantOptionsSchema } from '../registry/types.js';
import { GUID_PATTERN } from '../guid.js';

export const WORKSPACE_ID = /^\/subscriptions\/[0-9a-fA-F-]{36}\/resourceGroups\/[-\w.()]{1,90}\/providers\/Microsoft\.OperationalInsights\/workspaces\/[A-Za-z0-9][A-Za-z0-9-]{2,61}[A-Za-z0-9]$/i;

export const tenantIdSchema = z
  .string()
  .regex(GUID_PATTERN, 'expected the customer tenant id, a GUID like 00000000-0000-0000-0000-000000000000')
  .transform((s) => s.toLowerCase());

/** Body of `PUT /api/tenants/{tenantId}`. Unknown fields are rejected so typos do not pass silently. */
export const tenantRequestSchema = z
  .object({
    displayName: z.string({ message: 'required: a display name for the customer (1-128 characters)' }).trim().min(1, 'must not be empty').max(128, 'at most 128 characters'),
    managementGroupId: z
      .string()
      .regex(/^[-\w.()]{1,90}$/, 'expected a management group id (1-90 letters, digits, - _ . ( )), e.g. the customer tenant id for the root group')
      .optional(),
    regions: z
      .array(
        z
          .string()
          .refine(isKnownRegion, { message: 'unknown Azure region; use a name such as westeurope or eastus2' })
          .transform(normalizeRegion),
      )
      .max(60, 'at most 60 regions')
      .refine((r) => new Set(r).size === r.length, 'regions must not repeat')
      .optional(),
    entraWorkspaceIds: z
      .array(z.string().regex(WORKSPACE_ID, 'expected a Log Analytics workspace resource id /subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.OperationalInsights/workspaces/<name>'))
      .max(20, 'at most 20 workspaces')
      // ARM ids compare case-insensitively: one workspace twice would be two targets with one coverage key.
      .refine((w) => new Set(w.map((x) => x.toLowerCase())).size === w.length, 'workspaces must not repeat (ids compare case-insensitively)')
      .optional(),
    options: tenantOptionsSchema.partial().strict().optional(),
  })
  .strict();
export type TenantRequest = z.infer<typeof tenantRequestSchema>;

export interface FieldProblem {
  field: string;
  message: string;
}

/** zod issues → `{field, message}` with dotted paths (`regions.1`, `options.storage`); unknown keys are named one by one. */
export function fieldProblems(error: z.ZodError, root?: string): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const issue of error.issues) {
    const base = [root, ...issue.path.map(String)].filter((p): p is string => !!p && p.length > 0).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) out.push({ field: base ? `${base}.${k}` : k, message: 'unknown field' });
    } else {
      out.push({ field: base || '(body)', message: issue.message });
    }
  }
  return out;
}

/** Validates path tenant id and body together, so one 400 names every bad field. */
export function parseTenantRequest(tenantIdRaw: string | undefined, body: unknown, providerTenantId: string): { tenantId: string; request: TenantRequest } {
  const problems: FieldProblem[] = [];
  const id = tenantIdSchema.safeParse(tenantIdRaw ?? '');
  if (!id.success) problems.push({ field: 'tenantId', message: id.error.issues[0]?.message ?? 'invalid' });
  else if (id.data === providerTenantId.toLowerCase())
    problems.push({ field: 'tenantId', message: 'is the provider tenant; Lighthouse cannot delegate a tenant to itself' });
  const req = tenantRequestSchema.safeParse(body);
  if (!req.success) problems.push(...fieldProblems(req.error));
  if (problems.length > 0 || !id.success || !req.success) {
    throw new ValidationError(`Invalid tenant request: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`, problems);
  }
  return { tenantId: id.data, request: req.data };
}
