/**
 * Snowflake: the generated Snowflake SQL, exactly as generated, executed on fakesnow (Snowflake's
 * Python connector patched onto DuckDB; installed in .venv by scripts/setup-tools.sh). No emulator serves the
 * Node snowflake-sdk's JSON result format, so this proves the dialect and the semantics; the
 * stage is filled with bound rows (`executemany`), as the driver's array binds fill it. fakesnow
 * cannot run a MERGE inside BEGIN ... COMMIT, so the steps run in autocommit here (see below).
 */
import { describe, expect, test } from '@jest/globals';
import { parseLoaderConfig } from '../../src/config/loader-config.js';
import { dataColumns } from '../../src/load/columns.js';
import { describeSql } from '../../src/load/describe.js';
import { batchSteps as loaderSteps, createStage, createTable, dropStage, type MergePlan } from '../../src/load/plan.js';
import { Loader } from '../../src/load/loader.js';
import { snowflakeDialect } from '../../src/load/sql/snowflake.js';
import type { Warehouse } from '../../src/load/warehouse.js';
import { createMemoryLogger } from '../helpers/logger.js';
import { StreamSchema } from '../../src/stream/schema.js';
import { HOSTILE_FIELDS } from '../helpers/hostile-names.js';
import { recordMaker } from '../helpers/records.js';
import { fromNanos, MergeOracle, toNanos, type Expected, type TestRecord } from '../helpers/merge-oracle.js';
import { simulatedFeed, tempDir } from '../helpers/tap.js';
import { requireTools, runProcess } from '../helpers/tools.js';

const PYTHON = '.venv/bin/python';
requireTools([PYTHON], 'the fakesnow tests');

interface Step {
  sql: string;
  rows?: unknown[][];
  fetch?: boolean;
}

async function fakesnow(dbPath: string, steps: Step[]): Promise<unknown[]> {
  const { code, stdout, stderr } = await runProcess(PYTHON, ['test/snowflake/fakesnow_runner.py'], {
    input: JSON.stringify({ db_path: dbPath, steps }),
  });
  const output = JSON.parse(stdout || '{}') as { results?: unknown[]; error?: string; step?: number; sql?: string };
  if (code !== 0 || !output.results)
    throw new Error(`fakesnow: ${output.error ?? stderr.slice(-500)} at step ${output.step}: ${output.sql}`);
  return output.results;
}

const dialect = snowflakeDialect('ANALYTICS', 'INVOCA');
const schema = new StreamSchema(['Purchase Made', 'utm.source', 'Quote "Q"']).toJSON();
const defaultPlan: MergePlan = { dialect, columns: dataColumns(schema, dialect), stage: dialect.quote('_INVOCA_STAGE') };

function batchSteps(records: TestRecord[], plan: MergePlan = defaultPlan): Step[] {
  return [
    { sql: `CREATE SCHEMA IF NOT EXISTS ${dialect.quote('ANALYTICS')}.${dialect.quote('INVOCA')}` },
    { sql: createTable(plan, 'transactions') },
    { sql: createTable(plan, 'current') },
    { sql: createTable(plan, 'calls') },
    { sql: createStage(plan, true) },
    {
      sql: `INSERT INTO ${plan.stage} VALUES (%s, %s, %s)`,
      rows: records.map((record) => [record.transaction_id, record._invoca_sequence, JSON.stringify(record)]),
    },
    // The loader's steps, in its order, and wrapped in BEGIN ... COMMIT there. fakesnow cannot
    // run a MERGE inside an explicit transaction (its MERGE rewrite writes to a second, internal
    // database), so here they run in autocommit, a repeated one 4 times, and without the lock
    // (its table is the loader's set-up); atomicity is proven on DuckDB and PostgreSQL (merge.test.ts).
    ...loaderSteps(plan)
      .filter((step) => step.name !== 'lock')
      .flatMap((step) => Array.from({ length: step.repeat ? 4 : 1 }, () => ({ sql: step.sql }))),
    { sql: dropStage(plan) },
  ];
}

const q = dialect.quote;
const c = (field: string): string => q(dialect.columnName(field));
const readBack: Step[] = [
  {
    sql: `SELECT ${q('root_transaction_id')} AS R, ${c('transaction_id')} AS ID FROM ${dialect.table('transactions_current')}`,
    fetch: true,
  },
  {
    sql: `SELECT ${c('complete_call_id')} AS CALL_ID, ${q('call_leg_count')} AS LEGS, ${c('advertiser_payin_localized')} AS PAYIN, ${c('transaction_id')} AS ID FROM ${dialect.table('calls')}`,
    fetch: true,
  },
  { sql: `SELECT COUNT(*) AS N FROM ${dialect.table('transactions')}`, fetch: true },
  {
    sql: `SELECT ${c('Purchase Made')} AS P, ${c('utm.source')} AS U, ${c('Quote "Q"')} AS Q FROM ${dialect.table('calls')} WHERE ${c('complete_call_id')} = 'CALL-B'`,
    fetch: true,
  },
];

function toExpected(results: unknown[]): Expected {
  const [current, calls, count] = results as Record<string, unknown>[][];
  return {
    current: new Map((current ?? []).map((row) => [String(row['R']), String(row['ID'])])),
    calls: new Map(
      (calls ?? []).map((row) => [
        String(row['CALL_ID']),
        {
          legs: Number(row['LEGS']),
          payin: row['PAYIN'] === null ? null : fromNanos(toNanos(row['PAYIN'])),
          transactionId: String(row['ID']),
        },
      ]),
    ),
    transactions: Number(count?.[0]?.['N']),
  };
}

describe('the generated Snowflake SQL on fakesnow', () => {
  test('create, stage with binds, the merge steps, read back: equal to the model', async () => {
    const dbPath = await tempDir();
    const oracle = new MergeOracle();
    const { call, fix } = recordMaker(() => ({ 'Purchase Made': 'it\'s "1"', 'utm.source': 'ünï 🦷', 'Quote "Q"': 'back\\slash' }));
    const a = call('A', 'CALL-A', '10.00');
    const legs = [call('L1', 'CALL-L', '1.25'), call('L2', 'CALL-L', '2.50')];
    const first = [a, fix(a, 'A2', '2026-01-02T00:00:00Z', '7.00'), fix(a, 'A1', '2026-01-01T12:00:00Z', '9.00'), ...legs];
    oracle.load(first);
    expect(toExpected(await fakesnow(dbPath, [...batchSteps(first), ...readBack]).then((results) => results.slice(-4)))).toEqual(
      oracle.expected(),
    );

    // A later batch: a late correction of one leg, a new call, a correction before its original, and every earlier row again.
    const b = call('B', 'CALL-B', '3.00');
    const second = [
      fix(legs[0] as TestRecord, 'L1x', '2026-01-03T00:00:00Z', '0.75'),
      fix(b, 'B1', '2026-01-04T00:00:00Z', '2.00'),
      ...first,
    ];
    oracle.load(second);
    const afterSecond = await fakesnow(dbPath, [...batchSteps(second).slice(1), ...readBack]);
    expect(toExpected(afterSecond.slice(-4))).toEqual(oracle.expected());
    const third = [b];
    oracle.load(third);
    const results = await fakesnow(dbPath, [...batchSteps(third).slice(1), ...readBack]);
    const got = toExpected(results.slice(-4));
    expect(got).toEqual(oracle.expected());
    expect(got.calls.get('CALL-L')).toEqual({ legs: 2, payin: '3.25', transactionId: 'L1x' });
    expect(got.calls.get('CALL-B')).toEqual({ legs: 1, payin: '2', transactionId: 'B1' });
    expect(results.at(-1)).toEqual([{ P: 'it\'s "1"', U: 'ünï 🦷', Q: 'back\\slash' }]);
  }, 120_000);

  test("the simulator's feed, in two runs with late corrections: equal to the model", async () => {
    const { schema: feedSchema, records } = await simulatedFeed(800, 31);
    const feedPlan: MergePlan = { dialect, columns: dataColumns(feedSchema, dialect), stage: dialect.quote('_INVOCA_STAGE') };
    const dbPath = await tempDir();
    const oracle = new MergeOracle();
    const feed = records as TestRecord[];
    let results: unknown[] = [];
    for (const [index, batch] of [feed.slice(0, 550), feed.slice(550)].entries()) {
      oracle.load(batch);
      const steps = batchSteps(batch, feedPlan);
      results = await fakesnow(dbPath, [...(index === 0 ? steps : steps.slice(1)), ...readBack.slice(0, 3)]);
    }
    expect(feed.filter((record) => record['corrects_transaction_id']).length).toBeGreaterThan(100);
    expect(toExpected(results.slice(-3))).toEqual(oracle.expected());
  }, 300_000);
});

test('the hostile names: what target-invoca sql prints runs on fakesnow, and every value is in its own column', async () => {
  // Two fakesnow limits, not Snowflake's: it reads `$name` as a session variable even inside a
  // quoted name, and its own catalog bookkeeping does not escape a `'` in a column name. Those
  // names are checked by sqlglot and loaded on the other engines.
  const FAKESNOW_FIELDS = HOSTILE_FIELDS.filter((field) => !/[$']/.test(field));
  const config = parseLoaderConfig({
    engine: 'snowflake',
    snowflake: { account: 'a', user: 'u', password: 'p', database: 'analytics', schema: 'invoca' },
  }).config;
  const hostile = new StreamSchema(FAKESNOW_FIELDS).toJSON();
  const description = describeSql(config, hostile);
  const record: TestRecord = {
    transaction_id: 'T1',
    transaction_type: 'Call',
    complete_call_id: 'C1',
    _invoca_sequence: 1,
    ...Object.fromEntries(FAKESNOW_FIELDS.map((field, index) => [field, `value ${index} of ${field}`])),
  };
  const columns = dataColumns(hostile, dialect);
  const steps: Step[] = [
    // fakesnow implements no ALTER SESSION, and its pyformat connector takes no `?` bind (the
    // schema check): both are covered by sqlglot and the driver recorder instead.
    ...description.setup
      .filter((sql) => !sql.startsWith('ALTER SESSION') && !sql.includes('INFORMATION_SCHEMA.SCHEMATA'))
      .map((sql) => ({ sql })),
    ...description.batch
      // fakesnow cannot MERGE inside BEGIN ... COMMIT (see above): autocommit here.
      .filter((sql) => sql !== 'BEGIN' && sql !== 'COMMIT')
      .map((sql) =>
        sql.endsWith('VALUES (?, ?, ?)')
          ? {
              sql: sql.replace('(?, ?, ?)', '(%s, %s, %s)'),
              rows: [[record.transaction_id, record._invoca_sequence, JSON.stringify(record)]],
            }
          : { sql },
      ),
    ...['transactions', 'transactions_current', 'calls'].map((table) => ({
      sql: `SELECT ${columns.map((column, index) => `${dialect.quote(column.column)} AS "C${index}"`).join(', ')} FROM ${dialect.table(table)}`,
      fetch: true,
    })),
  ];
  const results = await fakesnow(await tempDir(), steps);
  for (const rows of results.slice(-3) as Record<string, unknown>[][]) {
    expect(rows).toHaveLength(1);
    FAKESNOW_FIELDS.forEach((field, index) => {
      const position = columns.findIndex((column) => column.field === field);
      expect([field, rows[0]?.[`C${position}`]]).toEqual([field, `value ${index} of ${field}`]);
    });
  }
}, 120_000);

test('target-invoca merge over a table a Snowflake target wrote (upper-case names, _SDC_* columns) runs on fakesnow and merges', async () => {
  // The Loader's statements are recorded by a stand-in warehouse (a mock: no engine speaks the
  // Node driver's protocol offline), then run on fakesnow in that order, against a source table
  // shaped as MeltanoLabs' target-snowflake writes it.
  const sfDialect = snowflakeDialect('analytics', 'invoca');
  const source = [
    'TRANSACTION_ID',
    'TRANSACTION_TYPE',
    'COMPLETE_CALL_ID',
    'CORRECTS_TRANSACTION_ID',
    'CORRECTED_AT_UTC',
    'ADVERTISER_PAYIN_LOCALIZED',
    '_SDC_EXTRACTED_AT',
    '_INVOCA_SEQUENCE',
  ];
  const statements: string[] = [];
  const created = new Set<string>();
  const standIn: Warehouse = {
    dialect: sfDialect,
    columns: async (table) => (table === 'raw_transactions' ? new Set(source) : created.has(table) ? new Set(['created']) : undefined),
    execute: async (sql) => {
      statements.push(sql);
      const table = /^CREATE TABLE IF NOT EXISTS "[^"]+"\."[^"]+"\."([^"]+)"/.exec(sql)?.[1];
      if (table) created.add(table.toLowerCase());
      return 0;
    },
    stageName: () => sfDialect.quote('_INVOCA_STAGE'),
    stage: async () => undefined,
    runInTransaction: async (steps) => {
      statements.push(...steps.map((step) => step.sql));
      return [];
    },
    query: async (sql) => {
      statements.push(sql);
      return [];
    },
    close: async () => undefined,
  };
  await new Loader(standIn, createMemoryLogger()).mergeFromSource('raw_transactions');
  expect(statements.some((sql) => sql.includes('"_INVOCA_SEQUENCE"'))).toBe(true);
  expect(statements.some((sql) => sql.includes('"_invoca_sequence"'))).toBe(false);

  const row = (id: string, corrects: string, correctedAt: string, payin: number, sequence: number): string =>
    `('${id}', 'Call', 'CALL-A', '${corrects}', ${correctedAt ? `'${correctedAt}'` : 'NULL'}, ${payin}, CURRENT_TIMESTAMP(), ${sequence})`;
  const steps: Step[] = [
    { sql: 'CREATE SCHEMA IF NOT EXISTS ANALYTICS.INVOCA' },
    {
      sql:
        'CREATE TABLE ANALYTICS.INVOCA.RAW_TRANSACTIONS (TRANSACTION_ID VARCHAR, TRANSACTION_TYPE VARCHAR, COMPLETE_CALL_ID VARCHAR, CORRECTS_TRANSACTION_ID VARCHAR, ' +
        'CORRECTED_AT_UTC VARCHAR, ADVERTISER_PAYIN_LOCALIZED FLOAT, _SDC_EXTRACTED_AT TIMESTAMP_NTZ, _INVOCA_SEQUENCE NUMBER(38, 0))',
    },
    {
      sql: `INSERT INTO ANALYTICS.INVOCA.RAW_TRANSACTIONS VALUES ${row('A', '', '', 10.5, 1)}, ${row('A1', 'A', '2026-01-02T00:00:00Z', 8.25, 2)}`,
    },
    ...statements.map((sql) => ({ sql, ...(/^SELECT/.test(sql) ? { fetch: true } : {}) })),
    { sql: 'SELECT ROOT_TRANSACTION_ID AS R, TRANSACTION_ID AS ID FROM ANALYTICS.INVOCA.TRANSACTIONS_CURRENT', fetch: true },
    {
      sql: 'SELECT COMPLETE_CALL_ID AS C, CALL_LEG_COUNT AS LEGS, ADVERTISER_PAYIN_LOCALIZED AS PAYIN FROM ANALYTICS.INVOCA.CALLS',
      fetch: true,
    },
  ];
  const results = (await fakesnow(await tempDir(), steps)) as Record<string, unknown>[][];
  expect(results.at(-2)).toEqual([{ R: 'A', ID: 'A1' }]);
  expect(results.at(-1)).toEqual([{ C: 'CALL-A', LEGS: 1, PAYIN: '8.250000000' }]);
}, 120_000);
