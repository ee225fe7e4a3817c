import type { Settings } from '../config/settings.js';
import { ENTRA_LOGS } from '../reconcile/entraLogs.js';

/** Built-in role definition ids (azure-facts §6). */
export const ROLE = {
  Owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  Contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  Reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  LogAnalyticsContributor: '92aaf0da-9dab-42b6-94a3-d43ce8d16293',
  SecurityAdmin: 'fb1c8493-542b-48eb-b624-b4c8fea62acd',
  RegistrationAssignmentDelete: '91c1777a-f3dc-4fae-b103-61d183457e46',
} as const;

/** Exactly what the provider's ingest group gets in each customer subscription: no Owner, no role with data actions. */
export const DELEGATED_ROLES: readonly { id: string; name: string; why: string }[] = [
  { id: ROLE.Reader, name: 'Reader', why: 'discover subscriptions, storage accounts, key vaults and workspaces; see the customer under "My customers"' },
  { id: ROLE.LogAnalyticsContributor, name: 'Log Analytics Contributor', why: 'create and remove diagnostic settings and Log Analytics data-export rules' },
  { id: ROLE.SecurityAdmin, name: 'Security Admin', why: 'create and remove the Defender for Cloud continuous-export automation' },
  { id: ROLE.RegistrationAssignmentDelete, name: 'Managed Services Registration assignment Delete Role', why: 'lets the provider remove its own delegation when the customer leaves' },
];

export const TEMPLATE_SCHEMA = 'https://schema.management.azure.com/schemas/2019-08-01/managementGroupDeploymentTemplate.json#';

export type TemplateSettings = Pick<Settings, 'prefix'> & { provider: Pick<Settings['provider'], 'tenantId' | 'ingestPrincipalId' | 'ingestPrincipalDisplayName' | 'offerName' | 'automationResourceGroup'> };

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** Policy rules deployed through a template must escape their own `[...]` expressions as `[[...]` (else ARM evaluates them at MG deployment time). */
function escapeExpressions(v: Json): Json {
  if (typeof v === 'string') return v.startsWith('[') && !v.startsWith('[[') ? `[${v}` : v;
  if (Array.isArray(v)) return v.map(escapeExpressions);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, escapeExpressions(x)]));
  return v;
}

const roleDefinitionPath = (id: string) => `/providers/Microsoft.Authorization/roleDefinitions/${id}`;

export interface OnboardingMaterial {
  template: Record<string, Json>;
  /** Shell commands with the management group filled in (a placeholder when unknown). */
  commands: string[];
  /** How the customer removes the delegation later. */
  removal: string[];
  /** The customer's Entra ID step: the tenant-level diagnostic setting sending Entra logs to each workspace (entraDiagnostics()). */
  entraDiagnostics: EntraDiagnosticsMaterial;
  names: { rgPolicy: string; lighthousePolicy: string; rgAssignment: string; lighthouseAssignment: string };
}

/**
 * The ids of every subscription beneath management group `mg`, at any depth. `show-sub-under-mg` lists direct
 * children only; the Entities API (`az account management-group entities list`, POST
 * /providers/Microsoft.Management/getEntities) returns every group and subscription the caller can see with
 * `parentNameChain`, the names of all its ancestors, so a subscription is beneath `mg` when the chain contains it.
 * Subscriptions come back with type `/subscriptions` (older API versions wrote
 * `Microsoft.Management/managementGroups/subscriptions`). The JMESPath sits in single quotes, so its literals use
 * backticks; `mg` is validated (letters, digits, - _ . ( )) before it gets here.
 */
export function subscriptionsBeneath(mg: string): string {
  return (
    "az account management-group entities list --query '[?(type==`\"/subscriptions\"` || type==`\"Microsoft.Management/managementGroups/subscriptions\"`) " +
    `&& contains(parentNameChain || \`[]\`, \`"${mg}"\`)].name' -o tsv`
  );
}

/**
 * `text` as one POSIX shell word: as is when it holds only characters no shell treats specially, else in single
 * quotes (a quote inside becomes '\''). The placeholder `<management-group-id>` is quoted too, so a command pasted
 * before it is filled in fails on the unknown group instead of redirecting from a file.
 */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9_\-.\/:=@%+,]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * The customer's management-group deployment: two DeployIfNotExists policies (automation resource group; Lighthouse
 * delegation to the provider, existence checked on managedByTenantId), their assignments with system-assigned
 * identities, and role assignments for those identities at the management group only.
 */
export function onboardingTemplate(settings: TemplateSettings, managementGroupId?: string, entraWorkspaceIds: readonly string[] = []): OnboardingMaterial {
  const p = settings.provider;
  const names = {
    rgPolicy: `${settings.prefix}-automation-rg`,
    lighthousePolicy: `${settings.prefix}-lighthouse-delegation`,
    // Assignment names at MG scope are limited to 24 characters.
    rgAssignment: `${settings.prefix}-automation-rg`.slice(0, 24),
    lighthouseAssignment: `${settings.prefix}-lighthouse`.slice(0, 24),
  };
  const authorizations: Json = DELEGATED_ROLES.map((r) => ({
    principalId: p.ingestPrincipalId,
    principalIdDisplayName: p.ingestPrincipalDisplayName,
    roleDefinitionId: r.id,
  }));

  const rgPolicyRule = escapeExpressions({
    if: { allOf: [{ field: 'type', equals: 'Microsoft.Resources/subscriptions' }] },
    then: {
      effect: "[parameters('effect')]",
      details: {
        type: 'Microsoft.Resources/resourceGroups',
        name: "[parameters('resourceGroupName')]",
        existenceScope: 'subscription',
        deploymentScope: 'subscription',
        // Creating a resource group needs Contributor, not Owner.
        roleDefinitionIds: [roleDefinitionPath(ROLE.Contributor)],
        deployment: {
          location: "[parameters('resourceGroupLocation')]",
          properties: {
            mode: 'incremental',
            parameters: {
              resourceGroupName: { value: "[parameters('resourceGroupName')]" },
              resourceGroupLocation: { value: "[parameters('resourceGroupLocation')]" },
            },
            template: {
              $schema: 'https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#',
              contentVersion: '1.0.0.0',
              parameters: { resourceGroupName: { type: 'string' }, resourceGroupLocation: { type: 'string' } },
              resources: [
                {
                  type: 'Microsoft.Resources/resourceGroups',
                  apiVersion: '2022-09-01',
                  name: "[parameters('resourceGroupName')]",
                  location: "[parameters('resourceGroupLocation')]",
                  tags: { 'mdr-managed-by': p.offerName },
                  // Older Microsoft.Resources schemas (2019-10-01) require `properties` on a resource group; {} is valid in all.
                  properties: {},
                },
              ],
            },
          },
        },
      },
    },
  });

  const lighthousePolicyRule = escapeExpressions({
    if: { allOf: [{ field: 'type', equals: 'Microsoft.Resources/subscriptions' }] },
    then: {
      effect: 'deployIfNotExists',
      details: {
        type: 'Microsoft.ManagedServices/registrationDefinitions',
        deploymentScope: 'Subscription',
        existenceScope: 'Subscription',
        // Creating a Lighthouse registration writes role assignments: only Owner can (azure-facts §6, official sample).
        roleDefinitionIds: [roleDefinitionPath(ROLE.Owner)],
        existenceCondition: {
          allOf: [
            { field: 'type', equals: 'Microsoft.ManagedServices/registrationDefinitions' },
            { field: 'Microsoft.ManagedServices/registrationDefinitions/managedByTenantId', equals: "[parameters('managedByTenantId')]" },
          ],
        },
        deployment: {
          location: "[parameters('deploymentLocation')]",
          properties: {
            mode: 'incremental',
            parameters: {
              managedByTenantId: { value: "[parameters('managedByTenantId')]" },
              managedByName: { value: "[parameters('managedByName')]" },
              managedByDescription: { value: "[parameters('managedByDescription')]" },
              managedByAuthorizations: { value: "[parameters('managedByAuthorizations')]" },
            },
            template: {
              $schema: 'https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#',
              contentVersion: '1.0.0.0',
              parameters: {
                managedByTenantId: { type: 'string' },
                managedByName: { type: 'string' },
                managedByDescription: { type: 'string' },
                managedByAuthorizations: { type: 'array' },
              },
              variables: { registrationName: "[guid(parameters('managedByName'))]", assignmentName: "[guid(parameters('managedByName'))]" },
              resources: [
                {
                  type: 'Microsoft.ManagedServices/registrationDefinitions',
                  apiVersion: '2022-10-01',
                  name: "[variables('registrationName')]",
                  properties: {
                    registrationDefinitionName: "[parameters('managedByName')]",
                    description: "[parameters('managedByDescription')]",
                    managedByTenantId: "[parameters('managedByTenantId')]",
                    authorizations: "[parameters('managedByAuthorizations')]",
                  },
                },
                {
                  type: 'Microsoft.ManagedServices/registrationAssignments',
                  apiVersion: '2022-10-01',
                  name: "[variables('assignmentName')]",
                  dependsOn: ["[resourceId('Microsoft.ManagedServices/registrationDefinitions', variables('registrationName'))]"],
                  properties: { registrationDefinitionId: "[resourceId('Microsoft.ManagedServices/registrationDefinitions', variables('registrationName'))]" },
                },
              ],
            },
          },
        },
      },
    },
  });

  const policyId = (name: string) => `[extensionResourceId(managementGroup().id, 'Microsoft.Authorization/policyDefinitions', '${name}')]`;
  const assignmentId = (name: string) => `[extensionResourceId(managementGroup().id, 'Microsoft.Authorization/policyAssignments', '${name}')]`;
  /**
   * The policy identity's role at the management group, in a nested deployment that receives the principal id as a
   * parameter: a role assignment's name must be known when its deployment starts (reference() cannot name a
   * resource), and here the name is derived from the principal. Removing the policy assignment deletes its
   * identity; the next onboarding creates a new one, whose role assignment then gets a new name. A name fixed per
   * assignment would collide with the old assignment, which ARM refuses to re-point (RoleAssignmentUpdateNotPermitted).
   */
  const identityRole = (assignment: string, role: string) => ({
    type: 'Microsoft.Resources/deployments',
    apiVersion: '2022-09-01',
    name: `${assignment}-role`,
    location: "[parameters('deploymentLocation')]",
    dependsOn: [assignmentId(assignment)],
    properties: {
      mode: 'Incremental',
      expressionEvaluationOptions: { scope: 'Inner' },
      parameters: { principalId: { value: `[reference(${assignmentId(assignment).slice(1, -1)}, '2022-06-01', 'full').identity.principalId]` } },
      template: {
        $schema: TEMPLATE_SCHEMA,
        contentVersion: '1.0.0.0',
        parameters: { principalId: { type: 'string' } },
        resources: [
          {
            type: 'Microsoft.Authorization/roleAssignments',
            apiVersion: '2022-04-01',
            name: `[guid(managementGroup().id, parameters('principalId'), '${role}')]`,
            properties: {
              roleDefinitionId: `[tenantResourceId('Microsoft.Authorization/roleDefinitions', '${role}')]`,
              principalId: "[parameters('principalId')]",
              principalType: 'ServicePrincipal',
              description: `Lets the ${assignment} policy identity remediate subscriptions under this management group.`,
            },
          },
        ],
      },
    },
  });

  const template: Record<string, Json> = {
    $schema: TEMPLATE_SCHEMA,
    contentVersion: '1.0.0.0',
    metadata: { description: `Onboards this management group to ${p.offerName}: Lighthouse delegation and automation resource group in every subscription, kept by policy.` },
    parameters: {
      deploymentLocation: { type: 'string', defaultValue: '[deployment().location]', metadata: { description: 'Region of the policy remediation deployments and assignment identities.' } },
      automationResourceGroupName: { type: 'string', defaultValue: p.automationResourceGroup },
    },
    variables: {
      managedByTenantId: p.tenantId,
      managedByName: p.offerName,
      managedByDescription: `${p.offerName}: discovery, telemetry export and Defender alert triage for managed detection and response`,
      managedByAuthorizations: authorizations,
    },
    resources: [
      {
        type: 'Microsoft.Authorization/policyDefinitions',
        apiVersion: '2021-06-01',
        name: names.rgPolicy,
        properties: {
          policyType: 'Custom',
          mode: 'All',
          displayName: `${p.offerName}: keep the ${p.automationResourceGroup} resource group in every subscription`,
          metadata: { category: 'Monitoring' },
          parameters: {
            effect: { type: 'String', allowedValues: ['DeployIfNotExists', 'Disabled'], defaultValue: 'DeployIfNotExists' },
            resourceGroupName: { type: 'String' },
            resourceGroupLocation: { type: 'String' },
          },
          policyRule: rgPolicyRule,
        },
      },
      {
        type: 'Microsoft.Authorization/policyDefinitions',
        apiVersion: '2021-06-01',
        name: names.lighthousePolicy,
        properties: {
          policyType: 'Custom',
          mode: 'All',
          displayName: `${p.offerName}: keep the Azure Lighthouse delegation to the provider in every subscription`,
          metadata: { category: 'Lighthouse' },
          parameters: {
            managedByTenantId: { type: 'String' },
            managedByName: { type: 'String' },
            managedByDescription: { type: 'String' },
            managedByAuthorizations: { type: 'Array' },
            deploymentLocation: { type: 'String' },
          },
          policyRule: lighthousePolicyRule,
        },
      },
      {
        type: 'Microsoft.Authorization/policyAssignments',
        apiVersion: '2022-06-01',
        name: names.rgAssignment,
        location: "[parameters('deploymentLocation')]",
        dependsOn: [policyId(names.rgPolicy)],
        identity: { type: 'SystemAssigned' },
        properties: {
          displayName: `${p.offerName}: automation resource group`,
          policyDefinitionId: policyId(names.rgPolicy),
          parameters: {
            resourceGroupName: { value: "[parameters('automationResourceGroupName')]" },
            resourceGroupLocation: { value: "[parameters('deploymentLocation')]" },
          },
        },
      },
      {
        type: 'Microsoft.Authorization/policyAssignments',
        apiVersion: '2022-06-01',
        name: names.lighthouseAssignment,
        location: "[parameters('deploymentLocation')]",
        dependsOn: [policyId(names.lighthousePolicy)],
        identity: { type: 'SystemAssigned' },
        properties: {
          displayName: `${p.offerName}: Lighthouse delegation`,
          policyDefinitionId: policyId(names.lighthousePolicy),
          parameters: {
            managedByTenantId: { value: "[variables('managedByTenantId')]" },
            managedByName: { value: "[variables('managedByName')]" },
            managedByDescription: { value: "[variables('managedByDescription')]" },
            managedByAuthorizations: { value: "[variables('managedByAuthorizations')]" },
            deploymentLocation: { value: "[parameters('deploymentLocation')]" },
          },
        },
      },
      identityRole(names.rgAssignment, ROLE.Contributor),
      identityRole(names.lighthouseAssignment, ROLE.Owner),
    ],
    outputs: {
      lighthouseAssignmentId: { type: 'string', value: assignmentId(names.lighthouseAssignment) },
      automationRgAssignmentId: { type: 'string', value: assignmentId(names.rgAssignment) },
    },
  };

  const mg = managementGroupId ?? '<management-group-id>';
  // Quoted for the shell: a management group id may hold ( ), which bash would otherwise parse.
  const mgArg = shellWord(mg);
  const mgScope = shellWord(`/providers/Microsoft.Management/managementGroups/${mg}`);
  const assignment = (n: string) => shellWord(`/providers/Microsoft.Management/managementGroups/${mg}/providers/Microsoft.Authorization/policyAssignments/${n}`);
  const eachSubscription = `for sub in $(${subscriptionsBeneath(mg)}); do `;
  const commands = [
    `az deployment mg create --management-group-id ${mgArg} --location westeurope --name ${settings.prefix}-onboarding --template-file ${settings.prefix}-onboarding.json`,
    // Every subscription at any depth below the group; the delegation's resource provider must be registered
    // (--wait: until it is) before the Lighthouse remediation deploys a registration definition there.
    eachSubscription +
      `az provider register --namespace Microsoft.ManagedServices --subscription "$sub" --wait && ` +
      `az policy remediation create --name ${settings.prefix}-automation-rg --subscription "$sub" --policy-assignment ${assignment(names.rgAssignment)} --resource-discovery-mode ReEvaluateCompliance && ` +
      `az policy remediation create --name ${settings.prefix}-lighthouse --subscription "$sub" --policy-assignment ${assignment(names.lighthouseAssignment)} --resource-discovery-mode ReEvaluateCompliance; done`,
  ];
  // Removal leaves nothing that would stop a later onboarding: the policy identities' role assignments (their
  // principals die with the policy assignments), the assignments, and in every subscription the registration
  // assignments AND definitions of this provider (a definition left behind satisfies the policy's existence check,
  // so no new delegation would be deployed).
  const removal = [
    `for a in ${names.lighthouseAssignment} ${names.rgAssignment}; do pid=$(az policy assignment show --name "$a" --scope ${mgScope} --query identity.principalId -o tsv) && ` +
      `for id in $(az role assignment list --scope ${mgScope} --query "[?principalId=='$pid'].id" -o tsv); do az role assignment delete --ids "$id"; done; done`,
    `az policy assignment delete --name ${names.lighthouseAssignment} --scope ${mgScope}`,
    `az policy assignment delete --name ${names.rgAssignment} --scope ${mgScope}`,
    eachSubscription +
      `for a in $(az managedservices assignment list --subscription "$sub" --include-definition true --query "[?properties.registrationDefinition.properties.managedByTenantId=='${p.tenantId}'].name" -o tsv); do ` +
      `az managedservices assignment delete --assignment "$a" --subscription "$sub"; done; ` +
      `for d in $(az managedservices definition list --subscription "$sub" --query "[?properties.managedByTenantId=='${p.tenantId}'].name" -o tsv); do ` +
      `az managedservices definition delete --definition "$d" --subscription "$sub"; done; done`,
  ];
  return { template, commands, removal, names, entraDiagnostics: entraDiagnostics(settings, entraWorkspaceIds) };
}

export interface EntraDiagnosticsMaterial {
  note: string;
  /** Diagnostic-setting categories the commands enable (ENTRA_LOGS: each fills a table our export takes). */
  categories: string[];
  commands: string[];
}

/** Tenant-level Entra ID diagnostic settings: `microsoft.aadiam/diagnosticSettings`, api-version 2017-04-01 (azure-facts §9). */
export const AADIAM_DIAGNOSTIC_SETTINGS = '/providers/microsoft.aadiam/diagnosticSettings';
export const AADIAM_API_VERSION = '2017-04-01';

/**
 * The customer's Entra ID step. Entra diagnostic settings are tenant-level (`/providers/microsoft.aadiam/...`), out of
 * reach of a Lighthouse delegation, which covers subscriptions and resource groups only: a Security Administrator of
 * the customer's tenant with write access to the workspace creates one per workspace (Microsoft Entra docs,
 * howto-integrate-activity-logs-with-azure-monitor-logs). The Azure CLI has no command group for it; `az rest` sends
 * the ARM request, and a URL without a host goes to the current cloud's ARM endpoint (azure-cli `az rest --url` help),
 * so the same text works in sovereign clouds. The body is the 2017-04-01 shape (workspaceId, logs[{category, enabled}]).
 * The setting's name is fixed per workspace, so running the command again updates it instead of adding another
 * (a second setting sending the same categories to the same workspace would double every row, and our export with it).
 */
export function entraDiagnostics(settings: Pick<Settings, 'prefix'>, workspaceIds: readonly string[]): EntraDiagnosticsMaterial {
  const categories = ENTRA_LOGS.map((l) => l.category);
  const targets = workspaceIds.length > 0 ? workspaceIds : ['<log-analytics-workspace-resource-id>'];
  const url = (name: string) => `${AADIAM_DIAGNOSTIC_SETTINGS}${name ? `/${name}` : ''}?api-version=${AADIAM_API_VERSION}`;
  const list = `az rest --method get --url "${url('')}" --query "value[].{name: name, workspace: properties.workspaceId, categories: properties.logs[?enabled].category}"`;
  const puts = targets.map((ws) => {
    const wsName = (ws.split('/').pop() ?? 'workspace').replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40);
    const body = JSON.stringify({ properties: { workspaceId: ws, logs: categories.map((category) => ({ category, enabled: true })) } });
    // Single quotes around the JSON: workspace ids hold no quote (validated ARM ids), so the body reaches az as is.
    return `az rest --method put --url "${url(`${settings.prefix}-entra-${wsName}`)}" --body '${body}'`;
  });
  return {
    note:
      "Run as a Security Administrator of the customer's tenant who may write to the workspace. The first command lists the tenant's existing Entra diagnostic settings: " +
      'if one already sends these categories to the workspace, add any missing categories to it instead of creating another (two settings double every record). ' +
      'Risk events need Microsoft Entra ID P2 and ADFSSignInLogs needs AD FS with Connect Health; Microsoft does not document whether a category the tenant lacks is refused or just stays empty: ' +
      'if the command is refused for one, drop it from the body and run it again. Coverage then shows which Entra tables the workspace holds.',
    categories,
    commands: [list, ...puts],
  };
}
