/**
 * The deployment package's own package.json and package-lock.json: the runtime part of the project's, so that
 * whatever installs the package (our packaging, or Oryx if the app is published with a remote build) installs the
 * production dependencies at the versions the lockfile pins and runs no build step.
 */
type Json = Record<string, unknown>;

/** Keeps what the Functions worker and npm need at run time: no scripts (`prepare` would run tsc, which is a dev
 * dependency, on sources that are not shipped), no devDependencies, no CLI `bin`. */
export function productionPackageJson(pkg: Json): Json {
  const keep = ['name', 'version', 'description', 'private', 'type', 'main', 'engines', 'dependencies'];
  return Object.fromEntries(keep.filter((k) => k in pkg).map((k) => [k, pkg[k]]));
}

/** lockfileVersion 2/3: drops the packages only dev dependencies need (`"dev": true`) and the root's dev fields. */
export function productionLockfile(lock: Json): Json {
  const version = lock.lockfileVersion;
  if (version !== 2 && version !== 3) throw new Error(`package-lock.json lockfileVersion ${String(version)} is not supported (expected 2 or 3: run npm 7 or later)`);
  const packages = (lock.packages ?? {}) as Record<string, Json>;
  const kept: Record<string, Json> = {};
  for (const [key, entry] of Object.entries(packages)) {
    if (entry.dev === true) continue;
    if (key === '') {
      const { devDependencies: _d, bin: _b, ...root } = entry;
      kept[key] = root;
    } else kept[key] = entry;
  }
  const { dependencies: _v1, ...rest } = lock; // v1-style tree (lockfileVersion 2 keeps both): npm 7+ reads `packages`
  return { ...rest, packages: kept };
}
