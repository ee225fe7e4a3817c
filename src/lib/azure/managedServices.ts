import { createRestError, getClient, type Client, type ClientOptions, type PathUncheckedResponse } from '@azure-rest/core-client';
import type { TokenCredential } from '@azure/identity';
import { z } from 'zod';

/**
 * Microsoft.ManagedServices (Azure Lighthouse registrations) at its latest stable api-version, 2022-10-01
 * (azure-facts §6; Azure/azure-rest-api-specs specification/managedservices/…/stable/2022-10-01/managedservices.json).
 *
 * Azure publishes no JavaScript management SDK for it (`@azure/arm-managedservices` does not exist on npm: the
 * registry answers 404), so this is a REST-level client on `@azure-rest/core-client`, the library the generated
 * modular ARM SDKs are built on: same pipeline (bearer token for the ARM scope, retries honouring Retry-After, TLS
 * and timeout options from clientFactory), errors as its RestError. Only the two operations offboarding needs.
 */
export const MANAGED_SERVICES_API_VERSION = '2022-10-01';

export interface RegistrationAssignment {
  /** ARM id of the assignment (`/subscriptions/{sub}/providers/Microsoft.ManagedServices/registrationAssignments/{guid}`). */
  id: string;
  name: string;
  registrationDefinitionId: string | undefined;
  /** The tenant the delegation is to (from the expanded registration definition); undefined when the answer lacks it. */
  managedByTenantId: string | undefined;
  managedByTenantName: string | undefined;
  definitionName: string | undefined;
}

export interface ManagedServicesClient {
  /**
   * Assignments at `scope` (e.g. `subscriptions/{id}`) with their registration definitions expanded
   * (`$expandRegistrationDefinition=true`), narrowed server-side to one managing tenant when given (`$filter`,
   * example GetRegistrationAssignmentsWithManagedByTenantIdEqFilter). Follows nextLink.
   */
  listRegistrationAssignments(scope: string, opts?: { managedByTenantId?: string }): Promise<RegistrationAssignment[]>;
  /**
   * RegistrationAssignments_Delete: 200 deleted, 204 did not exist, 202 accepted (the spec's long-running delete).
   * Resolves once accepted; the caller verifies by reading again (after the last assignment of the provider goes,
   * reads under the subscription fail: the delegation that allowed them is gone).
   */
  deleteRegistrationAssignment(assignmentId: string): Promise<'deleted' | 'accepted' | 'absent'>;
}

const assignmentSchema = z.object({
  id: z.string(),
  name: z.string(),
  properties: z
    .object({
      registrationDefinitionId: z.string().nullish(),
      registrationDefinition: z
        .object({ properties: z.object({ managedByTenantId: z.string().nullish(), managedByTenantName: z.string().nullish(), registrationDefinitionName: z.string().nullish() }).passthrough().nullish() })
        .passthrough()
        .nullish(),
    })
    .passthrough()
    .nullish(),
});
const pageSchema = z.object({ value: z.array(z.unknown()).default([]), nextLink: z.string().nullish() });

function ok(res: PathUncheckedResponse, expected: readonly string[]): PathUncheckedResponse {
  if (!expected.includes(res.status)) throw createRestError(res);
  return res;
}

function toAssignment(raw: unknown): RegistrationAssignment | undefined {
  const r = assignmentSchema.safeParse(raw);
  if (!r.success) return undefined; // an entry we cannot read is never acted on
  const def = r.data.properties?.registrationDefinition?.properties;
  return {
    id: r.data.id,
    name: r.data.name,
    registrationDefinitionId: r.data.properties?.registrationDefinitionId ?? undefined,
    managedByTenantId: def?.managedByTenantId ?? undefined,
    managedByTenantName: def?.managedByTenantName ?? undefined,
    definitionName: def?.registrationDefinitionName ?? undefined,
  };
}

export function createManagedServicesClient(endpoint: string, credential: TokenCredential, options: ClientOptions): ManagedServicesClient {
  const client: Client = getClient(endpoint, credential, options);
  const query = { 'api-version': MANAGED_SERVICES_API_VERSION };
  // `scope` is x-ms-skip-url-encoding in the spec: its slashes stay slashes.
  const scoped = (scope: string, rest: string) => client.pathUnchecked(`/{scope}/providers/Microsoft.ManagedServices/${rest}`, { value: scope.replace(/^\/+/, ''), allowReserved: true });
  return {
    async listRegistrationAssignments(scope, opts = {}) {
      const out: RegistrationAssignment[] = [];
      const filter = opts.managedByTenantId ? { $filter: `managedByTenantId eq '${opts.managedByTenantId.replace(/'/g, "''")}'` } : {};
      let res = ok(await scoped(scope, 'registrationAssignments').get({ queryParameters: { ...query, $expandRegistrationDefinition: true, ...filter } }), ['200']);
      for (;;) {
        const page = pageSchema.parse(res.body ?? {});
        for (const v of page.value) {
          const a = toAssignment(v);
          if (a) out.push(a);
        }
        if (!page.nextLink) return out;
        res = ok(await client.pathUnchecked(page.nextLink).get(), ['200']);
      }
    },
    async deleteRegistrationAssignment(assignmentId) {
      const res = ok(await client.pathUnchecked(assignmentId).delete({ queryParameters: query }), ['200', '202', '204']);
      return res.status === '204' ? 'absent' : res.status === '202' ? 'accepted' : 'deleted';
    },
  };
}
