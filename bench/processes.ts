/** Child processes of the benchmark: the simulator, and measured runs (wall time, peak RSS). */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, createWriteStream, openSync, readFileSync, rmSync } from 'node:fs';
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
  const args = Object.entries({ port: 0, token: TOKEN, 'account-id': ACCOUNT, ...flags }).flatMap(([key, value]) => [
    `--${key}`,
    String(value),
  ]);
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

interface MeasureOptions {
  stdin?: string;
  stdout: Output;
  env?: Record<string, string>;
}

/** Runs `node <script> <args>` with its stdin from a file (or none) and measures it; rejects on a non-zero exit. */
export async function measure(script: string, args: string[], options: MeasureOptions): Promise<Measured> {
  return measureCommand(script, process.execPath, ['--import', HOOK, script, ...args], options);
}

/**
 * Runs the `main()` of a Python module (a Singer target's entry point) with `python`, measured
 * like a Node program: the wrapper writes the process's peak RSS at exit, as rss-hook does.
 */
export async function measurePython(python: string, module: string, args: string[], options: MeasureOptions): Promise<Measured> {
  const wrapper = [
    'import atexit, importlib, os, resource, sys',
    'module = sys.argv[1]',
    'sys.argv = [module] + sys.argv[2:]',
    "atexit.register(lambda: open(os.environ['BENCH_RSS_FILE'], 'w').write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))",
    'sys.exit(importlib.import_module(module).main())',
  ].join('\n');
  return measureCommand(module, python, ['-c', wrapper, module, ...args], options);
}

async function measureCommand(name: string, command: string, args: string[], options: MeasureOptions): Promise<Measured> {
  const rssFile = join(tmpdir(), `bench-rss-${process.pid}-${Date.now()}`);
  const stdinFd = options.stdin ? openSync(options.stdin, 'r') : 'ignore';
  const out = options.stdout;
  const stdoutFd = out.kind === 'null' ? openSync('/dev/null', 'w') : out.kind === 'file' ? openSync(out.path, 'w') : 'pipe';
  const started = performance.now();
  const child = spawn(command, args, {
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
  if (code !== 0) throw new Error(`${name} exited ${code}:\n${stderr.slice(-2000)}`);
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

export interface MeasuredPipeline {
  seconds: number;
  tapPeakRssMb: number;
  targetPeakRssMb: number;
  /** The states target-invoca echoed, in order. */
  states: string[];
}

/**
 * `tap | target` as a shell runs it, optionally with a copy of the tap's output written to a file
 * on the way (a tee that waits for the slower of the two, so backpressure holds).
 */
export async function measurePipeline(tapArgs: string[], targetArgs: string[], teeFile?: string): Promise<MeasuredPipeline> {
  const rss = (name: string): string => join(tmpdir(), `bench-rss-${process.pid}-${name}-${Date.now()}`);
  const [tapRss, targetRss] = [rss('tap'), rss('target')];
  const started = performance.now();
  const spawnMeasured = (script: string, args: string[], file: string) =>
    spawn(process.execPath, ['--import', HOOK, script, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, BENCH_RSS_FILE: file },
    });
  const tap = spawnMeasured('dist/src/bin/tap-invoca.js', tapArgs, tapRss);
  const target = spawnMeasured('dist/src/bin/target-invoca.js', targetArgs, targetRss);
  let stderr = '';
  for (const child of [tap, target]) child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)));
  let stdout = '';
  target.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const copy = teeFile ? createWriteStream(teeFile) : undefined;
  tap.stdout.on('data', (chunk: Buffer) => {
    const waits = [target.stdin.write(chunk), copy ? copy.write(chunk) : true];
    if (waits.every(Boolean)) return;
    tap.stdout.pause();
    let pending = waits.filter((ok) => !ok).length;
    const resume = (): void => {
      if (--pending === 0) tap.stdout.resume();
    };
    if (!waits[0]) target.stdin.once('drain', resume);
    if (!waits[1]) copy?.once('drain', resume);
  });
  tap.stdout.on('end', () => {
    target.stdin.end();
    copy?.end();
  });
  const [[tapCode], [targetCode]] = (await Promise.all([once(tap, 'exit'), once(target, 'exit')])) as [[number | null], [number | null]];
  if (copy && !copy.closed) await once(copy, 'close');
  const seconds = (performance.now() - started) / 1000;
  if (tapCode !== 0 || targetCode !== 0) throw new Error(`tap exited ${tapCode}, target ${targetCode}:\n${stderr.slice(-2000)}`);
  const peak = (file: string): number => {
    const kb = Number(readFileSync(file, 'utf8'));
    rmSync(file, { force: true });
    return kb / 1024;
  };
  return { seconds, tapPeakRssMb: peak(tapRss), targetPeakRssMb: peak(targetRss), states: stdout.split('\n').filter(Boolean) };
}
