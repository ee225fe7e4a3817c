import { parseSettings } from '../../../src/lib/config/settings.js';
import type { DiagnosticSettingsResource } from '@azure/arm-monitor';
import type { AzureClients } from '../../../src/lib/azure/clientFactory.js';
import { createMemoryRegistry } from '../../../src/lib/registry/memoryRegistry.js';
import type { TenantRegistry } from '../../../src/lib/registry/tenantRegistry.js';
import type { HubAssignment, TenantRecord } from '../../../src/lib/registry/types.js';
import { fakeDiagnosticSettings } from './fakeDiagnosticSettings.js';
import { ENTRA_TABLES } from '../../../src/lib/reconcile/entraLogs.js';

/**
 * A tiny in-memory stand-in for the ARM calls the reconciler makes (unit tests only; integration tests use
 * the ARM simulator). Only the members the reconciler touches are implemented; the cast is confined here.
 */
export interface FakeArmState {
  subscriptions: { subscriptionId: string; tenantId: string; state?: string; displayName?: string }[];
  resources: { id: string; name: string; type: string; location: string; kind?: string; sku?: { name: string }; subscriptionId: string; resourceGroup: string }[];
  groups: { id: string; name: string; location: string; subscriptionId: string }[];
  settings: Record<string, DiagnosticSettingsResource[]>;
  exports: Record<string, { name: string; destination?: { resourceId: string; eventHubName?: string }; tableNames?: string[]; enable?: boolean }[]>;
  automations: { id: string; name: string; isEnabled?: boolean; sources?: { eventSource?: string }[]; scopes?: { scopePath?: string }[]; actions?: { actionType: 'EventHub'; eventHubResourceId?: string; connectionString?: string }[] }[];
  /** Tables per workspace key (as in `exports`); a workspace not listed holds every Entra table. */
  tables?: Record<string, string[]>;
  /** Resource ids whose reads answer 403. */
  forbidden?: string[];
}

const restError = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode });

export function fakeArm(state: FakeArmState) {
  const diag = fakeDiagnosticSettings(state.settings);
  const calls: { kind: 'read' | 'write'; op: string }[] = [];
  const forbid = (id: string) => {
    if (state.forbidden?.some((f) => id.toLowerCase().includes(f.toLowerCase().replace(/^\//, '')))) throw restError(403, 'AuthorizationFailed');
  };
  const monitor = {
    // A quiet activity log: no change since anyone's last read.
    activityLogs: {
      list: () => ({
        async *byPage() {
          calls.push({ kind: 'read', op: 'activity log' });
          yield [];
        },
      }),
    },
    diagnosticSettings: {
      list: (uri: string) => {
        calls.push({ kind: 'read', op: `list ${uri}` });
        forbid(uri);
        return diag.api.list(uri);
      },
      createOrUpdate: (uri: string, name: string, p: DiagnosticSettingsResource) => {
        calls.push({ kind: 'write', op: `put ${uri}/${name}` });
        return diag.api.createOrUpdate(uri, name, p);
      },
      delete: (uri: string, name: string) => {
        calls.push({ kind: 'write', op: `delete ${uri}/${name}` });
        return diag.api.delete(uri, name);
      },
    },
  };
  const wsKey = (rg: string, ws: string) => Object.keys(state.exports).find((k) => k.toLowerCase().endsWith(`/resourcegroups/${rg.toLowerCase()}/providers/microsoft.operationalinsights/workspaces/${ws.toLowerCase()}`)) ?? '';
  const clients = {
    armEndpoint: 'https://fake',
    monitor: async () => monitor,
    subscriptions: async () => ({
      subscriptions: {
        async *list() {
          calls.push({ kind: 'read', op: 'subscriptions' });
          yield* state.subscriptions;
        },
      },
    }),
    resourceGraph: async () => ({
      resources: async (q: { subscriptions: string[]; query: string }) => {
        calls.push({ kind: 'read', op: 'graph' });
        const subs = new Set(q.subscriptions);
        const rows = q.query.startsWith('ResourceContainers')
          ? state.groups.filter((g) => subs.has(g.subscriptionId) && q.query.toLowerCase().includes(`'${g.name.toLowerCase()}'`))
          : state.resources.filter((r) => subs.has(r.subscriptionId));
        return { data: rows, count: rows.length, totalRecords: rows.length, resultTruncated: 'false' };
      },
    }),
    operationalInsights: async () => ({
      tables: {
        async *listByWorkspace(rg: string, ws: string) {
          calls.push({ kind: 'read', op: `tables ${ws}` });
          const k = wsKey(rg, ws);
          if (!k) throw restError(404, 'workspace not found');
          for (const name of state.tables?.[k] ?? ENTRA_TABLES) yield { name };
        },
      },
      dataExports: {
        async *listByWorkspace(rg: string, ws: string) {
          calls.push({ kind: 'read', op: `exports ${ws}` });
          const k = wsKey(rg, ws);
          if (!k) throw restError(404, 'workspace not found');
          yield* state.exports[k] ?? [];
        },
        createOrUpdate: async (rg: string, ws: string, name: string, body: { destination?: { resourceId: string; eventHubName?: string }; tableNames?: string[]; enable?: boolean }) => {
          calls.push({ kind: 'write', op: `export ${ws}/${name}` });
          const k = wsKey(rg, ws);
          state.exports[k] = [...(state.exports[k] ?? []).filter((r) => r.name !== name), { name, ...body }];
          return body;
        },
        delete: async (rg: string, ws: string, name: string) => {
          calls.push({ kind: 'write', op: `delete export ${ws}/${name}` });
          const k = wsKey(rg, ws);
          state.exports[k] = (state.exports[k] ?? []).filter((r) => r.name !== name);
        },
      },
    }),
    security: async (sub: string) => ({
      automations: {
        async *list() {
          calls.push({ kind: 'read', op: `automations ${sub}` });
          yield* state.automations.filter((a) => a.id.toLowerCase().startsWith(`/subscriptions/${sub}/`));
        },
        createOrUpdate: async (rg: string, name: string, body: Omit<FakeArmState['automations'][number], 'id' | 'name'>) => {
          calls.push({ kind: 'write', op: `automation ${name}` });
          const id = `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Security/automations/${name}`;
          state.automations = [...state.automations.filter((a) => a.id.toLowerCase() !== id.toLowerCase()), { ...body, id, name }];
          return body;
        },
        delete: async (rg: string, name: string) => {
          calls.push({ kind: 'write', op: `delete automation ${name}` });
          state.automations = state.automations.filter((a) => !(a.name === name && a.id.toLowerCase().includes(`/resourcegroups/${rg.toLowerCase()}/`)));
        },
      },
    }),
    eventHub: async () => ({
      eventHubs: {
        listKeys: async () => {
          calls.push({ kind: 'write', op: 'listKeys' });
          return { primaryConnectionString: 'Endpoint=sb://ns/;SharedAccessKeyName=mdr-send;SharedAccessKey=secret;EntityPath=h' };
        },
      },
    }),
    appService: async () => ({}),
    // No Lighthouse registration visible: offboarding finds no assignment of the provider to remove.
    managedServices: async () => ({
      listRegistrationAssignments: async () => {
        calls.push({ kind: 'read', op: 'registration assignments' });
        return [];
      },
      deleteRegistrationAssignment: async () => {
        calls.push({ kind: 'write', op: 'delete registration assignment' });
        return 'absent';
      },
    }),
  } as unknown as AzureClients;
  return { clients, calls, state, diag, writes: () => calls.filter((c) => c.kind === 'write') };
}

/** The onboarding helper's memory registry, seeded with tenants and hubs. */
export async function seededRegistry(tenants: TenantRecord[], hubs: HubAssignment[]): Promise<TenantRegistry> {
  const registry = createMemoryRegistry();
  for (const t of tenants) await registry.putTenant({ ...t, etag: undefined });
  for (const h of hubs) await registry.putHub(h);
  return registry;
}

export const ONE_SUB_TENANT = 'aaaaaaaa-0000-0000-0000-000000000001';
export const ONE_SUB = '00000000-0000-0000-0000-000000000001';

/**
 * The smallest reconcilable tenant: one subscription, only its activity log enabled, a ready westeurope hub, on a
 * fake ARM with nothing in it yet (the HTTP and CLI tests drive the reconciler through it).
 */
export async function oneSubscriptionTenant() {
  const P = 'bbbbbbbb-0000-0000-0000-000000000001';
  const NS = `/subscriptions/${P}/resourceGroups/r/providers/Microsoft.EventHub/namespaces/n`;
  const settings = parseSettings({ MDR_PROVIDER_TENANT_ID: P, MDR_PROVIDER_SUBSCRIPTION_ID: P, MDR_INGEST_PRINCIPAL_ID: P, AzureWebJobsStorage: 'UseDevelopmentStorage=true' });
  const tenant: TenantRecord = {
    tenantId: ONE_SUB_TENANT,
    displayName: 'Acme',
    regions: ['westeurope'],
    entraWorkspaceIds: [],
    options: { activityLog: true, storage: false, keyVault: false, entraDataExport: false, defenderAlerts: false, storageServices: [] },
    status: 'active',
    createdAt: 'x',
    updatedAt: 'x',
  };
  const hub: HubAssignment = { tenantId: ONE_SUB_TENANT, region: 'westeurope', namespace: 'n', namespaceId: NS, hub: 'h', consumerGroup: 'c', namespaceRuleId: `${NS}/authorizationRules/d`, sendRuleId: `${NS}/eventhubs/h/authorizationRules/s`, state: 'ready', createdAt: 'x' };
  const arm = fakeArm({ subscriptions: [{ subscriptionId: ONE_SUB, tenantId: ONE_SUB_TENANT }], resources: [], groups: [], settings: {}, exports: {}, automations: [] });
  const registry = await seededRegistry([tenant], [hub]);
  return { arm, registry, settings, deps: { settings, registry, clients: arm.clients } };
}
