/**
 * Running it every five minutes, over the simulator: Invoca's polling floor across runs, a
 * cursor Invoca no longer knows, `tap-invoca --follow | target-invoca` as real processes, and the
 * target's batch timer. Every wait is on an event (a line, a state); the intervals are short.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, expect, test } from '@jest/globals';
import { run as runTapCli } from '../../src/cli/tap.js';
import { openDuckDb } from '../../src/load/duckdb-warehouse.js';
import { Loader } from '../../src/load/loader.js';
import { runTarget } from '../../src/load/target.js';
import { createMemoryLogger } from '../helpers/logger.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { StreamSchema } from '../../src/stream/schema.js';
import { failDnsLookups } from '../helpers/dns.js';
import { lineWatcher } from '../helpers/lines.js';
import { simulator } from '../helpers/simulator.js';
import { bookmarkOf, jsonFile, lastState, runTap, tapConfig, tempDir } from '../helpers/tap.js';

let sim: RunningSimulator | undefined;
/** Processes a test started: killed after it, whatever happened. */
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await sim?.close();
  sim = undefined;
});

test('the second of two quick runs makes no request, keeps the cursor and says when the next poll is allowed', async () => {
  sim = await simulator({ rows: 300 });
  const config = await jsonFile(tapConfig(sim, { min_poll_interval_seconds: 300 }));
  const first = await runTap(['--config', config]);
  expect(first.code).toBe(0);
  const state = lastState(first);
  expect(Date.parse(String(bookmarkOf(state)['last_poll_started_at' as never]))).not.toBeNaN();
  const requests = sim.stats().transactionRequests;

  const second = await runTap(['--config', config, '--state', await jsonFile(state)]);
  expect(second.code).toBe(0);
  expect(sim.stats().transactionRequests).toBe(requests);
  expect(second.records).toEqual([]);
  expect(second.states).toEqual([state]);
  expect(second.stderr.filter((line) => line.startsWith('INFO'))).toEqual([
    expect.stringMatching(/less than min_poll_interval_seconds \(300\) ago: no request now; the next poll is allowed at 20\d\d-/),
  ]);
});

test('a run a little early waits for the rest of the interval, then polls; a first sync is not held back', async () => {
  sim = await simulator({ rows: 300 });
  const config = await jsonFile(tapConfig(sim, { min_poll_interval_seconds: 2 }));
  const first = await runTap(['--config', config]);
  sim.append(40);
  // As if the first poll had started just now, whatever this machine's speed.
  const justNow = new Date().toISOString();
  const bookmark = { ...bookmarkOf(lastState(first)), last_poll_started_at: justNow };
  const second = await runTap(['--config', config, '--state', await jsonFile({ bookmarks: { transactions: bookmark } })]);
  expect(second.records).toHaveLength(40);
  const startedSecond = Date.parse(String(bookmarkOf(lastState(second))['last_poll_started_at' as never]));
  expect(startedSecond - Date.parse(justNow)).toBeGreaterThanOrEqual(2000);
  expect(second.stderr).toContainEqual(
    expect.stringMatching(/^INFO the last poll started at .*: waiting \d\.\d s for min_poll_interval_seconds \(2\)$/),
  );
  // Without a cursor (a first sync) the floor does not apply, whatever the state says.
  const fresh = await runTap([
    '--config',
    config,
    '--state',
    await jsonFile({ bookmarks: { transactions: { last_poll_started_at: new Date().toISOString() } } }),
  ]);
  expect(fresh.records).toHaveLength(340);
});

test('a cursor Invoca does not know: one line that says what to do, exit 1; another 403 keeps its own reason', async () => {
  sim = await simulator({ rows: 50 });
  const state = { bookmarks: { transactions: { replication_key: 'transaction_id', replication_key_value: 'NOT-A-KNOWN-ID' } } };
  const output = await runTap(['--config', await jsonFile(tapConfig(sim)), '--state', await jsonFile(state)]);
  expect(output.code).toBe(1);
  const critical = output.stderr.filter((line) => line.startsWith('CRITICAL'));
  expect(critical).toEqual([
    expect.stringMatching(
      /HTTP 403 to the first page after the cursor in the state \(.*\): it does not know transaction NOT-A-KNOWN-ID any more; remove the state and set start_date to the day of the last call loaded/,
    ),
  ]);
  // A token that may not read these transactions: its own reason first, the cursor only as a maybe.
  const known = { bookmarks: { transactions: { replication_key: 'transaction_id', replication_key_value: sim.feed.transactionId(10) } } };
  const forbidden = await runTap([
    '--config',
    await jsonFile(tapConfig(sim, { account_type: 'advertiser' })),
    '--state',
    await jsonFile(known),
  ]);
  expect(forbidden.code).toBe(1);
  expect(forbidden.stderr.filter((line) => line.startsWith('CRITICAL'))).toEqual([
    expect.stringMatching(/HTTP 403 .*this token cannot read .*; or, if Invoca no longer knows the state's cursor/),
  ]);
});

test('the target commits a batch batch_max_seconds after its first row with no more input, and echoes its state', async () => {
  const warehouse = await openDuckDb({ path: ':memory:', schema: 'main' });
  const input = new PassThrough();
  const states: string[] = [];
  let stateEchoed: () => void = () => undefined;
  const echoed = new Promise<void>((resolve) => (stateEchoed = resolve));
  try {
    const running = runTarget(input, {
      loader: new Loader(warehouse, createMemoryLogger()),
      logger: createMemoryLogger(),
      batchSizeRows: 100_000,
      batchMaxSeconds: 0.2,
      // A clock that stands still: the check as messages arrive never fires, only the timer can.
      nowMs: () => 0,
      emitState: async (line) => {
        states.push(line);
        stateEchoed();
      },
    });
    const record = {
      transaction_id: 'T1',
      transaction_type: 'Call',
      complete_call_id: 'C1',
      start_time: '2026-11-30T04:00:00.000Z',
      _invoca_sequence: 1,
    };
    input.write(
      `${JSON.stringify({ type: 'SCHEMA', stream: 'transactions', schema: new StreamSchema().toJSON(), key_properties: ['transaction_id'] })}\n`,
    );
    input.write(`${JSON.stringify({ type: 'RECORD', stream: 'transactions', record })}\n`);
    input.write(`${JSON.stringify({ type: 'STATE', value: { marker: 1 } })}\n`);
    // No more input, and the input stays open: only the timer can commit.
    await Promise.race([echoed, running.then(() => Promise.reject(new Error('the target ended before it echoed the state')))]);
    expect(states).toEqual(['{"marker":1}']);
    expect(await warehouse.query('SELECT complete_call_id FROM calls')).toEqual([{ complete_call_id: 'C1' }]);
    input.end();
    expect((await running).batches).toBe(1);
  } finally {
    await warehouse.close();
  }
});

test('--follow: a poll that fails past max_retries is logged and the next poll goes on; a bad token ends it with exit 1', async () => {
  sim = await simulator({ rows: 100 });
  const controller = new AbortController();
  const stderr: string[] = [];
  // One request per poll (100 rows, one short page). The second poll's request and its one retry fail.
  sim.setFaults([{ kind: 'status', status: 503, after: 1, times: 2 }]);
  const code = await runTapCli(['--config', await jsonFile(tapConfig(sim, { min_poll_interval_seconds: 0, max_retries: 1 })), '--follow'], {
    stdout: new Writable({ write: (_chunk, _encoding, callback) => callback() }),
    stderr: (line) => {
      stderr.push(line);
      if (/^INFO poll 3: /.test(line)) controller.abort();
    },
    signal: controller.signal,
  });
  expect(code).toBe(0);
  expect(stderr).toContainEqual(
    expect.stringMatching(
      /^ERROR poll 2 failed \(1 of 3600 in a row\): Invoca answered HTTP 503 .*gave up after 1 retry.*; polling again in 1 s$/,
    ),
  );
  expect(stderr).toContainEqual(expect.stringMatching(/^INFO poll 1: 100 rows/));

  const denied = await runTap(['--config', await jsonFile(tapConfig(sim, { api_token: 'not-the-token' })), '--follow']);
  expect(denied.code).toBe(1);
  expect(denied.stderr.filter((line) => line.startsWith('CRITICAL'))).toEqual([expect.stringMatching(/HTTP 401/)]);
});

test('--follow gives up with exit 1 after max_consecutive_failed_polls failed polls in a row, each counted in its line', async () => {
  sim = await simulator({ rows: 50 });
  // The first poll succeeds; every request after it fails.
  sim.setFaults([{ kind: 'status', status: 503, after: 1, times: 1000 }]);
  const result = await runTap([
    '--config',
    await jsonFile(tapConfig(sim, { max_retries: 0, max_consecutive_failed_polls: 3 })),
    '--follow',
  ]);
  expect(result.code).toBe(1);
  expect(result.stderr.filter((line) => line.startsWith('ERROR poll'))).toEqual([
    expect.stringMatching(/^ERROR poll 2 failed \(1 of 3 in a row\): Invoca answered HTTP 503/),
    expect.stringMatching(/^ERROR poll 3 failed \(2 of 3 in a row\): /),
  ]);
  expect(result.stderr.filter((line) => line.startsWith('CRITICAL'))).toEqual([
    expect.stringMatching(
      /^CRITICAL tap-invoca: 3 polls in a row failed \(max_consecutive_failed_polls\): giving up; the last: Invoca answered HTTP 503.* \[ERR_FOLLOW_GAVE_UP\]$/,
    ),
  ]);
  // The state of the first poll was written before the failures: the next run resumes there.
  expect(result.records).toHaveLength(50);
  expect(bookmarkOf(lastState(result)).replication_key_value).toBe(sim.feed.transactionId(49));
});

test('--follow: once a poll has succeeded, a host that stops resolving (a DNS outage) is waited out; before that it is a base_url typo and ends the run', async () => {
  sim = await simulator({ rows: 100 });
  // The outage is made by failDnsLookups (dns.lookup replaced) between the first and the third poll,
  // against the simulator by name (`localhost`), so each new connection looks the name up.
  let restoreDns = (): void => undefined;
  const byName = sim.url.replace('127.0.0.1', 'localhost');
  expect(byName).not.toBe(sim.url);
  const controller = new AbortController();
  const stderr: string[] = [];
  try {
    const code = await runTapCli(['--config', await jsonFile(tapConfig(sim, { base_url: byName, max_retries: 0 })), '--follow'], {
      stdout: new Writable({ write: (_chunk, _encoding, callback) => callback() }),
      stderr: (line) => {
        stderr.push(line);
        if (/^INFO poll 1: /.test(line)) {
          restoreDns = failDnsLookups();
          sim?.dropIdleConnections();
        }
        if (/^ERROR poll 2 failed /.test(line)) restoreDns();
        if (/^INFO poll 3: /.test(line)) controller.abort();
      },
      signal: controller.signal,
    });
    expect(code).toBe(0);
    expect(stderr).toContainEqual(
      expect.stringMatching(/^ERROR poll 2 failed \(1 of \d+ in a row\): .*ENOTFOUND.*; polling again in 1 s$/),
    );

    // The same outage on the first poll: nothing has proven base_url, so it is reported as a typo.
    restoreDns = failDnsLookups();
    const first = await runTap(['--config', await jsonFile(tapConfig(sim, { base_url: byName })), '--follow']);
    expect(first.code).toBe(1);
    expect(first.stderr.filter((line) => line.startsWith('CRITICAL'))).toEqual([
      expect.stringMatching(/does not resolve \(ENOTFOUND\).*check base_url/),
    ]);
  } finally {
    restoreDns();
  }
});

test('tap-invoca --follow | target-invoca lands rows appended while it runs, polls at least the interval apart, and ends on SIGTERM with everything committed', async () => {
  sim = await simulator({ rows: 200 });
  const directory = await tempDir();
  const database = join(directory, 'follow.duckdb');
  const tap = spawn(process.execPath, [
    'dist/src/bin/tap-invoca.js',
    '--config',
    await jsonFile(tapConfig(sim, { min_poll_interval_seconds: 1 })),
    '--follow',
  ]);
  const target = spawn(process.execPath, [
    'dist/src/bin/target-invoca.js',
    '--config',
    await jsonFile({ duckdb: { path: database }, batch_max_seconds: 0.3 }),
  ]);
  children.push(tap, target);
  tap.stdout.pipe(target.stdin);
  const exits = Promise.all([once(tap, 'exit'), once(target, 'exit')]);
  const anyExit = Promise.race([once(tap, 'exit'), once(target, 'exit')]);
  const tapLog = lineWatcher(tap.stderr, anyExit);
  const echoed = lineWatcher(target.stdout, anyExit);
  await tapLog.until(/^INFO poll 1: 200 rows/);
  sim.append(25);
  const lastId = sim.feed.transactionId(224);
  await tapLog.until(/^INFO poll \d+: 25 rows/);
  // The target commits those rows on its timer (the tap keeps the pipe open) and echoes their state.
  await echoed.until(new RegExp(`"replication_key_value":"${lastId}"`));
  tap.kill('SIGTERM');
  const [[tapCode, tapSignal], [targetCode]] = (await exits) as [[number | null, string | null], [number | null]];
  expect(tapCode === 143 || tapSignal === 'SIGTERM').toBe(true);
  expect(targetCode).toBe(0);
  // Every poll's states carry its start: consecutive polls at least min_poll_interval_seconds apart.
  const starts = [
    ...new Set(
      echoed.lines.map(
        (line) =>
          (JSON.parse(line) as { bookmarks: { transactions: { last_poll_started_at: string } } }).bookmarks.transactions
            .last_poll_started_at,
      ),
    ),
  ].map(Date.parse);
  expect(starts.length).toBeGreaterThanOrEqual(2);
  for (let index = 1; index < starts.length; index++) expect((starts[index] ?? 0) - (starts[index - 1] ?? 0)).toBeGreaterThanOrEqual(1000);
  const warehouse = await openDuckDb({ path: database, schema: 'main' });
  try {
    expect(await warehouse.query('SELECT COUNT(*) AS n FROM transactions')).toEqual([{ n: '225' }]);
  } finally {
    await warehouse.close();
  }
}, 60_000);
