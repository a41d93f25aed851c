import { spawn, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Whether the external tools a suite needs are installed (.ci/run installs them all). In CI a
 * missing tool fails the run; on a developer's machine the suite is skipped with the reason.
 */
export function toolsAvailable(paths: readonly string[], suite: string): boolean {
  const missing = paths.filter((path) => !existsSync(path));
  if (missing.length === 0) return true;
  if (process.env['CI']) throw new Error(`${suite}: ${missing.join(', ')} missing; .ci/run must install it`);
  console.warn(`skipping ${suite}: ${missing.join(', ')} missing (.ci/run installs it)`);
  return false;
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, collecting its output; `input` is written to its stdin. */
export async function runProcess(command: string, args: readonly string[], options: SpawnOptions & { input?: string } = {}): Promise<ProcessResult> {
  const child = spawn(command, args, { ...options, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr?.on('data', (data: Buffer) => (stderr += data.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', done));
  child.stdin?.end(options.input ?? '');
  return { code: await exited, stdout, stderr };
}
