import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { AzuriteHandle } from '../../sim/azurite.js';
import { MAX_ENV_STRING_BYTES, settingsSize } from '../../src/lib/fleet/settingsLimits.js';
import { startFleetWorld } from './fleetWorld.js';

/**
 * The ingest fleet at scale (docs/fleet.md): tenants × regions onboarded one after another through the real PUT
 * handler into a pool of ingest apps, on Azurite and the ARM simulator. Per onboarding, the simulator's request
 * log says which ingest apps had their settings written (each write restarts that app: the target is one); at the
 * end, the simulator holds every app's settings, whose largest environment string is measured against the Linux
 * limit. One more onboarding into the full fleet must be refused with a capacity error.
 */
export interface FleetBenchOptions {
  tenants: number;
  regions: string[];
  apps: number;
  maxHubsPerApp: number;
  azurite?: AzuriteHandle;
  progress?: (line: string) => void;
  /** Repository root, to load the built app for `registrationLoad` (skipped without it). */
  root?: string;
  /** Binding counts for `registrationLoad`. */
  registrationSizes?: number[];
}

export interface FleetBenchResult {
  tenants: number;
  regions: number;
  hubs: number;
  apps: number;
  maxHubsPerApp: number;
  onboardings: number;
  /** Per onboarding, in order: how many ingest apps had their settings rewritten (each write restarts that app). */
  appsRewrittenPerOnboarding: number[];
  /** The same as counts: how many onboardings rewrote 0, 1, 2… apps (the target: every one exactly 1). */
  appsRewrittenHistogram: Record<string, number>;
  maxAppsRewrittenPerOnboarding: number;
  /** Per ingest app at the end: bindings, its largest environment string (MDR_INGEST_BINDINGS) and all its settings. */
  perApp: { app: string; bindings: number; largestSettingBytes: number; totalSettingsBytes: number }[];
  largestSettingBytes: number;
  limitBytes: number;
  /** largestSettingBytes / limitBytes. */
  largestSettingToLimit: number;
  /** What one app's setting would be with every hub in it (the design before the fleet). */
  singleAppSettingBytes: number;
  onboardingsPerMinute: number;
  /** Median and slowest single onboarding, ms (includes the pool's namespace creations). */
  onboardingMsMedian: number;
  onboardingMsMax: number;
  wallSeconds: number;
  /** The next onboarding into the full fleet answered 503 with problem type capacity. */
  fullFleetRefused: boolean | null;
  /** Bindings found in two apps' settings at the end (must be 0). */
  duplicateBindings: number;
  /** Ready hubs missing from every app's settings at the end (must be 0). */
  missingBindings: number;
  /**
   * An ingest app's start with N bindings: the built app loaded as the worker loads it (test/support stand-in for
   * the host), per N its registered triggers and load time in ms. What a restart costs the worker side; the host's
   * own listener start is not measurable here.
   */
  registrationLoad: { bindings: number; registered: number; loadMs: number }[];
}

/** Deterministic tenant GUIDs, so runs are comparable. */
function tenantIdOf(i: number): string {
  const h = createHash('sha256').update(`fleet-tenant-${i}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;

/** Loads the built app in ingest role with `n` bindings (10 hubs per namespace) and reports what registered. */
export function registrationLoad(root: string, n: number): { bindings: number; registered: number; loadMs: number } {
  const bindings = Array.from({ length: n }, (_, i) => {
    const ns = `mdr-ingest-westeurope-${String(Math.floor(i / 10) + 1).padStart(2, '0')}`;
    return { tenantId: tenantIdOf(i), region: 'westeurope', namespace: ns, hub: `mdr-${tenantIdOf(i)}`, consumerGroup: 'mdr-ingest', connection: `MDR_EHNS_${ns.toUpperCase().replace(/-/g, '_')}` };
  });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    MDR_PROVIDER_TENANT_ID: '11111111-1111-1111-1111-111111111111',
    MDR_PROVIDER_SUBSCRIPTION_ID: '22222222-2222-2222-2222-222222222222',
    MDR_INGEST_PRINCIPAL_ID: '33333333-3333-3333-3333-333333333333',
    AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    MDR_APP_ROLE: 'ingest',
    MDR_INGEST_BINDINGS: JSON.stringify(bindings),
  };
  for (const b of bindings) env[`${b.connection}__fullyQualifiedNamespace`] = `${b.namespace}.servicebus.windows.net`;
  const r = spawnSync(process.execPath, ['--require', './test/support/fakeFunctionsCore.cjs', './test/support/listRegistrations.mjs'], { cwd: root, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`loading the app with ${n} bindings failed: ${r.stderr.split('\n').find((l) => l.trim()) ?? r.status}`);
  const out = JSON.parse(r.stdout) as { loadMs: number; registrations: { name: string }[] };
  return { bindings: n, registered: out.registrations.filter((x) => x.name.startsWith('ingest-')).length, loadMs: round(out.loadMs, 1) };
}

export async function runFleetBench(o: FleetBenchOptions): Promise<FleetBenchResult> {
  const say = o.progress ?? (() => {});
  const world = await startFleetWorld({ apps: o.apps, maxHubsPerApp: o.maxHubsPerApp, regions: o.regions, ...(o.azurite ? { azurite: o.azurite } : {}) });
  try {
    const histogram: Record<string, number> = {};
    const perOnboarding: number[] = [];
    const times: number[] = [];
    const started = process.hrtime.bigint();
    for (let i = 0; i < o.tenants; i++) {
      world.sim.clearRequests();
      const t0 = process.hrtime.bigint();
      const res = await world.put(tenantIdOf(i));
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (res.status !== 201) throw new Error(`onboarding ${i + 1} answered ${res.status}: ${JSON.stringify(res.jsonBody).slice(0, 300)}`);
      const n = world.appsWritten().length;
      perOnboarding.push(n);
      histogram[String(n)] = (histogram[String(n)] ?? 0) + 1;
      if ((i + 1) % 100 === 0) say(`  fleet: ${i + 1}/${o.tenants} tenants onboarded`);
    }
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;

    let fullFleetRefused: boolean | null = null;
    if (o.tenants * o.regions.length === o.apps * o.maxHubsPerApp) {
      const r = await world.put(tenantIdOf(o.tenants));
      fullFleetRefused = r.status === 503 && String(r.jsonBody.type ?? '').endsWith('capacity');
    }

    const perApp = world.apps.map((a) => {
      const s = world.appSettings(a.name);
      const size = settingsSize(s);
      return { app: a.name, bindings: (JSON.parse(s.MDR_INGEST_BINDINGS ?? '[]') as unknown[]).length, largestSettingBytes: size.largest.bytes, totalSettingsBytes: size.totalBytes };
    });
    const seen = new Map<string, number>();
    for (const a of world.apps) for (const b of JSON.parse(world.appSettings(a.name).MDR_INGEST_BINDINGS ?? '[]') as { tenantId: string; region: string }[]) seen.set(`${b.tenantId}/${b.region}`, (seen.get(`${b.tenantId}/${b.region}`) ?? 0) + 1);
    const hubs = (await world.registry.listHubs()).filter((h) => h.state === 'ready');
    const allBindings = hubs.length;
    const perBinding = perApp.reduce((s, a) => s + a.largestSettingBytes, 0) / Math.max(1, perApp.reduce((s, a) => s + a.bindings, 0));
    const largest = Math.max(0, ...perApp.map((a) => a.largestSettingBytes));
    const sorted = [...times].sort((a, b) => a - b);
    return {
      tenants: o.tenants,
      regions: o.regions.length,
      hubs: allBindings,
      apps: o.apps,
      maxHubsPerApp: o.maxHubsPerApp,
      onboardings: o.tenants,
      appsRewrittenPerOnboarding: perOnboarding,
      appsRewrittenHistogram: histogram,
      maxAppsRewrittenPerOnboarding: Math.max(0, ...Object.keys(histogram).map(Number)),
      perApp,
      largestSettingBytes: largest,
      limitBytes: MAX_ENV_STRING_BYTES,
      largestSettingToLimit: round(largest / MAX_ENV_STRING_BYTES),
      singleAppSettingBytes: Math.round(perBinding * allBindings),
      onboardingsPerMinute: round((o.tenants / wallSeconds) * 60, 1),
      onboardingMsMedian: round(sorted[Math.floor(sorted.length / 2)] ?? 0, 1),
      onboardingMsMax: round(sorted[sorted.length - 1] ?? 0, 1),
      wallSeconds: round(wallSeconds, 2),
      fullFleetRefused,
      duplicateBindings: [...seen.values()].filter((n) => n > 1).length,
      missingBindings: hubs.filter((h) => !seen.has(`${h.tenantId}/${h.region}`)).length,
      registrationLoad: o.root ? (o.registrationSizes ?? [1, o.maxHubsPerApp]).map((n) => registrationLoad(o.root!, n)) : [],
    };
  } finally {
    await world.stop();
  }
}
