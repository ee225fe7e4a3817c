import type { AzureClients } from '../../../src/lib/azure/clientFactory.js';

/**
 * In-memory stand-in for the provider-side ARM calls onboarding makes (Event Hubs + the app's own settings), for
 * unit tests of handlers. Records every call as `METHOD path`. Integration tests use the HTTPS simulator instead.
 */
export function fakeProviderArm(initialAppSettings: Record<string, string> = {}) {
  const calls: string[] = [];
  const objects = new Map<string, Record<string, unknown>>();
  let appSettings = { ...initialAppSettings };
  const notFound = () => Object.assign(new Error('ResourceNotFound'), { statusCode: 404, code: 'ResourceNotFound' });
  const get = (p: string) => {
    calls.push(`GET ${p}`);
    const o = objects.get(p);
    if (!o) throw notFound();
    return structuredClone(o);
  };
  const put = (p: string, body: Record<string, unknown>) => {
    calls.push(`PUT ${p}`);
    objects.set(p, { ...body, provisioningState: 'Succeeded' });
    return structuredClone(body);
  };
  const del = (p: string) => {
    calls.push(`DELETE ${p}`);
    for (const k of [...objects.keys()]) if (k === p || k.startsWith(`${p}/`)) objects.delete(k);
  };
  const ns = (rg: string, n: string) => `/rg/${rg}/ns/${n}`;
  const eh = {
    namespaces: {
      get: async (rg: string, n: string) => get(ns(rg, n)),
      createOrUpdate: async (rg: string, n: string, b: Record<string, unknown>) => put(ns(rg, n), b),
      getAuthorizationRule: async (rg: string, n: string, r: string) => get(`${ns(rg, n)}/rules/${r}`),
      createOrUpdateAuthorizationRule: async (rg: string, n: string, r: string, b: Record<string, unknown>) => put(`${ns(rg, n)}/rules/${r}`, b),
    },
    eventHubs: {
      get: async (rg: string, n: string, h: string) => get(`${ns(rg, n)}/hubs/${h}`),
      createOrUpdate: async (rg: string, n: string, h: string, b: Record<string, unknown>) => put(`${ns(rg, n)}/hubs/${h}`, b),
      delete: async (rg: string, n: string, h: string) => del(`${ns(rg, n)}/hubs/${h}`),
      getAuthorizationRule: async (rg: string, n: string, h: string, r: string) => get(`${ns(rg, n)}/hubs/${h}/rules/${r}`),
      createOrUpdateAuthorizationRule: async (rg: string, n: string, h: string, r: string, b: Record<string, unknown>) => put(`${ns(rg, n)}/hubs/${h}/rules/${r}`, b),
    },
    consumerGroups: {
      get: async (rg: string, n: string, h: string, c: string) => get(`${ns(rg, n)}/hubs/${h}/cgs/${c}`),
      createOrUpdate: async (rg: string, n: string, h: string, c: string, b: Record<string, unknown>) => put(`${ns(rg, n)}/hubs/${h}/cgs/${c}`, b),
    },
  };
  const web = {
    webApps: {
      listApplicationSettings: async () => {
        calls.push('POST appsettings/list');
        return { properties: { ...appSettings } };
      },
      updateApplicationSettings: async (_rg: string, _n: string, d: { properties?: Record<string, string> }) => {
        calls.push('PUT appsettings');
        appSettings = { ...(d.properties ?? {}) };
        return d;
      },
    },
  };
  const clients = { armEndpoint: 'https://fake', eventHub: async () => eh, appService: async () => web } as unknown as AzureClients;
  return { clients, calls, objects, appSettings: () => ({ ...appSettings }), writes: () => calls.filter((c) => !c.startsWith('GET') && !c.startsWith('POST')) };
}
