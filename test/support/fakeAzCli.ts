import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Test-only: a temporary folder where the real `bash` runs shell text with the fake `az` (fakeAz.cjs) first on
// PATH. The fake keeps Azure's side in state.json between invocations; this class seeds and reads it.

const FAKE_AZ = path.resolve(import.meta.dirname, 'fakeAz.cjs');

export interface FakeAzState {
  managementGroup: string;
  entities: unknown[];
  principals: number;
  policyDefinitions: Record<string, { detailsType: string }>;
  policyAssignments: Record<string, { principalId: string; definition: string; parameters: Record<string, unknown> }>;
  roleAssignments: Record<string, { principalId: string; roleDefinitionId: string }>;
  providers: Record<string, 'Registering' | 'Registered'>;
  definitions: Record<string, { name: string; managedByTenantId: string }[]>;
  delegations: Record<string, { name: string; definition: string }[]>;
  automationGroups: string[];
  /** Log Analytics workspaces (ARM ids) that exist, and the tenant's Entra diagnostic settings by name (`az rest`). */
  workspaces: string[];
  entraDiagnosticSettings: Record<string, { workspaceId: string; logs: { category: string; enabled: boolean }[] }>;
  /** Every az invocation in order, with its exit status. */
  calls: { args: string[]; status: number }[];
  /** Azure's errors (what az prints as ERROR:). */
  errors: string[];
  /** Commands or options the fake does not implement. */
  refused: string[];
}

export interface BashRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export class FakeAzCli {
  readonly dir: string;
  private readonly statePath: string;
  private readonly bin: string;

  constructor(seed: { managementGroup: string; entities: unknown[]; workspaces?: string[] }) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'fake-az-'));
    this.bin = path.join(this.dir, 'bin');
    mkdirSync(this.bin);
    // The shim names node by absolute path, so the script's PATH does not decide which node runs the fake.
    writeFileSync(path.join(this.bin, 'az'), `#!/bin/sh\nexec '${process.execPath}' '${FAKE_AZ}' "$@"\n`);
    chmodSync(path.join(this.bin, 'az'), 0o755);
    this.statePath = path.join(this.dir, 'state.json');
    const state: FakeAzState = {
      ...seed,
      workspaces: seed.workspaces ?? [],
      entraDiagnosticSettings: {},
      principals: 0,
      policyDefinitions: {},
      policyAssignments: {},
      roleAssignments: {},
      providers: {},
      definitions: {},
      delegations: {},
      automationGroups: [],
      calls: [],
      errors: [],
      refused: [],
    };
    writeFileSync(this.statePath, JSON.stringify(state));
  }

  /** Writes a file into the working folder (e.g. the template the commands deploy by file name). */
  writeFile(name: string, content: string): void {
    writeFileSync(path.join(this.dir, name), content);
  }

  state(): FakeAzState {
    return JSON.parse(readFileSync(this.statePath, 'utf8')) as FakeAzState;
  }

  /** Runs `script` exactly as given with bash (no profile, no rc files) in the working folder. Throws when the fake refused anything. */
  async bash(script: string): Promise<BashRun> {
    const before = this.state().refused.length;
    const run = await new Promise<BashRun>((resolve, reject) => {
      const child = spawn('bash', ['--noprofile', '--norc', '-c', script], {
        cwd: this.dir,
        env: { PATH: `${this.bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: this.dir, LANG: 'C.UTF-8', FAKE_AZ_STATE: this.statePath },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
    const refused = this.state().refused.slice(before);
    if (refused.length > 0) throw new Error(`the fake az refused:\n${refused.join('\n')}\nstderr:\n${run.stderr}`);
    return run;
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
