/**
 * The whole pipeline with the real bins over loopback and real DuckDB files:
 * invoca-simulator -> tap-invoca | target-invoca -> DuckDB, compared with the merge model.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, test } from '@jest/globals';
import { run as runTarget } from '../../src/cli/target.js';
import { openDuckDb } from '../../src/load/duckdb-warehouse.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { actual, MergeOracle, type TestRecord } from '../helpers/merge-oracle.js';
import { simulator } from '../helpers/simulator.js';
import { jsonFile, parseLines, tapConfig, tempDir } from '../helpers/tap.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

interface PipelineRun {
  records: TestRecord[];
  states: string[];
  tapStderr: string;
  targetStderr: string;
}

/** `tap-invoca --config c [--state s] | target-invoca --config l`, as a shell pipe would run it. */
async function pipeline(tapArgs: string[], loaderConfig: string): Promise<PipelineRun> {
  const tap = spawn(process.execPath, ['dist/src/bin/tap-invoca.js', ...tapArgs]);
  const target = spawn(process.execPath, ['dist/src/bin/target-invoca.js', '--config', loaderConfig]);
  const records: TestRecord[] = [];
  let buffer = '';
  tap.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const message of parseLines(lines.join('\n'))) {
      if (message['type'] === 'RECORD') records.push(message['record'] as TestRecord);
    }
  });
  tap.stdout.pipe(target.stdin);
  let tapStderr = '';
  let targetStderr = '';
  let targetStdout = '';
  tap.stderr.on('data', (data: Buffer) => (tapStderr += data.toString()));
  target.stderr.on('data', (data: Buffer) => (targetStderr += data.toString()));
  target.stdout.on('data', (data: Buffer) => (targetStdout += data.toString()));
  const [[tapCode], [targetCode]] = (await Promise.all([once(tap, 'exit'), once(target, 'exit')])) as [[number], [number]];
  if (tapCode !== 0 || targetCode !== 0)
    throw new Error(`pipeline failed: tap ${tapCode}, target ${targetCode}\n${tapStderr}\n${targetStderr}`);
  return { records, states: targetStdout.trim().split('\n').filter(Boolean), tapStderr, targetStderr };
}

describe('tap-invoca | target-invoca into DuckDB', () => {
  test('100,000 rows: one calls row per call, one current row per lineage, each its latest version; reruns change nothing; late corrections apply', async () => {
    sim = await simulator({ rows: 100_000, seed: 5 });
    const dir = await tempDir();
    const database = join(dir, 'invoca.duckdb');
    const loader = await jsonFile({ engine: 'duckdb', duckdb: { path: database }, batch_size_rows: 40_000 });
    const config = await jsonFile(tapConfig(sim));
    const oracle = new MergeOracle();

    const first = await pipeline(['--config', config], loader);
    expect(first.records).toHaveLength(100_000);
    oracle.load(first.records);
    const lastState = first.states.at(-1) ?? '';
    expect(JSON.parse(lastState)).toMatchObject({ bookmarks: { transactions: { replication_key_value: sim.feed.transactionId(99_999) } } });
    const check = async (): Promise<void> => {
      const warehouse = await openDuckDb({ path: database, schema: 'main' });
      try {
        const got = await actual(warehouse);
        const want = oracle.expected();
        expect(got.transactions).toBe(want.transactions);
        expect(got.current.size).toBe(want.current.size);
        expect(got.calls.size).toBe(want.calls.size);
        expect(got).toEqual(want);
      } finally {
        await warehouse.close();
      }
    };
    await check();

    // Run again from the state: nothing new, nothing changes.
    const stateFile = await jsonFile(JSON.parse(lastState));
    const again = await pipeline(['--config', config, '--state', stateFile], loader);
    expect(again.records).toHaveLength(0);
    await check();

    // Replay from scratch (a lost state): every row re-delivered, nothing changes.
    const replay = await pipeline(['--config', config], loader);
    expect(replay.records).toHaveLength(100_000);
    oracle.load(replay.records);
    await check();

    // New rows with late corrections of old calls: applied by the next run.
    sim.append(3_000);
    const late = await pipeline(['--config', config, '--state', stateFile], loader);
    expect(late.records).toHaveLength(3_000);
    const lateCorrections = late.records.filter((record) => record['corrects_transaction_id']);
    expect(lateCorrections.length).toBeGreaterThan(300);
    oracle.load(late.records);
    await check();
  }, 240_000);
});

describe('target-invoca', () => {
  const schema = {
    type: 'SCHEMA',
    stream: 'transactions',
    schema: { properties: { transaction_id: { type: 'string' } } },
    key_properties: ['transaction_id'],
  };
  const record = (id: string, sequence: number) => ({
    type: 'RECORD',
    stream: 'transactions',
    record: { transaction_id: id, transaction_type: 'Call', complete_call_id: `K-${id}`, _invoca_sequence: sequence },
  });
  const state = (n: number) => ({ type: 'STATE', value: { bookmarks: { transactions: { replication_key_value: `S${n}` } } } });

  async function runWith(lines: unknown[], config: Record<string, unknown>) {
    const out: string[] = [];
    const err: string[] = [];
    const { Writable } = await import('node:stream');
    const stdout = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        out.push(chunk.toString());
        callback();
      },
    });
    const input = Readable.from(lines.map((line) => `${typeof line === 'string' ? line : JSON.stringify(line)}\n`));
    const code = await runTarget(['--config', await jsonFile(config)], { stdin: input, stdout, stderr: (line) => err.push(line) });
    return { code, states: out.join('').split('\n').filter(Boolean), stderr: err };
  }

  test('a STATE is echoed only after the records before it are committed, never ahead', async () => {
    const dir = await tempDir();
    const path = join(dir, 'state.duckdb');
    const lines = [
      schema,
      record('a', 1),
      record('b', 2),
      state(1),
      record('c', 3),
      state(2),
      record('d', 4),
      record('e', 5),
      state(3),
      state(4),
    ];
    const result = await runWith(lines, { duckdb: { path }, batch_size_rows: 2 });
    expect(result.code).toBe(0);
    // Batches: [a,b] then state 1 is due; [c, d] covers state 2; [e] at the end covers states 3 and 4.
    expect(result.states).toEqual([1, 2, 4].map((n) => JSON.stringify(state(n).value)));
    expect(result.stderr.filter((line) => /^INFO batch \d+:/.test(line))).toHaveLength(3);
    const warehouse = await openDuckDb({ path, schema: 'main' });
    expect((await warehouse.query('SELECT COUNT(*) AS n FROM calls'))[0]?.['n']).toBe('5');
    await warehouse.close();
  });

  test('a field name and an id holding an unpaired UTF-16 surrogate load as U+FFFD, in the column name and the value, with a warning', async () => {
    const path = join(await tempDir(), 'surrogate.duckdb');
    // The lines as a JSON serialiser writes lone surrogates: escaped (the text is valid JSON, not valid Unicode).
    const lines = [
      JSON.stringify({
        ...schema,
        schema: { properties: { transaction_id: { type: 'string' }, 'odd \ud800 key': { type: ['string', 'null'] } } },
      }),
      JSON.stringify({ ...record('x\udc00', 1), record: { ...record('x\udc00', 1).record, 'odd \ud800 key': 'v' } }),
      state(1),
    ];
    const result = await runWith(lines, { duckdb: { path } });
    expect([result.code, result.stderr.filter((line) => /^(CRITICAL|ERROR)/.test(line))]).toEqual([0, []]);
    expect(result.stderr).toContain(
      'WARN record x\ufffd: a key or string holds an unpaired UTF-16 surrogate (not valid Unicode); stored as U+FFFD',
    );
    const warehouse = await openDuckDb({ path, schema: 'main' });
    expect(await warehouse.query('SELECT transaction_id, "odd \ufffd key" AS v FROM transactions_current')).toEqual([
      { transaction_id: 'x\ufffd', v: 'v' },
    ]);
    await warehouse.close();
  });

  test('a STATE with nothing pending is echoed at once', async () => {
    const result = await runWith([state(7)], { duckdb: { path: join(await tempDir(), 'x.duckdb') } });
    expect(result.states).toEqual([JSON.stringify(state(7).value)]);
  });

  test('bad input and bad config: one line, the right exit code, no state past the last commit', async () => {
    const path = join(await tempDir(), 'bad.duckdb');
    const broken = await runWith([schema, record('a', 1), state(1), '{"type": "RECORD", "stream"', record('b', 2), state(2)], {
      duckdb: { path },
    });
    expect(broken.code).toBe(1);
    expect(broken.stderr.at(-1)).toMatch(/^CRITICAL target-invoca: line 4 of the input is not JSON/);
    expect(broken.states).toEqual([JSON.stringify(state(1).value)]);
    const orphan = await runWith([record('a', 1)], { duckdb: { path } });
    expect(orphan.stderr.at(-1)).toContain('line 1: a RECORD of stream transactions came before its SCHEMA');
    const badConfig = await runWith([], { engine: 'oracle' });
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr.at(-1)).toContain("config field 'engine' must be one of duckdb, bigquery, snowflake");
    const typo = await runWith([], { duckdb: { path }, batch_size_row: 5 });
    expect(typo.stderr[0]).toBe("WARN config has an unknown key 'batch_size_row' (ignored); did you mean 'batch_size_rows'?");
  });

  test('two targets at once on one DuckDB file: each commits or fails with a clear line, never a duplicate', async () => {
    const dir = await tempDir();
    const path = join(dir, 'twice.duckdb');
    const lines = [schema, ...Array.from({ length: 3_000 }, (_, index) => record(`t${index}`, index + 1)), state(1)];
    const input = `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`;
    const config = await jsonFile({ duckdb: { path }, batch_size_rows: 500 });
    // Two real processes, as two overlapping schedules would start them.
    const start = () => {
      const child = spawn(process.execPath, ['dist/src/bin/target-invoca.js', '--config', config]);
      let stderr = '';
      child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
      // The one that cannot open the file exits before it reads its input.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
      return once(child, 'exit').then(([code]) => ({ code: code as number | null, stderr }));
    };
    const results = await Promise.all([start(), start()]);
    expect(results.some((result) => result.code === 0)).toBe(true);
    for (const result of results) {
      if (result.code === 0) continue;
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n').at(-1)).toMatch(
        /^CRITICAL target-invoca: cannot open the DuckDB file .*twice\.duckdb: .*lock/i,
      );
    }
    const warehouse = await openDuckDb({ path, schema: 'main' });
    try {
      const [counts] = await warehouse.query('SELECT COUNT(*) AS n, COUNT(DISTINCT transaction_id) AS ids FROM transactions');
      expect(counts).toEqual({ n: '3000', ids: '3000' });
    } finally {
      await warehouse.close();
    }
  });

  test('a locked DuckDB file fails with exit 1 and a clear line', async () => {
    const path = join(await tempDir(), 'locked.duckdb');
    const holder = spawn(process.execPath, [
      '-e',
      `const {DuckDBInstance}=require('@duckdb/node-api');DuckDBInstance.create(${JSON.stringify(path)}).then(i=>i.connect()).then(()=>{console.log('ready');setTimeout(()=>{},60000)})`,
    ]);
    await once(holder.stdout, 'data');
    try {
      const result = await runWith([schema, record('a', 1)], { duckdb: { path } });
      expect(result.code).toBe(1);
      expect(result.stderr.at(-1)).toMatch(/^CRITICAL target-invoca: cannot open the DuckDB file .*locked\.duckdb: .*lock/i);
    } finally {
      holder.kill();
    }
  });
});
