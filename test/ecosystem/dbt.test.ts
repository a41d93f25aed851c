/**
 * The dbt project in dbt/ on real dbt (PyPI, in .venv-dbt): `dbt build` (models and their tests)
 * with dbt-duckdb on tables target-invoca loaded from the simulator, again after new rows with
 * late corrections (the incremental model must still equal transactions_current), and a
 * re-rooting between two runs; and `dbt compile` for BigQuery and Snowflake, every compiled model,
 * hook and data test checked by that warehouse's front end: GoogleSQL's analyzer for BigQuery,
 * sqlglot (parse, and every column resolved) for Snowflake, against the tables
 * `target-invoca sql` describes and the models before it.
 */
import { cp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { parseLoaderConfig } from '../../src/config/loader-config.js';
import { describeSql, type SqlDescription } from '../../src/load/describe.js';
import { openDuckDb } from '../../src/load/duckdb-warehouse.js';
import { Loader } from '../../src/load/loader.js';
import { StreamSchema } from '../../src/stream/schema.js';
import { createMemoryLogger } from '../helpers/logger.js';
import { fromNanos, MergeOracle, staged, toNanos, type TestRecord } from '../helpers/merge-oracle.js';
import { recordMaker } from '../helpers/records.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { pipeTap } from '../helpers/pipe.js';
import { simulator } from '../helpers/simulator.js';
import { jsonFile, tapConfig, tempDir } from '../helpers/tap.js';
import { runProcess, requireTools } from '../helpers/tools.js';
import { EMULATOR_BIN, startEmulator, staticAuth } from '../helpers/bigquery-emulator.js';
import { BigQuery } from '@google-cloud/bigquery';

const DBT = resolve('.venv-dbt/bin/dbt');
const GOOGLESQL_CHECK = '.tools/bin/googlesql-check';
const PYTHON = '.venv/bin/python';
requireTools([DBT, GOOGLESQL_CHECK, PYTHON, EMULATOR_BIN], 'the dbt tests');

describe('dbt', () => {
  let sim: RunningSimulator;
  let directory: string;
  let database: string;

  async function dbt(...args: string[]): Promise<string> {
    return dbtOn(database, ...args);
  }

  async function dbtOn(path: string, ...args: string[]): Promise<string> {
    const result = await runDbt(path, args);
    const text = result.stdout + result.stderr;
    if (result.code !== 0) throw new Error(`dbt ${args.join(' ')} exited ${result.code}:\n${text.slice(-3000)}`);
    return text;
  }

  /** dbt on the project in dbt/, its DuckDB profile on the file at `path`; the exit code is the caller's to judge. */
  function runDbt(path: string, args: string[]) {
    return runProcess(
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
        env: { ...process.env, DBT_DUCKDB_PATH: path, DBT_SEND_ANONYMOUS_USAGE_STATS: 'false' },
      },
    );
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

  test('invoca_corrections_daily equals figures computed from the delivered records; dbt source freshness passes, then warns and errors as the loads age', async () => {
    // The feed as delivered (each transaction's first delivery, from `transactions._invoca_raw`),
    // through the independent model of the merge (test/helpers/merge-oracle.ts).
    const warehouse = await openDuckDb({ path: database, schema: 'main' });
    let rows: Record<string, unknown>[];
    let delivered: TestRecord[];
    try {
      delivered = (await warehouse.query('SELECT CAST(_invoca_raw AS VARCHAR) AS raw FROM transactions')).map(
        (row) => JSON.parse(String(row['raw'])) as TestRecord,
      );
      rows = await warehouse.query(
        `SELECT CAST(call_date AS VARCHAR) AS d, corrections_received AS n, CAST(revenue_first_delivered AS VARCHAR) AS first,
                CAST(revenue_now AS VARCHAR) AS now, CAST(revenue_moved_by_corrections AS VARCHAR) AS moved
         FROM invoca_corrections_daily ORDER BY 1`,
      );
    } finally {
      await warehouse.close();
    }
    const oracle = new MergeOracle();
    oracle.load(delivered);
    const byId = new Map(delivered.map((record) => [record.transaction_id, record]));
    const dayOf = (record: TestRecord): string =>
      String(record['start_date_local'] ?? String(record['start_time']).slice(0, 10)).slice(0, 10);
    const isCorrection = (record: TestRecord): boolean =>
      typeof record['corrects_transaction_id'] === 'string' && record['corrects_transaction_id'] !== '';
    const days = new Map<string, { n: number; first: bigint; now: bigint }>();
    const day = (date: string) => {
      const entry = days.get(date) ?? { n: 0, first: 0n, now: 0n };
      days.set(date, entry);
      return entry;
    };
    for (const record of delivered) {
      const callLeg =
        record['transaction_type'] === 'Call' && typeof record['complete_call_id'] === 'string' && record['complete_call_id'] !== '';
      if (!callLeg) continue;
      if (isCorrection(record)) day(dayOf(record)).n++;
      else day(dayOf(record)).first += toNanos(record['advertiser_payin_localized'] ?? '0');
    }
    for (const call of oracle.expected().calls.values()) {
      const latest = byId.get(call.transactionId);
      if (latest) day(dayOf(latest)).now += toNanos(call.payin ?? '0');
    }
    const want = [...days]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([d, figures]) => ({
        d,
        n: String(figures.n),
        first: fromNanos(figures.first),
        now: fromNanos(figures.now),
        moved: fromNanos(figures.now - figures.first),
      }));
    const got = rows.map((row) => ({
      d: String(row['d']),
      n: String(row['n']),
      first: fromNanos(toNanos(row['first'])),
      now: fromNanos(toNanos(row['now'])),
      moved: fromNanos(toNanos(row['moved'])),
    }));
    expect(got).toEqual(want);
    expect(want.some((figures) => figures.moved !== '0')).toBe(true);

    // Freshness, by shifting the load times back (not by waiting): 30 minutes warns, 2 hours errors.
    const freshness = async (): Promise<{ code: number | null; statuses: string[] }> => {
      const result = await runDbt(database, ['source', 'freshness']);
      // One line per source: "1 of 3 PASS freshness of invoca.calls", WARN, or ERROR STALE.
      const statuses = [...(result.stdout + result.stderr).matchAll(/\d+ of 3 (PASS|WARN|ERROR STALE) freshness of invoca\.(\w+)/g)]
        .map((match) => `${match[2]} ${match[1]}`)
        .sort();
      return { code: result.code, statuses };
    };
    const all = (status: string): string[] => ['calls', 'transactions', 'transactions_current'].map((table) => `${table} ${status}`);
    const shift = async (minutes: number): Promise<void> => {
      const shifted = await openDuckDb({ path: database, schema: 'main' });
      try {
        await shifted.execute(`UPDATE transactions SET _invoca_loaded_at = _invoca_loaded_at - INTERVAL '${minutes} minutes'`);
        for (const table of ['transactions_current', 'calls']) {
          await shifted.execute(`UPDATE ${table} SET _invoca_merged_at = _invoca_merged_at - INTERVAL '${minutes} minutes'`);
        }
      } finally {
        await shifted.close();
      }
    };
    expect(await freshness()).toEqual({ code: 0, statuses: all('PASS') });
    await shift(30);
    expect(await freshness()).toEqual({ code: 0, statuses: all('WARN') });
    await shift(90);
    expect(await freshness()).toEqual({ code: 1, statuses: all('ERROR STALE') });
    await shift(-120);
  }, 300_000);

  test('a lineage re-rooted between two runs: the incremental model drops its provisional root, as transactions_current does', async () => {
    const rerootDatabase = join(directory, 'reroot.duckdb');
    const { call, fix } = recordMaker();
    const original = call('A', 'CALL-R', '10.00');
    const first = fix(original, 'C1', '2026-01-02T00:00:00Z', '9.00');
    const second = fix(first, 'C2', '2026-01-03T00:00:00Z', '8.00');
    const load = async (records: ReturnType<typeof call>[]): Promise<void> => {
      const warehouse = await openDuckDb({ path: rerootDatabase, schema: 'main' });
      try {
        await new Loader(warehouse, createMemoryLogger()).loadBatch(new StreamSchema().toJSON(), staged(records));
      } finally {
        await warehouse.close();
      }
    };
    const latest = async (): Promise<unknown[]> => {
      const warehouse = await openDuckDb({ path: rerootDatabase, schema: 'main' });
      try {
        return await warehouse.query(
          `SELECT (SELECT string_agg(root_transaction_id || '>' || transaction_id, ',' ORDER BY root_transaction_id) FROM invoca_transactions_latest) AS model,
                  (SELECT string_agg(root_transaction_id || '>' || transaction_id, ',' ORDER BY root_transaction_id) FROM transactions_current) AS current`,
        );
      } finally {
        await warehouse.close();
      }
    };
    // The correction of a correction comes first: keyed by its provisional root C1.
    await load([second]);
    await dbtOn(rerootDatabase, 'build', '--select', 'invoca_transactions_latest');
    expect(await latest()).toEqual([{ model: 'C1>C2', current: 'C1>C2' }]);
    // C1 and A arrive: the lineage is A's, and C1 is no one's root any more.
    await load([original, first]);
    await dbtOn(rerootDatabase, 'build', '--select', 'invoca_transactions_latest');
    expect(await latest()).toEqual([{ model: 'A>C2', current: 'A>C2' }]);
  }, 120_000);

  /** Compiles the project for a target in a copy of dbt/ (is_incremental() as asked, the pre-hook's DELETE as an analysis); the compiled SQL by file. */
  async function compile(target: 'bigquery' | 'snowflake', incremental: boolean): Promise<Map<string, string>> {
    const project = join(directory, `compile-${target}-${incremental}`);
    await cp('dbt', project, { recursive: true });
    // Only in this copy: dbt asks the warehouse whether the model's table exists; no warehouse is
    // reachable, so the root project's is_incremental() (which takes precedence over dbt's) answers.
    await writeFile(
      join(project, 'macros', 'zz_compile_check.sql'),
      "{% macro is_incremental() %}{{ return(var('invoca_compile_incremental', false)) }}{% endmacro %}\n",
    );
    await mkdir(join(project, 'analyses'), { recursive: true });
    await writeFile(
      join(project, 'analyses', 'invoca_delete_rerooted.sql'),
      "{{ invoca_delete_rerooted(ref('invoca_transactions_latest')) }}\n",
    );
    // Credentials that need no network: compile with --no-introspect opens no connection.
    await writeFile(
      join(project, 'profiles.yml'),
      [
        'tap_invoca:',
        '  target: bigquery',
        '  outputs:',
        '    bigquery: {type: bigquery, method: oauth-secrets, token: not-a-token, project: my-project, dataset: invoca, threads: 1}',
        '    snowflake: {type: snowflake, account: nowhere, user: nobody, password: not-a-password, database: ANALYTICS, schema: INVOCA, threads: 1}',
        '',
      ].join('\n'),
    );
    const targetPath = join(project, 'target');
    const result = await runProcess(
      DBT,
      [
        'compile',
        '--target',
        target,
        '--no-introspect',
        '--no-populate-cache',
        '--vars',
        `{invoca_compile_incremental: ${incremental}}`,
        '--project-dir',
        project,
        '--profiles-dir',
        project,
        '--target-path',
        targetPath,
        '--log-path',
        join(project, 'logs'),
      ],
      { env: { ...process.env, DBT_SEND_ANONYMOUS_USAGE_STATS: 'false' } },
    );
    if (result.code !== 0)
      throw new Error(`dbt compile --target ${target} exited ${result.code}:\n${(result.stdout + result.stderr).slice(-3000)}`);
    const manifest = JSON.parse(await readFile(join(targetPath, 'manifest.json'), 'utf8')) as {
      nodes: Record<string, { resource_type: string; name: string; compiled_code?: string }>;
    };
    return new Map(
      Object.values(manifest.nodes)
        .filter((node) => node.compiled_code !== undefined)
        .map((node) => [`${node.resource_type}:${node.name}`, node.compiled_code ?? '']),
    );
  }

  /** The models in dependency order, then the incremental model's own run and its hook, then every data test. */
  function checkList(plain: Map<string, string>, incremental: Map<string, string>, path: (name: string) => string[]) {
    const models = [
      'stg_invoca_events',
      'invoca_calls',
      'invoca_daily',
      'invoca_signals',
      'invoca_transactions_latest',
      'invoca_corrections_daily',
    ];
    const sql = (compiled: Map<string, string>, key: string): string => {
      const text = compiled.get(key);
      if (text === undefined) throw new Error(`dbt compiled no ${key}`);
      return text;
    };
    return [
      ...models.map((name) => ({ path: path(name), sql: sql(plain, `model:${name}`) })),
      { path: path('invoca_transactions_latest_incremental_run'), sql: sql(incremental, 'model:invoca_transactions_latest') },
      { path: [], sql: sql(incremental, 'analysis:invoca_delete_rerooted') },
      ...[...plain].filter(([key]) => key.startsWith('test:')).map(([, text]) => ({ path: [], sql: text })),
    ];
  }

  const described = (config: Record<string, unknown>): SqlDescription => {
    const catalog = { transactions: new StreamSchema().toJSON() };
    return describeSql(parseLoaderConfig(config).config, catalog.transactions);
  };

  test("dbt compile --target bigquery: every compiled model, hook and test passes GoogleSQL's analyzer against the loader's tables", async () => {
    const [plain, incremental] = [await compile('bigquery', false), await compile('bigquery', true)];
    const tables = described({ engine: 'bigquery', bigquery: { project_id: 'my-project', dataset: 'invoca' } }).tables;
    const models = checkList(plain, incremental, (name) => ['my-project', 'invoca', name]);
    expect(models.length).toBeGreaterThan(20);
    const result = await runProcess(GOOGLESQL_CHECK, [], {
      input: JSON.stringify({ engine: 'bigquery', tables, setup: [], batch: [], models }),
    });
    const report = JSON.parse(result.stdout || '{}') as { statements: number; errors: unknown[] };
    expect(report.errors).toEqual([]);
    expect([result.code, report.statements]).toEqual([0, models.length]);

    // The compiled signals model run on the BigQuery emulator: a signal's value is a string's text,
    // as on DuckDB and Snowflake (not its JSON, with quotes), NULL for a JSON null, and any other
    // value's JSON text.
    const emulator = await startEmulator('my-project', 'invoca');
    try {
      const client = new BigQuery({ projectId: emulator.project, apiEndpoint: emulator.endpoint, authClient: staticAuth() });
      const signal = (name: string, value: unknown) => ({ name, data_type: 'Signal', source: 'Machine', value });
      await client.query(
        'CREATE TABLE `my-project.invoca.transactions_current` AS SELECT * FROM UNNEST([STRUCT(' +
          `'CALL-1' AS complete_call_id, 'T-1' AS transaction_id, 'T-1' AS root_transaction_id, ` +
          `PARSE_JSON('${JSON.stringify([signal('Quote', 'abc'), signal('Sale', true), signal('Items', { n: 2 }), signal('Score', 7), signal('Empty', null), { name: 'Coupon', data_type: 'Marketing Data', value: 'x' }])}') AS custom_data)])`,
      );
      const [rows] = await client.query(
        `SELECT signal_name, signal_value FROM (${plain.get('model:invoca_signals') ?? ''}) ORDER BY signal_name`,
      );
      expect(rows).toEqual([
        { signal_name: 'Empty', signal_value: null },
        { signal_name: 'Items', signal_value: '{"n":2}' },
        { signal_name: 'Quote', signal_value: 'abc' },
        { signal_name: 'Sale', signal_value: 'true' },
        { signal_name: 'Score', signal_value: '7' },
      ]);
    } finally {
      await emulator.stop();
    }
  }, 300_000);

  test("dbt compile --target snowflake: every compiled model, hook and test parses in sqlglot and resolves every column against the loader's tables", async () => {
    const [plain, incremental] = [await compile('snowflake', false), await compile('snowflake', true)];
    const tables = described({
      engine: 'snowflake',
      snowflake: { account: 'nowhere', user: 'u', password: 'p', database: 'ANALYTICS', schema: 'INVOCA' },
    }).tables.map((table) => ({ path: table.path, columns: table.columns }));
    const models = checkList(plain, incremental, (name) => ['ANALYTICS', 'INVOCA', name]);
    const result = await runProcess(PYTHON, ['test/sql/sqlglot_models.py'], {
      input: JSON.stringify({ dialect: 'snowflake', tables, models }),
    });
    const report = JSON.parse(result.stdout || '{}') as { statements: number; errors: unknown[] };
    expect(report.errors).toEqual([]);
    expect([result.code, report.statements]).toEqual([0, models.length]);
  }, 300_000);

  test('the checkers fail a model the warehouse would reject: an unknown column; on BigQuery an output column without a name', async () => {
    const broken = [
      { path: ['my-project', 'invoca', 'bad'], sql: 'select no_such_column from `my-project`.`invoca`.`calls`' },
      { path: ['my-project', 'invoca', 'unnamed'], sql: 'select upper(complete_call_id) from `my-project`.`invoca`.`calls`' },
    ];
    const tables = described({ engine: 'bigquery', bigquery: { project_id: 'my-project', dataset: 'invoca' } }).tables;
    const google = await runProcess(GOOGLESQL_CHECK, [], {
      input: JSON.stringify({ engine: 'bigquery', tables, setup: [], batch: [], models: broken }),
    });
    expect(google.code).toBe(1);
    expect(google.stdout).toContain('no_such_column');
    expect(google.stdout).toContain('an output column has no name');
    const snowflakeTables = described({
      engine: 'snowflake',
      snowflake: { account: 'nowhere', user: 'u', password: 'p', database: 'ANALYTICS', schema: 'INVOCA' },
    }).tables.map((table) => ({ path: table.path, columns: table.columns }));
    const sqlglot = await runProcess(PYTHON, ['test/sql/sqlglot_models.py'], {
      input: JSON.stringify({
        dialect: 'snowflake',
        tables: snowflakeTables,
        models: [{ path: ['ANALYTICS', 'INVOCA', 'bad'], sql: 'select no_such_column from ANALYTICS.INVOCA.calls' }],
      }),
    });
    expect(sqlglot.code).toBe(1);
    expect(sqlglot.stdout).toMatch(/no_such_column/i);
  }, 120_000);
});
