import { z } from 'zod';
import type { SecurityCenter } from '@azure/arm-security';
import type { AzureClients } from '../azure/clientFactory.js';
import { classifyArmError } from '../azure/classifyError.js';
import { ConnectorError, ValidationError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { discoverSubscriptions } from '../reconcile/discovery.js';
import type { TenantRecord } from '../registry/types.js';
import { GUID_PATTERN } from '../guid.js';

/**
 * Defender for Cloud alert-state sync: the MDR analyst's verdict (dismissed, resolved…) goes back to the alert
 * in the customer's subscription, through the Security Admin role of the Lighthouse delegation.
 */

export const ALERT_STATES = ['Dismissed', 'Resolved', 'Active', 'InProgress'] as const;
export type AlertState = (typeof ALERT_STATES)[number];


export const alertStateBodySchema = z
  .object({
    state: z.enum(ALERT_STATES, { message: `expected one of ${ALERT_STATES.join(', ')}` }),
    subscriptionId: z
      .string({ message: 'required: the subscription GUID that holds the alert' })
      .regex(GUID_PATTERN, 'expected a subscription GUID like 00000000-0000-0000-0000-000000000000')
      .transform((s) => s.toLowerCase()),
    location: z
      .string({ message: 'required: the ASC location of the alert (the /locations/{location}/alerts/ segment of its id)' })
      .regex(/^[A-Za-z0-9]{1,64}$/, 'expected an ASC location such as centralus (the /locations/{location}/alerts/ segment of the alert id)')
      .transform((s) => s.toLowerCase()),
    // Azure: 1-90 of letters, digits, - _ . ( ), not ending with '.' (which also rules out '.' and '..').
    resourceGroup: z
      .string()
      .regex(/^[-\w.()]{0,89}[-\w()]$/, "expected a resource group name (1-90 letters, digits, - _ . ( ), not ending with '.')")
      .optional(),
  })
  .strict();
export type AlertStateBody = z.infer<typeof alertStateBodySchema>;

/** Alert names are single path segments (e.g. `2518298467986649999_a1b2…`): no `/`, `\`, `..`, control characters. */
export function alertNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'required';
  if (name.length > 256) return 'too long (at most 256 characters)';
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) return 'expected letters, digits, _ . - only (the last segment of the alert id)';
  if (/^\.+$/.test(name) || name.includes('..')) return "must not contain '..'";
  return undefined;
}

/** zod issues → field-level problems, `path.to.field: message`. */
export function fieldProblems(error: z.ZodError, prefix = ''): { field: string; message: string }[] {
  return error.issues.map((i) => {
    const field = prefix + (i.path.length > 0 ? i.path.join('.') : '(body)');
    if (i.code === 'unrecognized_keys') return { field: prefix + i.keys.join(','), message: 'unknown field' };
    return { field, message: i.message };
  });
}

export function parseAlertStateBody(raw: unknown): AlertStateBody {
  const parsed = alertStateBodySchema.safeParse(raw);
  if (!parsed.success) {
    const problems = fieldProblems(parsed.error);
    throw new ValidationError(`invalid alert-state request: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, problems);
  }
  return parsed.data;
}

export interface SetAlertStateInput {
  clients: AzureClients;
  tenant: Pick<TenantRecord, 'tenantId'>;
  alertName: string;
  body: AlertStateBody;
  /** Who asked (an analyst, `cli:<user>`); goes to the audit line only. */
  actor?: string;
  logger?: Logger;
}

export interface AlertStateResult {
  tenantId: string;
  subscriptionId: string;
  resourceGroup?: string;
  location: string;
  alertName: string;
  /** Status before the change, when it could be read. */
  from?: string;
  to: AlertState;
}

type Call = { sub: (c: SecurityCenter, loc: string, name: string) => Promise<void>; rg: (c: SecurityCenter, loc: string, name: string, rg: string) => Promise<void> };
// Note the SDK's argument order for resource-group level: (ascLocation, alertName, resourceGroupName).
const CALLS: Record<AlertState, Call> = {
  Dismissed: { sub: (c, l, n) => c.alerts.updateSubscriptionLevelStateToDismiss(l, n), rg: (c, l, n, g) => c.alerts.updateResourceGroupLevelStateToDismiss(l, n, g) },
  Resolved: { sub: (c, l, n) => c.alerts.updateSubscriptionLevelStateToResolve(l, n), rg: (c, l, n, g) => c.alerts.updateResourceGroupLevelStateToResolve(l, n, g) },
  Active: { sub: (c, l, n) => c.alerts.updateSubscriptionLevelStateToActivate(l, n), rg: (c, l, n, g) => c.alerts.updateResourceGroupLevelStateToActivate(l, n, g) },
  // Loaded on use: its operation spec pulls @azure/core-client, which the rest of the app never needs at cold start.
  InProgress: {
    sub: async (c, l, n) => (await import('./alertsApi2022.js')).updateSubscriptionLevelStateToInProgress(c, l, n),
    rg: async (c, l, n, g) => (await import('./alertsApi2022.js')).updateResourceGroupLevelStateToInProgress(c, l, n, g),
  },
};

const FORBIDDEN_DETAIL = 'the delegation does not grant Security Admin on this subscription (add the Security Admin role to the Lighthouse offer, or check that the delegation was not removed)';

/** Maps an ARM failure to a ConnectorError whose message says what to do; 403 → 'permanent' with status 403. */
function alertError(e: unknown, what: string, body: AlertStateBody, alertName: string): ConnectorError {
  const err = classifyArmError(e, what);
  const where = `subscription ${body.subscriptionId}${body.resourceGroup ? `, resource group ${body.resourceGroup}` : ''}, location ${body.location}`;
  if (err.kind === 'not-found') return new ConnectorError('not-found', `Defender alert '${alertName}' was not found in ${where}`, { cause: err, code: err.code ?? 'AlertNotFound', statusCode: 404 });
  if (err.statusCode === 401 || err.statusCode === 403) return new ConnectorError('permanent', `${what}: ${FORBIDDEN_DETAIL}`, { cause: err, code: err.code, statusCode: 403 });
  return err;
}

/**
 * Visible and managed for this tenant → ok; visible but another tenant's → not-found (404); not visible at all →
 * 403: Lighthouse hides a subscription whose delegation was removed (or never covered it).
 */
async function assertDelegated(clients: AzureClients, tenantId: string, subscriptionId: string): Promise<void> {
  let mine: boolean;
  let visible: boolean;
  try {
    const client = await clients.subscriptions();
    const ours = await discoverSubscriptions(clients, { tenantId } as TenantRecord, [subscriptionId]);
    mine = ours.subscriptions.length > 0;
    visible = mine;
    if (!mine) {
      for await (const s of client.subscriptions.list()) if ((s.subscriptionId ?? '').toLowerCase() === subscriptionId) visible = true;
    }
  } catch (e) {
    throw classifyArmError(e, 'list the delegated subscriptions');
  }
  if (mine) return;
  if (visible)
    throw new ConnectorError('not-found', `subscription ${subscriptionId} is not one of tenant ${tenantId}'s delegated subscriptions (it belongs to another tenant, or is disabled)`, { code: 'SubscriptionNotInTenant', statusCode: 404 });
  throw new ConnectorError('permanent', `subscription ${subscriptionId} is not visible through tenant ${tenantId}'s delegation: ${FORBIDDEN_DETAIL}`, { code: 'SubscriptionNotDelegated', statusCode: 403 });
}

/**
 * Sets a Defender for Cloud alert's state (subscription level, or resource-group level when `resourceGroup`
 * is given) after checking that the subscription belongs to the tenant. Logs `alert.state_changed`.
 */
export async function setAlertState(input: SetAlertStateInput): Promise<AlertStateResult> {
  const { clients, body } = input;
  const tenantId = input.tenant.tenantId.toLowerCase();
  const log = (input.logger ?? silentLogger).child({ tenantId });
  const nameProblem = alertNameProblem(input.alertName);
  if (nameProblem) throw new ValidationError(`invalid alert name: ${nameProblem}`, [{ field: 'alertName', message: nameProblem }]);
  const { alertName } = input;

  // Only subscriptions the tenant delegated: never act on another customer's subscription by a mistyped id.
  await assertDelegated(clients, tenantId, body.subscriptionId);

  const security = await clients.security(body.subscriptionId);
  const rg = body.resourceGroup;
  let from: string | undefined;
  try {
    // At 2022-01-01, which knows InProgress: the SDK's 2021-11-01 status enum cannot name every state we write.
    from = await (await import('./alertsApi2022.js')).readAlertStatus(security, body.location, alertName, rg);
  } catch (e) {
    throw alertError(e, `read Defender alert '${alertName}'`, body, alertName);
  }
  try {
    const call = CALLS[body.state];
    await (rg ? call.rg(security, body.location, alertName, rg) : call.sub(security, body.location, alertName));
  } catch (e) {
    throw alertError(e, `set Defender alert '${alertName}' to ${body.state}`, body, alertName);
  }
  const result: AlertStateResult = { tenantId, subscriptionId: body.subscriptionId, resourceGroup: rg, location: body.location, alertName, from, to: body.state };
  log.info('alert.state_changed', { subscriptionId: body.subscriptionId, resourceGroup: rg, location: body.location, alertName, from, to: body.state, actor: input.actor });
  return result;
}
