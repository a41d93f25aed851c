/**
 * The dbt project in dbt/ on real dbt (PyPI, in .venv-dbt): `dbt build` (models and their tests)
 * with dbt-duckdb on tables target-invoca loaded from the simulator, again after new rows with
 * late corrections (the incremental model must still equal transactions_current), and
 * `dbt parse` for the BigQuery and Snowflake targets.
 */
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { openDuckDb } from '../../src/load/duckdb-warehouse.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { pipeTap } from '../helpers/pipe.js';
import { simulator } from '../helpers/simulator.js';
import { jsonFile, tapConfig, tempDir } from '../helpers/tap.js';
import { runProcess, requireTools } from '../helpers/tools.js';

const DBT = resolve('.venv-dbt/bin/dbt');
requireTools([DBT], 'the dbt tests');

describe('dbt', () => {
  let sim: RunningSimulator;
  let directory: string;
  let database: string;

  async function dbt(...args: string[]): Promise<string> {
    const result = await runProcess(
      DBT,
      [
        ...args,
        '--project-dir',
        'dbt',
        '--profiles-dir',
        'dbt',
        '--target-path',
        join(directory, 'target'),
        '--log-path',
        join(directory, 'logs'),
      ],
      {
        env: { ...process.env, DBT_DUCKDB_PATH: database, DBT_SEND_ANONYMOUS_USAGE_STATS: 'false' },
      },
    );
    const text = result.stdout + result.stderr;
    if (result.code !== 0) throw new Error(`dbt ${args.join(' ')} exited ${result.code}:\n${text.slice(-3000)}`);
    return text;
  }

  async function query(sql: string): Promise<Record<string, unknown>> {
    const warehouse = await openDuckDb({ path: database, schema: 'main' });
    try {
      return (await warehouse.query(sql))[0] ?? {};
    } finally {
      await warehouse.close();
    }
  }

  async function check(): Promise<void> {
    const warehouse = await openDuckDb({ path: database, schema: 'main' });
    try {
      const [facts] = await warehouse.query(`
        SELECT
          (SELECT COUNT(*) FROM invoca_transactions_latest) AS latest,
          (SELECT COUNT(*) FROM transactions_current) AS current,
          (SELECT COUNT(*) FROM invoca_transactions_latest l JOIN transactions_current c USING (root_transaction_id)
            WHERE l.transaction_id <> c.transaction_id) AS mismatches,
          (SELECT SUM(advertiser_payin) FROM invoca_daily) AS daily_payin,
          (SELECT SUM(advertiser_payin_localized) FROM calls) AS calls_payin,
          (SELECT COUNT(*) FROM invoca_calls) AS model_calls,
          (SELECT COUNT(*) FROM calls) AS calls,
          (SELECT COUNT(*) FROM invoca_signals) AS signals`);
      expect(facts?.['latest']).toBe(facts?.['current']);
      expect(facts?.['mismatches']).toBe('0');
      expect(facts?.['daily_payin']).toBe(facts?.['calls_payin']);
      expect(facts?.['model_calls']).toBe(facts?.['calls']);
      expect(Number(facts?.['signals'])).toBeGreaterThan(0);
    } finally {
      await warehouse.close();
    }
  }

  beforeAll(async () => {
    sim = await simulator({ rows: 1500, seed: 8 });
    directory = await tempDir();
    database = join(directory, 'invoca.duckdb');
  });
  afterAll(async () => {
    await sim?.close();
  });

  test('dbt build on the merged tables, then again (incremental) after late corrections', async () => {
    const config = await jsonFile(tapConfig(sim));
    const loader = await jsonFile({ duckdb: { path: database } });
    const target = resolve('dist/src/bin/target-invoca.js');
    const first = await pipeTap(['--config', config], target, ['--config', loader]);
    expect(await dbt('build')).toMatch(/Done\. PASS=\d+ WARN=0 ERROR=0/);
    await check();
    // invoca_daily groups by the local date the Invoca UI shows; the var switches it to UTC.
    const days = `SELECT
        (SELECT COUNT(*) FROM calls WHERE CAST(start_date_local AS DATE) <> CAST(start_time AS DATE)) AS days_differ,
        (SELECT COUNT(*) FROM invoca_daily) AS daily_rows,
        (SELECT COUNT(*) FROM invoca_daily d JOIN (SELECT CAST(start_date_local AS DATE) AS day, COUNT(*) AS calls FROM calls GROUP BY 1) l ON l.day = d.call_date AND l.calls = d.calls) AS local_matches,
        (SELECT COUNT(*) FROM invoca_daily d JOIN (SELECT CAST(start_time AS DATE) AS day, COUNT(*) AS calls FROM calls GROUP BY 1) u ON u.day = d.call_date AND u.calls = d.calls) AS utc_matches`;
    const local = await query(days);
    expect(Number(local['days_differ'])).toBeGreaterThan(0);
    expect(local['local_matches']).toBe(local['daily_rows']);
    await dbt('build', '--select', 'invoca_daily', '--vars', '{invoca_daily_date: utc}');
    const utc = await query(days);
    expect(utc['utc_matches']).toBe(utc['daily_rows']);
    await dbt('build', '--select', 'invoca_daily');

    sim.append(600);
    const state = await jsonFile(JSON.parse(first.targetStdout.at(-1) ?? '{}'));
    await pipeTap(['--config', config, '--state', state], target, ['--config', loader]);
    expect(await dbt('build')).toMatch(/Done\. PASS=\d+ WARN=0 ERROR=0/);
    await check();
  }, 300_000);

  test.each(['bigquery', 'snowflake'])(
    'dbt parse --target %s',
    async (target) => {
      await dbt('parse', '--target', target);
    },
    120_000,
  );
});
