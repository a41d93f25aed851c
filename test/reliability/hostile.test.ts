/**
 * Hostile and odd data (the simulator's --hostile feed) through the real bins into DuckDB: no
 * crash, no broken table, nothing spliced into SQL; every row lands, at least in `_invoca_raw`.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { openDuckDb } from '../../src/load/duckdb-warehouse.js';
import type { Warehouse } from '../../src/load/warehouse.js';
import { HOSTILE_COLUMNS, HOSTILE_PERIOD, HUGE_STRING_LENGTH } from '../../src/simulator/hostile.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { simulator } from '../helpers/simulator.js';
import { tempDir } from '../helpers/tap.js';
import { mergedTables, pipeline, secretLeaks, workspace, type PipelineRun, type Workspace } from './harness.js';

const ROWS = 1_200;
let sim: RunningSimulator;
let space: Workspace;
let first: PipelineRun;
let warehouse: Warehouse;

const at = (index: number): string => sim.feed.transactionId(index);
const rowsOfCase = (hostileCase: number): number[] =>
  Array.from({ length: ROWS }, (_, index) => index).filter((index) => index % HOSTILE_PERIOD === hostileCase && index > HOSTILE_PERIOD);
const one = async (sql: string): Promise<Record<string, unknown>> => (await warehouse.query(sql))[0] ?? {};

beforeAll(async () => {
  sim = await simulator({ rows: ROWS, seed: 33, hostile: true });
  space = workspace(sim, await tempDir());
  first = await pipeline(['--config', await space.tapConfig()], await space.loaderConfig('hostile.duckdb'));
  warehouse = await openDuckDb({ path: join(space.dir, 'hostile.duckdb'), schema: 'main' });
}, 60_000);

afterAll(async () => {
  await warehouse?.close();
  await sim.close();
});

describe('a hostile feed', () => {
  test('loads with exit 0; the odd rows are reported by name, and no secret is printed', () => {
    expect([first.tapCode, first.targetCode]).toEqual([0, 0]);
    expect(first.tapStderr).toContain("WARN unknown transaction_type 'Refund'");
    expect(first.tapStderr).toMatch(/schema changed at transaction \S+: emitting the updated SCHEMA/);
    expect(secretLeaks({ tap: first.tapStderr, target: first.targetStderr, states: first.states.join('\n') }, [space.dir])).toEqual([]);
  });

  test('every distinct transaction lands once; only our tables exist (the three, the lock table and the history view), no stage left', async () => {
    const duplicates = rowsOfCase(8).length;
    expect(Number((await one('SELECT COUNT(*) AS n, COUNT(DISTINCT transaction_id) AS d FROM transactions'))['n'])).toBe(ROWS - duplicates);
    const tables = await warehouse.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name",
    );
    expect(tables.map((row) => row['table_name'])).toEqual([
      '_invoca_lock',
      'calls',
      'transactions',
      'transactions_current',
      'transactions_history',
    ]);
  });

  test('custom column names with spaces, dots, quotes, backticks, semicolons, keywords and SQL are columns with their values', async () => {
    const index = rowsOfCase(6)[0] ?? 0;
    for (const [position, name] of HOSTILE_COLUMNS.entries()) {
      const quoted = `"${name.replace(/"/g, '""')}"`;
      const row = await one(`SELECT ${quoted} AS v FROM transactions_history WHERE transaction_id = '${at(index)}'`);
      expect(row['v']).toBe(`value ${position} of ${name}`);
    }
  });

  test('numbers as strings and as floats, "" and null, huge strings and unicode land as values', async () => {
    const asText = await one(
      `SELECT duration, CAST(advertiser_payin_localized AS VARCHAR) AS payin FROM transactions_history WHERE transaction_id = '${at(rowsOfCase(2)[0] ?? 0)}'`,
    );
    // The view types each field by the stream's latest schema: the feed's 42.75 (case 3) made
    // duration a number, so it is a decimal here (transactions_current keeps its column's first type).
    expect(asText).toEqual({ duration: '42.000000000', payin: '12.500000000' });
    const floats = await one(
      `SELECT CAST(advertiser_payin_localized AS VARCHAR) AS payin, CAST(affiliate_payout_localized AS VARCHAR) AS payout FROM transactions_history WHERE transaction_id = '${at(rowsOfCase(3)[0] ?? 0)}'`,
    );
    expect(floats).toEqual({ payin: '12.345678901', payout: '-0.000001000' });
    const empty = await one(
      `SELECT duration, advertiser_payin_localized AS payin, advertiser_name FROM transactions_history WHERE transaction_id = '${at(rowsOfCase(12)[0] ?? 0)}'`,
    );
    expect(empty).toEqual({ duration: null, payin: null, advertiser_name: '' });
    const huge = await one(
      `SELECT length(advertiser_campaign_name) AS n FROM transactions_history WHERE transaction_id = '${at(rowsOfCase(4)[0] ?? 0)}'`,
    );
    expect(Number(huge['n'])).toBe(HUGE_STRING_LENGTH);
    const unicode = await one(
      `SELECT advertiser_name, city FROM transactions_history WHERE transaction_id = '${at(rowsOfCase(5)[0] ?? 0)}'`,
    );
    expect(unicode['advertiser_name']).toBe('Z\u00fcrich \ud83e\uddb7 Dental \u2014 "Q" \\ \u0000 end');
    expect(unicode['city']).toBe('\ufffd lone surrogate');
  });

  test('values that do not fit their column are NULL there and whole in _invoca_raw', async () => {
    const odd = await one(
      `SELECT duration, advertiser_name, CAST(json_extract(_invoca_raw, '$.advertiser_name') AS VARCHAR) AS raw_name, CAST(json_extract(_invoca_raw, '$.custom_data') AS VARCHAR) AS raw_custom FROM transactions_history WHERE transaction_id = '${at(rowsOfCase(11)[0] ?? 0)}'`,
    );
    expect(odd).toEqual({
      duration: null,
      advertiser_name: '{"nested":["object"]}',
      raw_name: '{"nested":["object"]}',
      raw_custom: '"not a list"',
    });
    const changing = await warehouse.query(
      `SELECT "Lead Score" AS score, CAST(json_extract(_invoca_raw, '$.duration') AS VARCHAR) AS raw_duration FROM transactions_history WHERE transaction_id IN (${rowsOfCase(
        7,
      )
        .map((index) => `'${at(index)}'`)
        .join(', ')}) ORDER BY score`,
    );
    expect(changing.map((row) => row['score'])).toEqual(expect.arrayContaining(['97', 'ninety-seven']));
    expect(new Set(changing.map((row) => row['raw_duration']))).toEqual(new Set(['"n/a"']));
  });

  test('a correction of a transaction never seen is its own lineage; a call without complete_call_id stays out of calls', async () => {
    const orphan = rowsOfCase(9)[0] ?? 0;
    const current = await one(`SELECT transaction_id FROM transactions_current WHERE root_transaction_id = 'NEVER-SEEN-${orphan}'`);
    expect(current['transaction_id']).toBe(at(orphan));
    expect(Number((await one('SELECT COUNT(*) AS n FROM calls WHERE complete_call_id IS NULL'))['n'])).toBe(0);
    const calls = await one('SELECT COUNT(*) AS n, COUNT(DISTINCT complete_call_id) AS d FROM calls');
    expect(calls['n']).toBe(calls['d']);
  });

  test('a replay of the whole hostile feed changes nothing', async () => {
    const before = await mergedTables(join(space.dir, 'hostile.duckdb'));
    await warehouse.close();
    const again = await pipeline(['--config', await space.tapConfig()], await space.loaderConfig('hostile.duckdb'));
    expect([again.tapCode, again.targetCode]).toEqual([0, 0]);
    expect(await mergedTables(join(space.dir, 'hostile.duckdb'))).toEqual(before);
    warehouse = await openDuckDb({ path: join(space.dir, 'hostile.duckdb'), schema: 'main' });
  }, 60_000);
});
