import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { commands } from './commands/index.js';
import { UsageError, type CliCommand, type CliIo } from './types.js';

/** `azure-mdr <command> [options]` — dispatches to the modules listed in commands/index.ts. */
function topUsage(list: readonly CliCommand[]): string {
  const width = Math.max(...list.map((c) => c.name.length));
  return [
    'usage: azure-mdr <command> [options]',
    '',
    'commands:',
    ...list.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "run 'azure-mdr <command> --help' for a command's options",
    '',
  ].join('\n');
}

export async function main(argv: string[], io: CliIo, list: readonly CliCommand[] = commands): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? io.stdout : io.stderr).write(topUsage(list));
    return name ? 0 : 2;
  }
  const cmd = list.find((c) => c.name === name);
  if (!cmd) {
    io.stderr.write(`azure-mdr: unknown command '${name}'\n\n${topUsage(list)}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${cmd.usage.trimEnd()}\n`);
    return 0;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`azure-mdr ${cmd.name}: ${(e as Error).message}\n\n${cmd.usage.trimEnd()}\n`);
      return 2;
    }
    io.stderr.write(`azure-mdr ${cmd.name}: ${(e as Error).message ?? String(e)}\n`);
    return 1;
  }
}

export const processIo: CliIo = {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
};

/**
 * Operators run the CLI with the Function App's settings: the process environment, over the `Values` of a
 * local.settings.json (`AZURE_MDR_SETTINGS=path`, else ./local.settings.json when present).
 */
export function envWithSettingsFile(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): Record<string, string | undefined> {
  const file = env.AZURE_MDR_SETTINGS ?? path.join(cwd, 'local.settings.json');
  if (!existsSync(file)) {
    if (env.AZURE_MDR_SETTINGS) throw new UsageError(`AZURE_MDR_SETTINGS points at ${file}, which does not exist`);
    return env;
  }
  let values: unknown;
  try {
    values = (JSON.parse(readFileSync(file, 'utf8')) as { Values?: unknown }).Values;
  } catch (e) {
    throw new UsageError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (values === undefined) return env;
  if (typeof values !== 'object' || values === null || Array.isArray(values)) throw new UsageError(`${file}: "Values" must be an object of app settings`);
  const fromFile = Object.fromEntries(Object.entries(values).filter((kv): kv is [string, string] => typeof kv[1] === 'string' && kv[1] !== ''));
  return { ...fromFile, ...env };
}

/** Entry point used by bin/azure-mdr.js. */
export async function cliMain(argv: string[] = process.argv.slice(2)): Promise<number> {
  // `azure-mdr normalize … | head` closes the pipe early: stop quietly instead of crashing on EPIPE.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  let env: Record<string, string | undefined>;
  try {
    env = envWithSettingsFile(process.env);
  } catch (e) {
    process.stderr.write(`azure-mdr: ${(e as Error).message}\n`);
    return 2;
  }
  return main(argv, { ...processIo, env });
}
