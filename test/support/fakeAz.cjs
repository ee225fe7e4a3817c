// Test-only fake `az`: bash runs the customer's printed commands, and this script answers the az invocations in
// them from a JSON state file (FAKE_AZ_STATE) kept between invocations. It implements exactly the subcommands and
// options the onboarding material uses; anything else is refused loudly (exit 2, message on stderr, and recorded
// in the state's `refused` list so a test fails even when bash carries on).
//
// What it copies from the real CLI (microsoft/knack, which azure-cli is built on):
//   --query is JMESPath, applied with the reference implementation (npm `jmespath`, by the spec's author);
//   a null result prints nothing (knack/cli.py: `if cmd_result and cmd_result.result is not None`);
//   -o tsv prints one line per list item, a dict's values tab-separated in key order, a nested list as its length,
//   a nested dict as '' and a top-level bool lower-case (knack/output.py, format_tsv and _TsvOutput); -o json
//   (the default) is indented JSON with sorted keys (format_json).
// What it copies from ARM (the reason the test exists, see customerDeployment.test.ts):
//   a role-assignment name cannot be re-pointed to another principal (RoleAssignmentUpdateNotPermitted);
//   deleting a policy assignment deletes its system-assigned identity but not that identity's role assignments;
//   the Lighthouse policy is compliant when a registration definition of the provider's tenant exists (its
//   existenceCondition), so remediation then deploys nothing;
//   a registration definition cannot be deployed where Microsoft.ManagedServices is not registered
//   (MissingSubscriptionRegistration); without --wait, `az provider register` returns while it is still Registering;
//   `az rest` with a URL without host goes to the cloud's ARM endpoint (azure-cli `az rest --url` help), and the
//   tenant-level Entra diagnostic settings (`/providers/microsoft.aadiam/diagnosticSettings`, 2017-04-01) take a
//   workspace that exists and the categories the tenant offers (ENTRA_CATEGORIES below).
'use strict';
// CommonJS on purpose: every az call is a node start, and loading CommonJS is markedly cheaper than ESM.
const { createHash } = require('node:crypto');
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const jmespath = require('jmespath');

const ROLE = { Owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635', Contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c' };
// The Entra diagnostic-setting categories a tenant offers, as Microsoft's Zero Trust Assessment (v0.18.0, test 21860
// "Diagnostic settings are configured for all Microsoft Entra logs") lists them.
const ENTRA_CATEGORIES = ['ADFSSignInLogs', 'AuditLogs', 'EnrichedOffice365AuditLogs', 'ManagedIdentitySignInLogs', 'MicrosoftGraphActivityLogs', 'NetworkAccessTrafficLogs',
  'NonInteractiveUserSignInLogs', 'ProvisioningLogs', 'RemoteNetworkHealthLogs', 'RiskyServicePrincipals', 'RiskyUsers', 'ServicePrincipalRiskEvents', 'ServicePrincipalSignInLogs',
  'SignInLogs', 'UserRiskEvents'];
const statePath = process.env.FAKE_AZ_STATE;
if (!statePath) {
  process.stderr.write('fake az: FAKE_AZ_STATE is not set\n');
  process.exit(2);
}
const state = JSON.parse(readFileSync(statePath, 'utf8'));
const argv = process.argv.slice(2);
const mgScope = `/providers/Microsoft.Management/managementGroups/${state.managementGroup}`;

class Refused extends Error {}
class AzError extends Error {
  constructor(code, message, exitCode = 1) {
    super(`(${code}) ${message}`);
    this.exitCode = exitCode;
  }
}

/** ARM's guid() is a deterministic hash of its arguments; any such hash models it for name equality. */
const armGuid = (args) => createHash('sha256').update(args.join('-')).digest('hex').slice(0, 32);

// ---- ARM template expressions: only the forms the customer template uses; anything else throws ----
function evaluate(expr, ctx) {
  if (typeof expr !== 'string' || !expr.startsWith('[') || expr.startsWith('[[')) return expr;
  const body = expr.slice(1, -1);
  const arg = (a) => {
    if (a === 'managementGroup().id') return mgScope;
    const p = /^parameters\('(\w+)'\)$/.exec(a);
    if (p) {
      if (!(p[1] in ctx.parameters)) throw new Error(`template parameter ${p[1]} has no value`);
      return ctx.parameters[p[1]];
    }
    const v = /^variables\('(\w+)'\)$/.exec(a);
    if (v) {
      if (!(v[1] in ctx.variables)) throw new Error(`template variable ${v[1]} is not declared`);
      return ctx.variables[v[1]];
    }
    const lit = /^'([^']*)'$/.exec(a);
    if (lit) return lit[1];
    throw new Error(`the fake ARM does not evaluate ${a}`);
  };
  const guid = /^guid\((.*)\)$/.exec(body);
  if (guid) return armGuid(guid[1].split(/,\s*/).map(arg));
  const reference = /^reference\(extensionResourceId\(managementGroup\(\)\.id, 'Microsoft\.Authorization\/policyAssignments', '([^']+)'\), '[^']+', 'full'\)\.identity\.principalId$/.exec(body);
  if (reference) {
    const a = state.policyAssignments[reference[1]];
    if (!a) throw new AzError('ResourceNotFound', `policy assignment ${reference[1]} does not exist`);
    return a.principalId;
  }
  const roleId = /^tenantResourceId\('Microsoft\.Authorization\/roleDefinitions', '([0-9a-f-]{36})'\)$/.exec(body);
  if (roleId) return `/providers/Microsoft.Authorization/roleDefinitions/${roleId[1]}`;
  const policyDef = /^extensionResourceId\(managementGroup\(\)\.id, 'Microsoft\.Authorization\/policyDefinitions', '([^']+)'\)$/.exec(body);
  if (policyDef) return `${mgScope}/providers/Microsoft.Authorization/policyDefinitions/${policyDef[1]}`;
  return arg(body);
}

function putRoleAssignment(name, principalId, roleDefinitionId) {
  const existing = state.roleAssignments[name];
  if (existing && existing.principalId !== principalId) {
    throw new AzError('RoleAssignmentUpdateNotPermitted', 'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.');
  }
  state.roleAssignments[name] = { principalId, roleDefinitionId };
}

/** A management-group deployment: policy definitions, assignments (identity on first creation), role assignments. */
function deploy(template, location) {
  const params = Object.fromEntries(Object.entries(template.parameters ?? {}).map(([k, p]) => [k, p.defaultValue === '[deployment().location]' ? location : p.defaultValue]));
  const ctx = { parameters: params, variables: template.variables ?? {} };
  for (const r of template.resources) {
    if (r.type === 'Microsoft.Authorization/policyDefinitions') {
      state.policyDefinitions[r.name] = { detailsType: r.properties.policyRule.then.details.type };
    } else if (r.type === 'Microsoft.Authorization/policyAssignments') {
      const definition = evaluate(r.properties.policyDefinitionId, ctx).split('/').pop();
      if (!state.policyDefinitions[definition]) throw new AzError('PolicyDefinitionNotFound', definition);
      const parameters = Object.fromEntries(Object.entries(r.properties.parameters ?? {}).map(([k, v]) => [k, evaluate(v.value, ctx)]));
      const principalId = state.policyAssignments[r.name]?.principalId ?? `principal-${++state.principals}`;
      state.policyAssignments[r.name] = { principalId, definition, parameters };
    } else if (r.type === 'Microsoft.Authorization/roleAssignments') {
      putRoleAssignment(evaluate(r.name, ctx), evaluate(r.properties.principalId, ctx), evaluate(r.properties.roleDefinitionId, ctx));
    } else if (r.type === 'Microsoft.Resources/deployments') {
      const p = r.properties;
      if (p.expressionEvaluationOptions?.scope !== 'Inner') throw new Error(`nested deployment ${r.name}: the fake only evaluates inner-scoped templates`);
      const inner = { parameters: Object.fromEntries(Object.entries(p.parameters ?? {}).map(([k, v]) => [k, evaluate(v.value, ctx)])), variables: p.template.variables ?? {} };
      for (const ir of p.template.resources) {
        if (ir.type !== 'Microsoft.Authorization/roleAssignments') throw new Error(`nested deployment ${r.name}: unexpected ${ir.type}`);
        putRoleAssignment(evaluate(ir.name, inner), evaluate(ir.properties.principalId, inner), evaluate(ir.properties.roleDefinitionId, inner));
      }
    } else throw new Error(`the fake ARM does not deploy ${r.type}`);
  }
}

const holdsRole = (principalId, roles) => Object.values(state.roleAssignments).some((r) => r.principalId === principalId && roles.some((id) => r.roleDefinitionId.endsWith(`/${id}`)));

/** A remediation task runs the policy's deployment in one subscription as the assignment's identity. */
function remediate(sub, assignmentId) {
  const prefix = `${mgScope}/providers/Microsoft.Authorization/policyAssignments/`;
  if (!assignmentId.startsWith(prefix)) throw new AzError('InvalidPolicyAssignmentId', assignmentId);
  const a = state.policyAssignments[assignmentId.slice(prefix.length)];
  if (!a) throw new AzError('PolicyAssignmentNotFound', assignmentId);
  const type = state.policyDefinitions[a.definition]?.detailsType;
  if (type === 'Microsoft.Resources/resourceGroups') {
    if (!holdsRole(a.principalId, [ROLE.Contributor, ROLE.Owner])) throw new AzError('AuthorizationFailed', 'the policy identity cannot create the resource group');
    if (!state.automationGroups.includes(sub)) state.automationGroups.push(sub);
    return;
  }
  if (type !== 'Microsoft.ManagedServices/registrationDefinitions') throw new Error(`the fake cannot remediate a policy deploying ${type}`);
  if (!holdsRole(a.principalId, [ROLE.Owner])) throw new AzError('AuthorizationFailed', 'the policy identity cannot create the delegation');
  const tenant = a.parameters.managedByTenantId;
  const defs = state.definitions[sub] ?? [];
  if (defs.some((d) => d.managedByTenantId === tenant)) return; // compliant: the existence condition is met
  if (state.providers[sub] !== 'Registered') throw new AzError('MissingSubscriptionRegistration', "The subscription is not registered to use namespace 'Microsoft.ManagedServices'.");
  const name = armGuid([a.parameters.managedByName]);
  state.definitions[sub] = [...defs, { name, managedByTenantId: tenant }];
  state.delegations[sub] = [...(state.delegations[sub] ?? []), { name, definition: name }];
}

// ---- the command line: command words, then --options (value or flag) ----
const COMMANDS = {
  'deployment mg create': { options: { '--management-group-id': 1, '--location': 1, '--name': 1, '--template-file': 1 }, required: ['--management-group-id', '--location', '--template-file'] },
  'account management-group entities list': { options: {}, required: [] },
  'account management-group subscription show-sub-under-mg': { options: { '--name': 1 }, required: ['--name'] },
  'provider register': { options: { '--namespace': 1, '--subscription': 1, '--wait': 0 }, required: ['--namespace', '--subscription'] },
  'policy remediation create': { options: { '--name': 1, '--subscription': 1, '--policy-assignment': 1, '--resource-discovery-mode': 1 }, required: ['--name', '--subscription', '--policy-assignment'] },
  'policy assignment show': { options: { '--name': 1, '--scope': 1 }, required: ['--name', '--scope'] },
  'policy assignment delete': { options: { '--name': 1, '--scope': 1 }, required: ['--name', '--scope'] },
  'role assignment list': { options: { '--scope': 1 }, required: ['--scope'] },
  'role assignment delete': { options: { '--ids': 1 }, required: ['--ids'] },
  'managedservices assignment list': { options: { '--subscription': 1, '--include-definition': 1 }, required: ['--subscription'] },
  'managedservices assignment delete': { options: { '--assignment': 1, '--subscription': 1 }, required: ['--assignment', '--subscription'] },
  'managedservices definition list': { options: { '--subscription': 1 }, required: ['--subscription'] },
  'managedservices definition delete': { options: { '--definition': 1, '--subscription': 1 }, required: ['--definition', '--subscription'] },
  rest: { options: { '--method': 1, '--url': 1, '--uri': 1, '--body': 1 }, required: [] },
};
const GLOBAL = { '--query': 1, '-o': 1, '--output': 1 };

function parse(args) {
  const firstOption = args.findIndex((a) => a.startsWith('-'));
  const words = args.slice(0, firstOption < 0 ? args.length : firstOption);
  const name = words.join(' ');
  const spec = COMMANDS[name];
  if (!spec) throw new Refused(`unsupported command: az ${name}`);
  const opts = {};
  for (let i = words.length; i < args.length; i++) {
    const o = args[i];
    const arity = spec.options[o] ?? GLOBAL[o];
    if (arity === undefined) throw new Refused(`az ${name}: unsupported option ${o}`);
    if (o in opts) throw new Refused(`az ${name}: ${o} given twice`);
    if (arity === 1 && (i + 1 >= args.length || args[i + 1].startsWith('--'))) throw new Refused(`az ${name}: ${o} needs a value`);
    opts[o === '--output' ? '-o' : o] = arity === 1 ? args[++i] : true;
  }
  for (const r of spec.required) if (!(r in opts)) throw new Refused(`az ${name}: missing ${r}`);
  if (opts['-o'] !== undefined && opts['-o'] !== 'tsv' && opts['-o'] !== 'json') throw new Refused(`az ${name}: unsupported output ${opts['-o']}`);
  return { name, opts };
}

function tsv(result) {
  const cell = (v) => (Array.isArray(v) ? String(v.length) : v !== null && typeof v === 'object' ? '' : String(v));
  const row = (v) => {
    if (Array.isArray(v)) return v.map(cell).join('\t');
    if (v !== null && typeof v === 'object') return Object.keys(v).sort().map((k) => cell(v[k])).join('\t');
    if (typeof v === 'boolean') return String(v).toLowerCase();
    return cell(v === null ? 'None' : v);
  };
  return (Array.isArray(result) ? result : [result]).map((v) => `${row(v)}\n`).join('');
}

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}

function run({ name, opts }) {
  if (name === 'rest') return rest(opts);
  const sub = opts['--subscription'];
  const scopeMustBeGroup = () => {
    if (opts['--scope'] !== mgScope) throw new AzError('InvalidScope', `the fake knows only ${mgScope}, got ${opts['--scope']}`);
  };
  switch (name) {
    case 'deployment mg create': {
      if (opts['--management-group-id'] !== state.managementGroup) throw new AzError('ManagementGroupNotFound', opts['--management-group-id']);
      deploy(JSON.parse(readFileSync(path.resolve(opts['--template-file']), 'utf8')), opts['--location']);
      return { properties: { provisioningState: 'Succeeded' } };
    }
    case 'account management-group entities list':
      return state.entities;
    case 'account management-group subscription show-sub-under-mg': {
      // GET .../managementGroups/{id}/subscriptions: the group's direct children only.
      const parent = `/providers/Microsoft.Management/managementGroups/${opts['--name']}`;
      return state.entities
        .filter((e) => e.parent.id === parent && e.type.endsWith('subscriptions'))
        .map((e) => ({ id: `${parent}/subscriptions/${e.name}`, name: e.name, type: 'Microsoft.Management/managementGroups/subscriptions', properties: { displayName: e.displayName, parent: { id: parent } } }));
    }
    case 'provider register':
      state.providers[sub] = opts['--wait'] ? 'Registered' : 'Registering';
      return null;
    case 'policy remediation create':
      remediate(sub, opts['--policy-assignment']);
      return { name: opts['--name'], provisioningState: 'Accepted' };
    case 'policy assignment show': {
      scopeMustBeGroup();
      const a = state.policyAssignments[opts['--name']];
      if (!a) throw new AzError('PolicyAssignmentNotFound', `The policy assignment '${opts['--name']}' is not found.`, 3);
      return { id: `${mgScope}/providers/Microsoft.Authorization/policyAssignments/${opts['--name']}`, name: opts['--name'], identity: { principalId: a.principalId, type: 'SystemAssigned' }, scope: mgScope };
    }
    case 'policy assignment delete':
      scopeMustBeGroup();
      delete state.policyAssignments[opts['--name']]; // its identity goes with it; its role assignments stay
      return null;
    case 'role assignment list':
      scopeMustBeGroup();
      return Object.entries(state.roleAssignments).map(([n, r]) => ({ id: `${mgScope}/providers/Microsoft.Authorization/roleAssignments/${n}`, name: n, principalId: r.principalId, roleDefinitionId: r.roleDefinitionId, scope: mgScope }));
    case 'role assignment delete': {
      const n = opts['--ids'].split('/').pop();
      if (!(n in state.roleAssignments)) throw new AzError('RoleAssignmentNotFound', opts['--ids'], 3);
      delete state.roleAssignments[n];
      return null;
    }
    case 'managedservices assignment list': {
      const defs = state.definitions[sub] ?? [];
      const withDefinition = opts['--include-definition'] === 'true';
      return (state.delegations[sub] ?? []).map((a) => ({
        id: `/subscriptions/${sub}/providers/Microsoft.ManagedServices/registrationAssignments/${a.name}`,
        name: a.name,
        properties: {
          registrationDefinitionId: `/subscriptions/${sub}/providers/Microsoft.ManagedServices/registrationDefinitions/${a.definition}`,
          ...(withDefinition ? { registrationDefinition: { properties: { managedByTenantId: defs.find((d) => d.name === a.definition)?.managedByTenantId } } } : {}),
        },
      }));
    }
    case 'managedservices assignment delete':
      state.delegations[sub] = (state.delegations[sub] ?? []).filter((a) => a.name !== opts['--assignment']);
      return null;
    case 'managedservices definition list':
      return (state.definitions[sub] ?? []).map((d) => ({ id: `/subscriptions/${sub}/providers/Microsoft.ManagedServices/registrationDefinitions/${d.name}`, name: d.name, properties: { managedByTenantId: d.managedByTenantId } }));
    case 'managedservices definition delete': {
      if ((state.delegations[sub] ?? []).some((a) => a.definition === opts['--definition'])) throw new AzError('CannotDeleteDefinition', 'the definition still has assignments');
      state.definitions[sub] = (state.definitions[sub] ?? []).filter((d) => d.name !== opts['--definition']);
      return null;
    }
  }
  throw new Refused(`az ${name}: not implemented`);
}

/** `az rest`: only the tenant-level Entra diagnostic settings, the one ARM API the material calls this way. */
function rest(opts) {
  const url = opts['--url'] ?? opts['--uri'];
  if (!url) throw new Refused('az rest: missing --url');
  if (/^https?:/i.test(url)) throw new Refused('az rest: the fake answers ARM paths without host only');
  const u = new URL(url, 'https://management.azure.com');
  const m = /^\/providers\/microsoft\.aadiam\/diagnosticSettings(?:\/([^/]+))?$/i.exec(u.pathname);
  if (!m) throw new Refused(`az rest: the fake knows only /providers/microsoft.aadiam/diagnosticSettings, not ${u.pathname}`);
  if (u.searchParams.get('api-version') !== '2017-04-01') throw new AzError('NoRegisteredProviderFound', `No registered resource provider found for API version '${u.searchParams.get('api-version')}'.`);
  const method = (opts['--method'] ?? 'get').toLowerCase();
  const settings = (state.entraDiagnosticSettings ??= {});
  const body = (name) => ({ id: `/providers/microsoft.aadiam/diagnosticSettings/${name}`, name, properties: settings[name] });
  if (method === 'get' && !m[1]) return { value: Object.keys(settings).map(body) };
  if (method === 'put' && m[1]) {
    let parsed;
    try {
      parsed = JSON.parse(opts['--body'] ?? '');
    } catch (e) {
      throw new AzError('InvalidRequestContent', `The request content was invalid and could not be deserialized: ${e.message}`);
    }
    const p = parsed.properties ?? {};
    if (!(state.workspaces ?? []).some((w) => w.toLowerCase() === String(p.workspaceId).toLowerCase())) throw new AzError('LinkedInvalidPropertyId', `Property id '${p.workspaceId}' is invalid.`);
    for (const l of p.logs ?? []) if (!ENTRA_CATEGORIES.includes(l.category)) throw new AzError('BadRequest', `Category '${l.category}' is not supported.`);
    settings[m[1]] = p;
    return body(m[1]);
  }
  throw new Refused(`az rest: the fake does not ${method} ${u.pathname}`);
}

function save() {
  const tmp = `${statePath}.${process.pid}`;
  writeFileSync(tmp, JSON.stringify(state, null, 1));
  renameSync(tmp, statePath);
}

let status = 0;
try {
  const cmd = parse(argv);
  let result = run(cmd);
  if (cmd.opts['--query'] !== undefined && result !== null) {
    try {
      result = jmespath.search(result, cmd.opts['--query']);
    } catch (e) {
      throw new AzError('JMESPath', `${e.name}: ${e.message}`); // az fails the command on a query it cannot evaluate
    }
  }
  if (result !== null && result !== undefined) process.stdout.write(cmd.opts['-o'] === 'tsv' ? tsv(result) : `${JSON.stringify(sortKeys(result), null, 2)}\n`);
} catch (e) {
  if (e instanceof Refused) {
    state.refused.push(e.message);
    process.stderr.write(`fake az refuses: ${e.message}\n`);
    status = 2;
  } else if (e instanceof AzError) {
    state.errors.push(`az ${argv.slice(0, 3).join(' ')}: ${e.message}`);
    process.stderr.write(`ERROR: ${e.message}\n`);
    status = e.exitCode;
  } else {
    // A fault of the fake or of the template it was given: as loud as a refusal.
    state.refused.push(`az ${argv.join(' ')}: ${e.stack ?? e}`);
    process.stderr.write(`fake az failed: ${e.stack ?? e}\n`);
    status = 2;
  }
}
state.calls.push({ args: argv, status });
save();
process.exit(status);
