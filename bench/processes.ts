/** Child processes of the benchmark: the simulator, and measured runs (wall time, peak RSS). */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const HOOK = new URL('./rss-hook.js', import.meta.url).pathname;
export const TOKEN = 'bench_token_9f2c';
export const ACCOUNT = '1';

export interface SimulatorProcess {
  url: string;
  stats(): Promise<{ rowsServed: number; bytesServed: number; transactionRequests: number }>;
  append(rows: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startSimulator(flags: Record<string, string | number>): Promise<SimulatorProcess> {
  const args = Object.entries({ port: 0, token: TOKEN, 'account-id': ACCOUNT, ...flags }).flatMap(([key, value]) => [`--${key}`, String(value)]);
  const child = spawn(process.execPath, ['dist/src/bin/invoca-simulator.js', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const url = /listening on (\S+)/.exec(line)?.[1];
  if (!url) throw new Error(`the simulator did not start: ${line}`);
  return {
    url,
    stats: async () => (await (await fetch(`${url}/_sim/stats`)).json()) as Awaited<ReturnType<SimulatorProcess['stats']>>,
    append: async (rows) => {
      const response = await fetch(`${url}/_sim/append`, { method: 'POST', body: JSON.stringify({ rows }) });
      if (!response.ok) throw new Error(`append failed: ${response.status}`);
    },
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

export type Output = { kind: 'null' } | { kind: 'file'; path: string } | { kind: 'slow'; bytesPerSecond: number };

export interface Measured {
  seconds: number;
  peakRssMb: number;
  stdoutBytes: number;
  stderr: string;
}

/** Runs `node <script> <args>` with its stdin from a file (or none) and measures it; rejects on a non-zero exit. */
export async function measure(script: string, args: string[], options: { stdin?: string; stdout: Output; env?: Record<string, string> }): Promise<Measured> {
  const rssFile = join(tmpdir(), `bench-rss-${process.pid}-${Date.now()}`);
  const stdinFd = options.stdin ? openSync(options.stdin, 'r') : 'ignore';
  const out = options.stdout;
  const stdoutFd = out.kind === 'null' ? openSync('/dev/null', 'w') : out.kind === 'file' ? openSync(out.path, 'w') : 'pipe';
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', HOOK, script, ...args], {
    stdio: [stdinFd, stdoutFd, 'pipe'],
    env: { ...process.env, ...options.env, BENCH_RSS_FILE: rssFile },
  });
  for (const fd of [stdinFd, stdoutFd]) if (typeof fd === 'number') closeSync(fd);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  let stdoutBytes = 0;
  if (out.kind === 'slow' && child.stdout) readSlowly(child.stdout, out.bytesPerSecond, (bytes) => (stdoutBytes += bytes));
  const [code] = (await once(child, 'exit')) as [number | null];
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`${script} exited ${code}:\n${stderr.slice(-2000)}`);
  const peakKb = Number(readFileSync(rssFile, 'utf8'));
  rmSync(rssFile, { force: true });
  return { seconds, peakRssMb: peakKb / 1024, stdoutBytes, stderr };
}

/** A reader slower than the writer: pauses the stream to hold the given rate. */
function readSlowly(stream: NodeJS.ReadableStream, bytesPerSecond: number, count: (bytes: number) => void): void {
  const started = performance.now();
  let total = 0;
  stream.on('data', (chunk: Buffer) => {
    total += chunk.length;
    count(chunk.length);
    const aheadMs = (total / bytesPerSecond) * 1000 - (performance.now() - started);
    if (aheadMs > 5) {
      stream.pause();
      setTimeout(() => stream.resume(), aheadMs);
    }
  });
}
