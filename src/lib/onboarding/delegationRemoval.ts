import type { AzureClients } from '../azure/clientFactory.js';
import { classifyArmError } from '../azure/classifyError.js';
import type { RegistrationAssignment } from '../azure/managedServices.js';
import { silentLogger, type Logger } from '../log.js';

/**
 * The last step of offboarding: the provider removes its own Azure Lighthouse delegation from each subscription of
 * the tenant, through the Managed Services Registration assignment Delete Role the onboarding template delegates
 * (onboardingTemplate.ts DELEGATED_ROLES). Only assignments whose registration definition names the provider's tenant
 * as `managedByTenantId` are touched: another managing tenant's delegation of the same subscription (an MSP, a parent
 * company) is never ours, whatever the role would allow. The registration definitions stay (the role cannot delete
 * them): the customer removes them with the policy assignments (onboardingTemplate `removal`).
 *
 * Once the provider's last assignment in a subscription is gone, so is the access that allowed the delete: a
 * verification read then fails with 403/404, which is the proof. Nothing may depend on access afterwards, which is
 * why offboardTenant calls this only after the verified teardown.
 */
export interface DelegationRemoval {
  dryRun: boolean;
  /** Assignments of the provider removed (dry run: that would be removed). */
  removed: { subscriptionId: string; assignmentId: string; definitionName?: string | undefined }[];
  /** Other tenants' delegations seen in the same subscriptions and left alone. */
  kept: { subscriptionId: string; assignmentId: string; managedByTenantId: string | undefined }[];
  failed: { subscriptionId: string; reason: string }[];
  /** Every subscription showed no assignment of the provider afterwards, or no longer let the provider read it. */
  verified: boolean;
  /** Why nothing (more) was attempted. */
  skipped?: string;
}

export interface RemoveDelegationArgs {
  clients: AzureClients;
  providerTenantId: string;
  /** Home subscriptions of the tenant (discovery's; never a foreign one). */
  subscriptionIds: readonly string[];
  dryRun: boolean;
  /** Read right before each deletion: false (the tenant was onboarded again meanwhile) stops the removal. */
  stillOffboarding: () => Promise<boolean>;
  /** Verification reads after the deletes of a subscription, `pollMs` apart (ARM may answer 202 and finish later). */
  verifyAttempts?: number;
  pollMs?: number;
  logger?: Logger;
}

const same = (a: string | undefined, b: string) => (a ?? '').toLowerCase() === b.toLowerCase();
const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** The read failed because the delegation that allowed it is gone (or never reached this subscription). */
const accessGone = (e: unknown) => [401, 403, 404].includes((e as { statusCode?: number } | null)?.statusCode ?? 0);

export async function removeProviderDelegation(args: RemoveDelegationArgs): Promise<DelegationRemoval> {
  const log = (args.logger ?? silentLogger).child({ delegationRemoval: true, dryRun: args.dryRun });
  const out: DelegationRemoval = { dryRun: args.dryRun, removed: [], kept: [], failed: [], verified: false };
  const ms = await args.clients.managedServices();
  const provider = args.providerTenantId;
  /** Ours in the subscription: the provider's delegation, and assigned at that very subscription (never an id elsewhere). */
  const split = (sub: string, list: readonly RegistrationAssignment[]) => {
    const prefix = `/subscriptions/${sub}/providers/microsoft.managedservices/registrationassignments/`;
    const ours = list.filter((a) => same(a.managedByTenantId, provider) && a.id.toLowerCase().startsWith(prefix));
    return { ours, others: list.filter((a) => !ours.includes(a)) };
  };

  let verifiedAll = true;
  for (const sub of args.subscriptionIds) {
    const scope = `subscriptions/${sub}`;
    let listed: RegistrationAssignment[];
    try {
      // Without a server-side filter: the other tenants' delegations are listed too, to show they are left alone.
      listed = await ms.listRegistrationAssignments(scope);
    } catch (e) {
      verifiedAll = false;
      out.failed.push({ subscriptionId: sub, reason: classifyArmError(e, `list the registration assignments of subscription ${sub}`).message });
      continue;
    }
    const { ours, others } = split(sub, listed);
    for (const o of others) out.kept.push({ subscriptionId: sub, assignmentId: o.id, managedByTenantId: o.managedByTenantId });
    if (args.dryRun) {
      for (const a of ours) out.removed.push({ subscriptionId: sub, assignmentId: a.id, definitionName: a.definitionName });
      continue;
    }
    if (ours.length === 0) continue; // nothing of ours here (removed before, or delegated otherwise)
    if (!(await args.stillOffboarding())) {
      out.skipped = 'the tenant is no longer being offboarded (onboarded again): its delegation stays';
      verifiedAll = false;
      break;
    }
    let deleteFailed = false;
    for (const a of ours) {
      try {
        await ms.deleteRegistrationAssignment(a.id);
        out.removed.push({ subscriptionId: sub, assignmentId: a.id, definitionName: a.definitionName });
        log.info('delegation.assignmentRemoved', { subscriptionId: sub, assignmentId: a.id });
      } catch (e) {
        deleteFailed = true;
        out.failed.push({ subscriptionId: sub, reason: classifyArmError(e, `delete registration assignment ${a.id}`).message });
      }
    }
    if (deleteFailed) {
      verifiedAll = false;
      continue;
    }
    if (!(await verifyGone(sub))) verifiedAll = false;
  }
  out.verified = !args.dryRun && verifiedAll && out.failed.length === 0;
  log.info('delegation.outcome', { removed: out.removed.length, kept: out.kept.length, failed: out.failed.length, verified: out.verified, skipped: out.skipped });
  return out;

  async function verifyGone(sub: string): Promise<boolean> {
    const attempts = args.verifyAttempts ?? 5;
    for (let i = 0; i < attempts; i++) {
      try {
        const left = split(sub, await ms.listRegistrationAssignments(`subscriptions/${sub}`, { managedByTenantId: provider })).ours;
        if (left.length === 0) return true;
        if (i === attempts - 1) out.failed.push({ subscriptionId: sub, reason: `still delegated to the provider after the delete: ${left.map((a) => a.id).join(', ')}` });
      } catch (e) {
        if (accessGone(e)) return true;
        if (i === attempts - 1) out.failed.push({ subscriptionId: sub, reason: classifyArmError(e, `verify the delegation of subscription ${sub} is gone`).message });
      }
      if (i < attempts - 1) await delay(args.pollMs ?? 2_000);
    }
    return false;
  }
}
