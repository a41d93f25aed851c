import { spawn, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Fails the suite when an external tool it runs is missing. `npm test` installs them all first
 * (scripts/setup-tools.sh), so a suite is never skipped in silence.
 */
export function requireTools(paths: readonly string[], suite: string): void {
  const missing = paths.filter((path) => !existsSync(path));
  if (missing.length > 0) throw new Error(`${suite}: ${missing.join(', ')} missing; run scripts/setup-tools.sh (npm test runs it)`);
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, collecting its output; `input` is written to its stdin. */
export async function runProcess(
  command: string,
  args: readonly string[],
  options: SpawnOptions & { input?: string } = {},
): Promise<ProcessResult> {
  const child = spawn(command, args, { ...options, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr?.on('data', (data: Buffer) => (stderr += data.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', done));
  child.stdin?.end(options.input ?? '');
  return { code: await exited, stdout, stderr };
}
