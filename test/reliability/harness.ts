/**
 * What the reliability suites share: the real pipeline (`tap-invoca | target-invoca` into a
 * DuckDB file, as processes) that may fail or be killed, the merged tables of a DuckDB file for
 * comparison, a seeded random source, and the secret scan every suite runs over its outputs.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { openDuckDb } from '../../src/load/duckdb-warehouse.js';
import type { FaultSpec } from '../../src/simulator/faults.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { actual, type Expected } from '../helpers/merge-oracle.js';
import { simulator, TEST_TOKEN } from '../helpers/simulator.js';
import { jsonFile, tapConfig, tempDir } from '../helpers/tap.js';

/** A warehouse password that is easy to find if it leaks (configs carry it to the target). */
export const TEST_PASSWORD = 'pw_SECRET_b4d_f00d_9911';
export const SECRETS = [TEST_TOKEN, TEST_PASSWORD] as const;
/** The suites' page size: a 2,400-row feed is then six full pages and a short one. */
export const PAGE_SIZE = 400;

export interface PipelineRun {
  tapCode: number | null;
  tapSignal: NodeJS.Signals | null;
  targetCode: number | null;
  targetSignal: NodeJS.Signals | null;
  tapStdoutLines: number;
  tapStderr: string;
  targetStderr: string;
  /** The states target-invoca echoed: each is committed. */
  states: string[];
}

export interface PipelineOptions {
  /** Called once both processes run; may kill either. */
  onStart?: (processes: { tap: ChildProcessWithoutNullStreams; target: ChildProcessWithoutNullStreams; states: string[] }) => void;
  env?: NodeJS.ProcessEnv;
}

/** `tap-invoca <tapArgs> | target-invoca --config <loaderConfig>`: never throws on a failed or killed run. */
export async function pipeline(tapArgs: string[], loaderConfig: string, options: PipelineOptions = {}): Promise<PipelineRun> {
  const env = { ...process.env, ...options.env };
  const tap = spawn(process.execPath, ['dist/src/bin/tap-invoca.js', ...tapArgs], { env });
  const target = spawn(process.execPath, ['dist/src/bin/target-invoca.js', '--config', loaderConfig], { env });
  const exits = Promise.all([once(tap, 'exit'), once(target, 'exit')]);
  // As in a shell pipe: once the target is gone, the tap's next write fails (EPIPE).
  target.on('exit', () => tap.stdout.destroy());
  target.stdin.on('error', () => undefined);
  let tapStdoutLines = 0;
  tap.stdout.on('data', (chunk: Buffer) => {
    for (const byte of chunk) if (byte === 10) tapStdoutLines++;
  });
  tap.stdout.pipe(target.stdin);
  let tapStderr = '';
  let targetStderr = '';
  let targetStdout = '';
  const states: string[] = [];
  tap.stderr.on('data', (data: Buffer) => (tapStderr += data.toString()));
  target.stderr.on('data', (data: Buffer) => (targetStderr += data.toString()));
  target.stdout.on('data', (data: Buffer) => {
    targetStdout += data.toString();
    const lines = targetStdout.split('\n');
    targetStdout = lines.pop() ?? '';
    states.push(...lines.filter(Boolean));
  });
  options.onStart?.({ tap, target, states });
  const [[tapCode, tapSignal], [targetCode, targetSignal]] = (await exits) as [
    [number | null, NodeJS.Signals | null],
    [number | null, NodeJS.Signals | null],
  ];
  if (targetStdout) states.push(targetStdout);
  return { tapCode, tapSignal, targetCode, targetSignal, tapStdoutLines, tapStderr, targetStderr, states };
}

/** Runs `body` with the simulator's faults set, and clears them however it ends. */
export async function withFaults<T>(sim: RunningSimulator, faults: FaultSpec[], body: () => Promise<T>): Promise<T> {
  sim.setFaults(faults);
  try {
    return await body();
  } finally {
    sim.setFaults([]);
  }
}

/** Calls `action` once, when `marker` has passed `count` times in `stream` (markers split across chunks count). */
export function onOccurrences(stream: Readable, marker: string, count: number, action: () => void): void {
  let seen = 0;
  let tail = '';
  const onData = (chunk: Buffer): void => {
    const text = tail + chunk.toString('latin1');
    for (let at = text.indexOf(marker); at !== -1; at = text.indexOf(marker, at + marker.length)) seen++;
    tail = text.slice(Math.max(0, text.length - marker.length + 1));
    if (seen >= count) {
      stream.off('data', onData);
      action();
    }
  };
  stream.on('data', onData);
}

/** The merged tables of a DuckDB file, in the merge model's shape (order-free). */
export async function mergedTables(path: string): Promise<Expected> {
  const warehouse = await openDuckDb({ path, schema: 'main' });
  try {
    return await actual(warehouse);
  } finally {
    await warehouse.close();
  }
}

export interface Workspace {
  dir: string;
  tapConfig: (extra?: Record<string, unknown>) => Promise<string>;
  loaderConfig: (database: string, extra?: Record<string, unknown>) => Promise<string>;
  stateFile: (state: string | undefined) => Promise<string[]>;
}

export function workspace(sim: RunningSimulator, dir: string): Workspace {
  return {
    dir,
    tapConfig: (extra = {}) => jsonFile({ ...tapConfig(sim), page_size: PAGE_SIZE, ...extra }, 'tap.json'),
    loaderConfig: (database, extra = {}) =>
      jsonFile({ duckdb: { path: join(dir, database) }, batch_size_rows: 900, ...extra }, 'loader.json'),
    stateFile: async (state) => (state === undefined ? [] : ['--state', await jsonFile(JSON.parse(state) as unknown, 'state.json')]),
  };
}

/** A clean run of the whole feed into `database`: the reference the fault and kill cases must equal. */
export async function cleanRun(space: Workspace, database: string): Promise<Expected> {
  const run = await pipeline(['--config', await space.tapConfig()], await space.loaderConfig(database));
  if (run.tapCode !== 0 || run.targetCode !== 0) throw new Error(`the clean run failed:\n${run.tapStderr}\n${run.targetStderr}`);
  return mergedTables(join(space.dir, database));
}

export interface CleanFixture {
  sim: RunningSimulator;
  space: Workspace;
  clean: Expected;
}

/** The suites' shared start: a 2,400-row feed, its workspace, and a clean run to compare with. */
export async function cleanFixture(): Promise<CleanFixture> {
  const sim = await simulator({ rows: 2_400, seed: 21 });
  const space = workspace(sim, await tempDir());
  return { sim, space, clean: await cleanRun(space, 'clean.duckdb') };
}

/** mulberry32: a small seeded generator, so a failing soak case can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Where a secret was found: in which output or file. Empty when none leaked. */
export function secretLeaks(
  outputs: Record<string, string>,
  directories: readonly string[] = [],
  allowedFiles: readonly string[] = [],
): string[] {
  const leaks: string[] = [];
  for (const [name, text] of Object.entries(outputs)) {
    for (const secret of SECRETS) if (text.includes(secret)) leaks.push(`${secret} in ${name}`);
  }
  for (const directory of directories) {
    for (const file of filesUnder(directory)) {
      // The config files the user wrote hold the secrets by design.
      if (allowedFiles.some((allowed) => file.endsWith(allowed))) continue;
      const bytes = readFileSync(file);
      for (const secret of SECRETS) if (bytes.includes(secret)) leaks.push(`${secret} in ${file}`);
    }
  }
  return leaks;
}

function filesUnder(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}
