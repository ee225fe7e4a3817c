import { readFile } from 'node:fs/promises';
import { z } from 'zod';

/**
 * The seeded state of the ARM simulator: who the provider is, which customer tenants and subscriptions exist, and
 * what is already deployed in them. Documented field by field in docs/scenario.md.
 */
const guid = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'expected a GUID like 00000000-0000-0000-0000-000000000000');
const region = z.string().min(1, 'expected an Azure region name such as westeurope');
const name = z.string().min(1, 'expected a non-empty name');

const resourceGroupSchema = z.object({ name, location: region });
const storageAccountSchema = z.object({
  name: z.string().regex(/^[a-z0-9]{3,24}$/, 'expected 3-24 lowercase letters and digits (storage account naming rule)'),
  resourceGroup: name,
  location: region,
  kind: z.enum(['StorageV2', 'Storage', 'BlobStorage', 'BlockBlobStorage', 'FileStorage']),
  sku: z.string().default('Standard_LRS'),
});
const keyVaultSchema = z.object({ name, resourceGroup: name, location: region });
const dataExportSchema = z.object({
  name,
  destinationResourceId: z.string().startsWith('/subscriptions/', 'expected an ARM id'),
  eventHubName: z.string().optional(),
  tableNames: z.array(z.string()).min(1, 'expected at least one table'),
  enable: z.boolean().default(true),
});
const workspaceSchema = z.object({
  name,
  resourceGroup: name,
  location: region,
  customerId: guid.optional(),
  tables: z.array(z.string()).default([]),
  dataExports: z.array(dataExportSchema).default([]),
});
const logSettingSchema = z.object({ category: z.string().optional(), categoryGroup: z.string().optional(), enabled: z.boolean() });
const diagnosticSettingSchema = z.object({
  resourceId: z.string().startsWith('/subscriptions/', 'expected an ARM id starting with /subscriptions/'),
  name,
  workspaceId: z.string().optional(),
  storageAccountId: z.string().optional(),
  eventHubAuthorizationRuleId: z.string().optional(),
  eventHubName: z.string().optional(),
  logs: z.array(logSettingSchema).default([]),
  metrics: z.array(z.object({ category: z.string(), enabled: z.boolean() })).default([]),
});
const automationSchema = z.object({
  name,
  resourceGroup: name,
  location: region,
  isEnabled: z.boolean().default(true),
  eventSources: z.array(z.string()).default(['Alerts']),
  eventHubResourceId: z.string().optional(),
  workspaceResourceId: z.string().optional(),
});
const alertSchema = z.object({
  name,
  location: region,
  resourceGroup: z.string().optional(),
  alertDisplayName: z.string().default('Suspicious activity detected'),
  severity: z.enum(['High', 'Medium', 'Low', 'Informational']).default('Medium'),
  status: z.enum(['Active', 'InProgress', 'Resolved', 'Dismissed']).default('Active'),
  compromisedEntity: z.string().optional(),
});
const subscriptionSchema = z.object({
  subscriptionId: guid,
  displayName: name,
  state: z.enum(['Enabled', 'Disabled', 'Warned', 'PastDue', 'Deleted']).default('Enabled'),
  delegated: z.boolean().default(true),
  /**
   * Other tenants that manage this subscription through their own Lighthouse delegation (an MSP or parent company,
   * possibly another customer of the provider). They appear in `managedByTenants` next to the provider.
   */
  managedByTenants: z.array(guid).default([]),
  /**
   * Whether the provider's delegation grants the Managed Services Registration assignment Delete Role (the
   * onboarding template's does); without it the provider cannot remove its own registration assignment.
   */
  delegationGrantsDelete: z.boolean().default(true),
  resourceGroups: z.array(resourceGroupSchema).default([]),
  storageAccounts: z.array(storageAccountSchema).default([]),
  keyVaults: z.array(keyVaultSchema).default([]),
  workspaces: z.array(workspaceSchema).default([]),
  diagnosticSettings: z.array(diagnosticSettingSchema).default([]),
  automations: z.array(automationSchema).default([]),
  alerts: z.array(alertSchema).default([]),
});
const namespaceSchema = z.object({
  name,
  resourceGroup: name,
  location: region,
  sku: z.enum(['Basic', 'Standard', 'Premium', 'Dedicated']).default('Standard'),
  capacity: z.number().int().positive().default(1),
  hubs: z.array(z.object({ name, partitionCount: z.number().int().min(1).max(1024).default(4) })).default([]),
});

export const scenarioSchema = z.object({
  provider: z.object({
    tenantId: guid,
    subscriptionId: guid,
    poolResourceGroup: name,
    functionApp: z.object({ resourceGroup: name, name }).optional(),
    /** The ingest Function Apps of a fleet (docs/fleet.md): sites whose app settings the control plane writes. */
    ingestApps: z.array(z.object({ resourceGroup: name, name })).default([]),
  }),
  tenants: z.array(z.object({ tenantId: guid, displayName: name, subscriptions: z.array(subscriptionSchema).default([]) })).default([]),
  eventHubNamespaces: z.array(namespaceSchema).default([]),
});

export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;
export type ScenarioSubscription = Scenario['tenants'][number]['subscriptions'][number];

/** Validates a parsed scenario; the error lists every problem as `json.path: what is expected`. */
export function parseScenario(raw: unknown, source = 'scenario'): Scenario {
  const r = scenarioSchema.safeParse(raw);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `  ${['$', ...i.path.map(String)].join('.')}: ${i.message}`);
  throw new Error(`${source} is not a valid simulator scenario (see docs/scenario.md):\n${lines.join('\n')}`);
}

export async function loadScenario(path: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read scenario file ${path}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`scenario file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseScenario(raw, path);
}
