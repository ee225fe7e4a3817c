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
