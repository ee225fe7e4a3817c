import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The Node.js major version the apps run on in Azure: `functionAppConfig.runtime` of the Flex Consumption apps in
 * infra/main.bicep (the ingest apps' module declares the same; test/bench/results.test.ts checks both agree). The
 * bench measures on whatever node runs it; ratios move with the V8 version (bench/RESULTS.md), so the results say
 * which runtime they were measured on and whether it is the one the app ships on.
 */
export function shippedNodeMajor(root: string): string | undefined {
  const majors = ['infra/main.bicep', 'infra/modules/ingestApp.bicep'].map((f) => runtimeMajor(readFileSync(join(root, f), 'utf8')));
  const [control, ingest] = majors;
  return control !== undefined && control === ingest ? control : undefined;
}

const RUNTIME = /runtime:\s*\{\s*name:\s*'node',\s*version:\s*'(\d+)'\s*\}/;

export function runtimeMajor(bicep: string): string | undefined {
  return RUNTIME.exec(bicep)?.[1];
}

/** `v22.23.5` → `22`. */
export function nodeMajor(version: string): string {
  return version.replace(/^v/, '').split('.')[0] ?? version;
}
