import { GUID_PATTERN } from '../lib/guid.js';

/** What every `azure-mdr` command module exports. Commands never touch process.* directly: all I/O goes through `io`. */
export interface CliIo {
  stdin: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  env: Record<string, string | undefined>;
}

export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  /** Returns the process exit code (0 ok, 1 failure, 2 usage error). */
  run(argv: string[], io: CliIo): Promise<number>;
}

/** Thrown by commands for bad arguments; main prints the message and the command's usage, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The value of a required `--tenant <id>`, or a UsageError when it is missing or not a GUID. */
export function requireTenantArg(tenant: string | undefined): string {
  if (!tenant || !GUID_PATTERN.test(tenant)) throw new UsageError('--tenant <id> is required (a tenant GUID)');
  return tenant;
}
