import type { DiagnosticSettingsResource } from '@azure/arm-monitor';
import type { DiagnosticSettingsApi } from '../../../src/lib/reconcile/diagnosticSetting.js';

/** In-memory diagnostic settings per resource URI, recording writes (unit/property tests only). */
export function fakeDiagnosticSettings(initial: Record<string, DiagnosticSettingsResource[]> = {}) {
  const store = new Map<string, Map<string, DiagnosticSettingsResource>>();
  for (const [uri, list] of Object.entries(initial)) store.set(uri.toLowerCase(), new Map(list.map((s) => [(s.name ?? '').toLowerCase(), s])));
  const writes: { op: 'put' | 'delete'; uri: string; name: string }[] = [];
  const api: DiagnosticSettingsApi = {
    async *list(uri) {
      if (uri.startsWith('/')) throw new Error('resourceUri must not start with /');
      yield* [...(store.get(uri.toLowerCase())?.values() ?? [])];
    },
    async createOrUpdate(uri, name, parameters) {
      writes.push({ op: 'put', uri, name });
      const m = store.get(uri.toLowerCase()) ?? new Map<string, DiagnosticSettingsResource>();
      store.set(uri.toLowerCase(), m);
      const s = { ...parameters, name };
      m.set(name.toLowerCase(), s);
      return s;
    },
    async delete(uri, name) {
      writes.push({ op: 'delete', uri, name });
      store.get(uri.toLowerCase())?.delete(name.toLowerCase());
    },
  };
  return { api, store, writes };
}
