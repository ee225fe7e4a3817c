import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root: the nearest folder above this module with a package.json (works from scripts/ and dist/scripts/). */
export function repoRoot(from: string = import.meta.dirname): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'test', 'fixtures'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no repository root (package.json + test/fixtures) above ${from}`);
    dir = up;
  }
}
