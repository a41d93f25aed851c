/**
 * The reliability matrix as plain functions, so that jest runs a fixed-seed subset and
 * `npm run soak` runs them for a set time with varying seeds. Each case throws an Error that
 * names what went wrong, and returns its figures when it holds.
 */
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import type { FaultSpec } from '../../src/simulator/faults.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import type { Expected } from '../helpers/merge-oracle.js';
import {
  mergedTables,
  PAGE_SIZE,
  pipeline,
  secretLeaks,
  seededRandom,
  onOccurrences,
  withFaults,
  type PipelineRun,
  type Workspace,
} from './harness.js';

export interface CaseFigures {
  runs: number;
  retriesLogged: number;
  kills: number;
  rowsCompared: number;
}

export interface RecoverableCase {
  name: string;
  faults: (after: number) => FaultSpec[];
  tapConfig?: Record<string, unknown>;
}

/** Faults the tap must ride out: the run succeeds and the merged tables equal the clean run's. */
export const RECOVERABLE: readonly RecoverableCase[] = [
  { name: '429 burst with Retry-After', faults: (after) => [{ kind: 'status', status: 429, retryAfter: '1', times: 2, after }] },
  { name: '429 burst without Retry-After', faults: (after) => [{ kind: 'status', status: 429, times: 3, after }] },
  ...[500, 502, 503, 504].map((status) => ({
    name: `HTTP ${status}`,
    faults: (after: number): FaultSpec[] => [{ kind: 'status', status, times: 2, after }],
  })),
  { name: 'HTML page with status 200', faults: (after) => [{ kind: 'html', after }] },
  { name: 'truncated JSON', faults: (after) => [{ kind: 'truncated', times: 2, after }] },
  { name: 'malformed JSON', faults: (after) => [{ kind: 'malformed', after }] },
  { name: 'JSON that is not an array', faults: (after) => [{ kind: 'not-array', after }] },
  { name: 'connection reset mid-body', faults: (after) => [{ kind: 'reset', times: 2, after }] },
  {
    name: 'slower than request_timeout_seconds',
    faults: (after) => [{ kind: 'latency', delayMs: 2500, after }],
    tapConfig: { request_timeout_seconds: 1 },
  },
  { name: 'a page that repeats the previous page', faults: (after) => [{ kind: 'repeat', after: Math.max(1, after) }] },
  {
    name: 'a mix of all of them',
    faults: (after) => [
      { kind: 'status', status: 503, after },
      { kind: 'reset', after: 1 },
      { kind: 'repeat', after: 1 },
      { kind: 'truncated', after: 1 },
      { kind: 'status', status: 429, after: 1 },
    ],
  },
];

const RETRY_LINE = /^WARN .* retry (\d+)\/(\d+) in /;

function retriesOf(run: PipelineRun): number[] {
  return run.tapStderr
    .split('\n')
    .map((line) => RETRY_LINE.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => Number(match[1]));
}

function expectEqual(got: Expected, want: Expected, what: string): number {
  if (got.transactions !== want.transactions)
    throw new Error(`${what}: transactions has ${got.transactions} rows, the clean run ${want.transactions}`);
  if (!isDeepStrictEqual(got, want)) {
    const current = [...want.current].filter(([root, id]) => got.current.get(root) !== id).length;
    const calls = [...want.calls].filter(([call, value]) => !isDeepStrictEqual(got.calls.get(call), value)).length;
    throw new Error(
      `${what}: the merged tables differ from the clean run (${current} lineages, ${calls} calls differ; sizes ${got.current.size}/${want.current.size}, ${got.calls.size}/${want.calls.size})`,
    );
  }
  return want.transactions + want.current.size + want.calls.size;
}

function assertNoLeak(run: PipelineRun, space: Workspace, what: string): void {
  const leaks = secretLeaks({ 'tap stderr': run.tapStderr, 'target stderr': run.targetStderr, 'target stdout': run.states.join('\n') }, [
    space.dir,
  ]);
  if (leaks.length > 0) throw new Error(`${what}: a secret leaked: ${leaks.join('; ')}`);
}

/** One recoverable fault at a seeded point of the feed; the run must succeed and equal `clean`. */
export async function recoverable(
  sim: RunningSimulator,
  space: Workspace,
  clean: Expected,
  item: RecoverableCase,
  seed: number,
): Promise<CaseFigures> {
  const random = seededRandom(seed);
  const pages = Math.ceil(sim.feed.count / PAGE_SIZE);
  const after = Math.floor(random() * pages);
  const database = `fault-${seed}-${item.name.replace(/\W+/g, '-')}.duckdb`;
  const tapConfig = await space.tapConfig({ max_retries: 4, ...item.tapConfig });
  const loader = await space.loaderConfig(database);
  const run = await withFaults(sim, item.faults(after), () => pipeline(['--config', tapConfig], loader));
  const what = `${item.name} (seed ${seed}, after ${after} requests)`;
  if (run.tapCode !== 0 || run.targetCode !== 0)
    throw new Error(
      `${what}: tap exited ${run.tapCode}, target ${run.targetCode}:\n${run.tapStderr.slice(-600)}\n${run.targetStderr.slice(-600)}`,
    );
  const retries = retriesOf(run);
  if (retries.length === 0) throw new Error(`${what}: no retry was logged`);
  if (retries.some((retry) => retry > 4)) throw new Error(`${what}: more retries than max_retries: ${retries.join(',')}`);
  assertNoLeak(run, space, what);
  const rowsCompared = expectEqual(await mergedTables(join(space.dir, database)), clean, what);
  return { runs: 1, retriesLogged: retries.length, kills: 0, rowsCompared };
}

export interface FatalCase {
  name: string;
  /** Faults for the run, or a state that points nowhere. */
  faults?: (after: number) => FaultSpec[];
  badState?: string;
  message: RegExp;
}

export const FATAL: readonly FatalCase[] = [
  {
    name: 'a 503 that outlives max_retries',
    faults: (after) => [{ kind: 'status', status: 503, times: 50, after }],
    message: /HTTP 503 .*\(gave up after 2 retries\)/,
  },
  { name: 'HTTP 401', faults: (after) => [{ kind: 'status', status: 401, after }], message: /HTTP 401 .*check api_token/ },
  {
    name: 'HTTP 403',
    faults: (after) => [{ kind: 'status', status: 403, after }],
    message: /HTTP 403 .*check that the token's user may read this account/,
  },
  {
    name: 'HTTP 404',
    faults: (after) => [{ kind: 'status', status: 404, after }],
    message: /HTTP 404 .*check account_id, account_type and base_url/,
  },
  {
    name: 'an unknown start_after_transaction_id',
    badState: JSON.stringify({
      bookmarks: { transactions: { replication_key: 'transaction_id', replication_key_value: 'FFFFFFFF-00000000', sequence: 5 } },
    }),
    message: /HTTP 403 .*start_after_transaction_id FFFFFFFF-00000000 was not found/,
  },
];

/**
 * A fatal fault: the tap ends with one CRITICAL line and exit 1, the target has committed and
 * echoed the state of the last good page, and the next run (fault gone) completes to `clean`.
 */
export async function fatal(sim: RunningSimulator, space: Workspace, clean: Expected, item: FatalCase, seed: number): Promise<CaseFigures> {
  const random = seededRandom(seed);
  const pages = Math.ceil(sim.feed.count / PAGE_SIZE);
  const after = 1 + Math.floor(random() * (pages - 1));
  const what = `${item.name} (seed ${seed}, after ${after} requests)`;
  const database = `fatal-${seed}-${item.name.replace(/\W+/g, '-')}.duckdb`;
  const loader = await space.loaderConfig(database);
  const tapConfig = await space.tapConfig();
  const stateArgs = await space.stateFile(item.badState);
  const failed = await withFaults(sim, item.faults?.(after) ?? [], () => pipeline(['--config', tapConfig, ...stateArgs], loader));
  const critical = failed.tapStderr.split('\n').filter((line) => line.startsWith('CRITICAL'));
  if (failed.tapCode !== 1) throw new Error(`${what}: the tap exited ${failed.tapCode}, not 1`);
  if (critical.length !== 1 || !item.message.test(critical[0] ?? ''))
    throw new Error(`${what}: expected one CRITICAL line matching ${item.message}, got: ${critical.join(' | ')}`);
  if (failed.targetCode !== 0) throw new Error(`${what}: the target exited ${failed.targetCode}:\n${failed.targetStderr.slice(-600)}`);
  if (!item.badState) {
    // Every page before the fault was delivered, committed and its state echoed.
    const cursor = (JSON.parse(failed.states.at(-1) ?? '{}') as { bookmarks?: { transactions?: { replication_key_value?: string } } })
      .bookmarks?.transactions?.replication_key_value;
    const expected = sim.feed.transactionId(after * PAGE_SIZE - 1);
    if (cursor !== expected) throw new Error(`${what}: the last echoed state points at ${cursor}, not at the last good page's ${expected}`);
  }
  assertNoLeak(failed, space, what);
  const resumed = await pipeline(['--config', tapConfig, ...(item.badState ? [] : await space.stateFile(failed.states.at(-1)))], loader);
  if (resumed.tapCode !== 0 || resumed.targetCode !== 0) throw new Error(`${what}: the next run failed:\n${resumed.tapStderr.slice(-600)}`);
  const rowsCompared = expectEqual(await mergedTables(join(space.dir, database)), clean, what);
  return { runs: 2, retriesLogged: retriesOf(failed).length, kills: 0, rowsCompared };
}

/**
 * SIGKILL the tap or the target at seeded points of the stream (after the tap has written a
 * seeded number of lines: an event, so a seed replays the same kill on any machine), resume each
 * time from the last state the target echoed, until a run completes; the result must equal `clean`.
 */
export async function killAndResume(space: Workspace, clean: Expected, seed: number, maxKills = 4): Promise<CaseFigures> {
  const random = seededRandom(seed);
  const database = `kill-${seed}.duckdb`;
  const loader = await space.loaderConfig(database);
  const tapConfig = await space.tapConfig();
  let state: string | undefined;
  let kills = 0;
  let runs = 0;
  for (;;) {
    runs++;
    const killing = kills < maxKills;
    const victim = random() < 0.5 ? 'tap' : 'target';
    // A feed of 2,400 rows is ~2,410 lines: a point past the end is a run that is not killed.
    const afterLines = 1 + Math.floor(random() * 2_400);
    let killed = false;
    const run = await pipeline(['--config', tapConfig, ...(await space.stateFile(state))], loader, {
      onStart: (processes) => {
        if (!killing) return;
        onOccurrences(processes.tap.stdout, '\n', afterLines, () => {
          killed = processes[victim].kill('SIGKILL');
        });
      },
    });
    state = run.states.at(-1) ?? state;
    if (run.tapCode === 0 && run.targetCode === 0) break;
    if (!killed)
      throw new Error(
        `kill seed ${seed}: run ${runs} failed without a kill: tap ${run.tapCode}, target ${run.targetCode}\n${run.tapStderr.slice(-400)}\n${run.targetStderr.slice(-400)}`,
      );
    kills++;
    if (runs > maxKills + 2) throw new Error(`kill seed ${seed}: no run completed after ${runs} runs`);
  }
  const rowsCompared = expectEqual(await mergedTables(join(space.dir, database)), clean, `kill seed ${seed} (${kills} kills)`);
  return { runs, retriesLogged: 0, kills, rowsCompared };
}

/**
 * The hostile feed (simulator --hostile) end to end: both bins exit 0, every distinct row lands,
 * and a replay of the whole feed changes nothing.
 */
export async function hostileFeed(space: Workspace, seed: number): Promise<CaseFigures> {
  const database = `hostile-${seed}.duckdb`;
  const loader = await space.loaderConfig(database);
  const tapConfig = await space.tapConfig();
  const loadOnce = async (run: number): Promise<Expected> => {
    const result = await pipeline(['--config', tapConfig], loader);
    if (result.tapCode !== 0 || result.targetCode !== 0) {
      throw new Error(
        `hostile seed ${seed}: run ${run} failed: tap ${result.tapCode}, target ${result.targetCode}\n${result.tapStderr.slice(-400)}\n${result.targetStderr.slice(-400)}`,
      );
    }
    assertNoLeak(result, space, `hostile seed ${seed}`);
    return mergedTables(join(space.dir, database));
  };
  const first = await loadOnce(1);
  const rowsCompared = expectEqual(await loadOnce(2), first, `hostile seed ${seed}: the replay`);
  return { runs: 2, retriesLogged: 0, kills: 0, rowsCompared };
}
