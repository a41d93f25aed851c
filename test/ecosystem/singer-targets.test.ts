/**
 * tap-invoca piped into real Python Singer targets from PyPI (each in its own venv, made by
 * scripts/setup-tools.sh): target-jsonl, and target-duckdb (an SQL target), with a custom column that appears
 * mid-feed; then `target-invoca merge` over the raw table target-duckdb loaded.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { run as runTarget } from '../../src/cli/target.js';
import { openDuckDb } from '../../src/load/duckdb-warehouse.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { actual, MergeOracle, type TestRecord } from '../helpers/merge-oracle.js';
import { pipeTap } from '../helpers/pipe.js';
import { simulator } from '../helpers/simulator.js';
import { jsonFile, tapConfig, tempDir } from '../helpers/tap.js';
import { requireTools } from '../helpers/tools.js';

const JSONL = '.venv-target-jsonl/bin/target-jsonl';
const DUCKDB = '.venv-target-duckdb/bin/target-duckdb';
requireTools([JSONL, DUCKDB], 'the Singer target tests');

describe('real Python Singer targets', () => {
  let sim: RunningSimulator;
  let config: string;
  beforeAll(async () => {
    sim = await simulator({ rows: 600, lateColumnAt: 400, seed: 12 });
    config = await jsonFile(tapConfig(sim, { page_size: 200 }));
  });
  afterAll(async () => {
    await sim.close();
  });

  test('target-jsonl: every record lands, the mid-feed custom column included; its state is the tap final state', async () => {
    const directory = await tempDir();
    const result = await pipeTap(['--config', config], JSONL, ['--config', await jsonFile({ destination_path: directory })]);
    const [file] = await readdir(directory);
    const lines = (await readFile(join(directory, file ?? ''), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const sent = result.messages
      .filter((message) => message['type'] === 'RECORD')
      .map((message) => message['record'] as Record<string, unknown>);
    expect(lines).toHaveLength(600);
    expect(lines.map((line) => line['transaction_id'])).toEqual(sent.map((record) => record['transaction_id']));
    expect(lines[400]?.['Coupon Code']).toMatch(/^SAVE\d+$/);
    expect(lines[399]).not.toHaveProperty(['Coupon Code']);
    const finalState = result.messages.filter((message) => message['type'] === 'STATE').at(-1)?.['value'];
    expect(JSON.parse(result.targetStdout.at(-1) ?? '{}')).toEqual(finalState);
  });

  test('target-duckdb loads a raw table; target-invoca merge builds current and calls from it, equal to the model', async () => {
    const directory = await tempDir();
    const database = join(directory, 'warehouse.duckdb');
    const result = await pipeTap(['--config', config], DUCKDB, [
      '--config',
      await jsonFile({ filepath: database, default_target_schema: 'raw' }),
    ]);
    const sent = result.messages.filter((message) => message['type'] === 'RECORD').map((message) => message['record'] as TestRecord);

    const raw = await openDuckDb({ path: database, schema: 'raw' });
    const columns = await raw.columns('transactions');
    expect(columns?.has('coupon code')).toBe(true);
    expect((await raw.query('SELECT COUNT(DISTINCT transaction_id) AS n FROM raw.transactions'))[0]?.['n']).toBe('600');
    await raw.close();

    const stderr: string[] = [];
    const code = await runTarget(
      ['merge', '--config', await jsonFile({ duckdb: { path: database, schema: 'main' }, source_table: 'raw.transactions' })],
      {
        stdin: Readable.from([]),
        stdout: new Writable({ write: (_chunk, _encoding, callback) => callback() }),
        stderr: (line) => stderr.push(line),
      },
    );
    expect([code, stderr.at(-1)]).toEqual([0, 'INFO merged 600 new transactions from raw.transactions']);
    const oracle = new MergeOracle();
    oracle.load(sent);
    const warehouse = await openDuckDb({ path: database, schema: 'main' });
    try {
      const got = await actual({
        ...warehouse,
        query: (sql) => warehouse.query(sql.replace(/FROM "main"\."transactions"(?!_)/, 'FROM raw.transactions')),
      });
      const want = oracle.expected();
      expect(got.current).toEqual(want.current);
      expect(got.calls).toEqual(want.calls);
      // The custom column the target lower-cased keeps its name; its values arrive.
      const coupons = await warehouse.query(`SELECT COUNT(*) AS n FROM calls WHERE "coupon code" LIKE 'SAVE%'`);
      expect(Number(coupons[0]?.['n'])).toBeGreaterThan(0);
    } finally {
      await warehouse.close();
    }
  });
});
