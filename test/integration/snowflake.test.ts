/**
 * Snowflake: the generated Snowflake SQL, exactly as generated, executed on fakesnow (Snowflake's
 * Python connector patched onto DuckDB; installed in .venv by scripts/setup-tools.sh): this proves
 * the dialect and the semantics; the stage is filled with bound rows (`executemany`), as the
 * driver's array binds fill it. fakesnow cannot run a MERGE inside BEGIN ... COMMIT, so the steps
 * run in autocommit here (see below). One test drives the Node snowflake-sdk itself over HTTP to
 * fakesnow's server (test/snowflake/fakesnow_server.py), up to the first MERGE of a batch, where
 * the server goes away.
 */
import { describe, expect, test } from '@jest/globals';
import { WarehouseError } from '../../src/errors.js';
import { parseLoaderConfig } from '../../src/config/loader-config.js';
import { dataColumns } from '../../src/load/columns.js';
import { describeSql } from '../../src/load/describe.js';
import { batchSteps as loaderSteps, createStage, createTable, dropStage, type MergePlan } from '../../src/load/plan.js';
import { Loader } from '../../src/load/loader.js';
import { snowflakeDialect } from '../../src/load/sql/snowflake.js';
import { foundTable, openSnowflake } from '../../src/load/snowflake-warehouse.js';
import { heldStage, type Warehouse } from '../../src/load/warehouse.js';
import { fakesnowSettings, startFakesnowServer } from '../helpers/fakesnow-server.js';
import { createMemoryLogger } from '../helpers/logger.js';
import { targetRun } from '../helpers/target-run.js';
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

  test('fakesnow stopped during a batch (after BEGIN, at its first MERGE): one line, no state echoed, nothing of the batch kept; the rerun loads it whole', async () => {
    // The real snowflake-sdk over HTTP to fakesnow's own server (test/snowflake/fakesnow_server.py).
    const dbPath = await tempDir();
    let server = await startFakesnowServer(dbPath, { stopOn: '^MERGE ' });
    const connect = (port: number): Promise<Warehouse> => openSnowflake(fakesnowSettings(port));
    const warehouse = await connect(server.port);
    const { call, fix } = recordMaker(() => ({ 'Purchase Made': 'yes', 'utm.source': 'ads', 'Quote "Q"': 'q' }));
    const a = call('A', 'CALL-A', '10.00');
    const records = [a, fix(a, 'A1', '2026-01-02T00:00:00Z', '8.00'), call('B', 'CALL-B', '2.00')];
    const outcome = targetRun(warehouse, schema, records);
    // The warehouse is gone when the MERGE arrives; the driver retries, and the server back on the
    // same data and port no longer knows the session (as after an outage that outlived it).
    await server.exited;
    server = await startFakesnowServer(dbPath, { port: server.port });
    try {
      const { failure, states } = await outcome;
      await warehouse.close().catch(() => undefined);
      expect(failure).toBeInstanceOf(WarehouseError);
      expect((failure as Error).message).toMatch(/^Snowflake failed: .*\(in: MERGE INTO /);
      expect((failure as Error).message).not.toContain('\n');
      expect(states).toEqual([]);
      // The batch's INSERT into transactions ran before the MERGE, in the transaction that never committed.
      const reader = await connect(server.port);
      expect(await reader.query(`SELECT COUNT(*) AS N FROM ${dialect.table('transactions')}`)).toEqual([{ N: 0 }]);
      await reader.close();
    } finally {
      await server.stop();
    }
    // The rerun, as fakesnow can run it (the steps in autocommit, see the top of this file): whole.
    const oracle = new MergeOracle();
    oracle.load(records);
    const results = await fakesnow(dbPath, [...batchSteps(records).slice(1), ...readBack]);
    expect(toExpected(results.slice(-4))).toEqual(oracle.expected());
  }, 120_000);
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
    ...['transactions_history', 'transactions_current', 'calls'].map((table) => ({
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

const SOURCE_FIELDS = [
  'TRANSACTION_ID',
  'TRANSACTION_TYPE',
  'COMPLETE_CALL_ID',
  'CORRECTS_TRANSACTION_ID',
  'CORRECTED_AT_UTC',
  'ADVERTISER_PAYIN_LOCALIZED',
];
const SOURCE_LAYOUTS = {
  // As MeltanoLabs' target-snowflake writes it: upper-case names, _SDC_* columns, in the loader's schema.
  "a Singer target's table (upper-case names, _SDC_* columns)": {
    sourceTable: 'raw_transactions',
    schema: 'INVOCA',
    table: 'RAW_TRANSACTIONS',
    columns: [...SOURCE_FIELDS, '_SDC_EXTRACTED_AT', '_INVOCA_SEQUENCE'],
    create:
      'CREATE TABLE ANALYTICS.INVOCA.RAW_TRANSACTIONS (TRANSACTION_ID VARCHAR, TRANSACTION_TYPE VARCHAR, COMPLETE_CALL_ID VARCHAR, CORRECTS_TRANSACTION_ID VARCHAR, ' +
      'CORRECTED_AT_UTC VARCHAR, ADVERTISER_PAYIN_LOCALIZED FLOAT, _SDC_EXTRACTED_AT TIMESTAMP_NTZ, _INVOCA_SEQUENCE NUMBER(38, 0))',
    insert: (rows: SourceRow[]) =>
      `INSERT INTO ANALYTICS.INVOCA.RAW_TRANSACTIONS VALUES ${rows
        .map(
          (r) =>
            `('${r.id}', 'Call', 'CALL-A', '${r.corrects}', ${r.correctedAt ? `'${r.correctedAt}'` : 'NULL'}, ${r.payin}, CURRENT_TIMESTAMP(), ${r.sequence})`,
        )
        .join(', ')}`,
  },
  // Airbyte's Snowflake destination: the final table upper case, in the connection's schema, named after the stream.
  "an Airbyte destination's final table in the connection's schema": {
    sourceTable: 'airbyte_ns.transactions',
    schema: 'AIRBYTE_NS',
    table: 'TRANSACTIONS',
    columns: ['_AIRBYTE_RAW_ID', '_AIRBYTE_EXTRACTED_AT', '_AIRBYTE_META', '_AIRBYTE_GENERATION_ID', ...SOURCE_FIELDS, '_INVOCA_SEQUENCE'],
    create:
      'CREATE TABLE ANALYTICS.AIRBYTE_NS.TRANSACTIONS (_AIRBYTE_RAW_ID VARCHAR, _AIRBYTE_EXTRACTED_AT TIMESTAMP_TZ, _AIRBYTE_META VARIANT, _AIRBYTE_GENERATION_ID NUMBER(38, 0), ' +
      'TRANSACTION_ID VARCHAR, TRANSACTION_TYPE VARCHAR, COMPLETE_CALL_ID VARCHAR, CORRECTS_TRANSACTION_ID VARCHAR, CORRECTED_AT_UTC TIMESTAMP_TZ, ADVERTISER_PAYIN_LOCALIZED NUMBER(38, 9), _INVOCA_SEQUENCE NUMBER(38, 0))',
    insert: (rows: SourceRow[]) =>
      `INSERT INTO ANALYTICS.AIRBYTE_NS.TRANSACTIONS (_AIRBYTE_RAW_ID, _AIRBYTE_EXTRACTED_AT, _AIRBYTE_GENERATION_ID, TRANSACTION_ID, TRANSACTION_TYPE, COMPLETE_CALL_ID, CORRECTS_TRANSACTION_ID, CORRECTED_AT_UTC, ADVERTISER_PAYIN_LOCALIZED, _INVOCA_SEQUENCE) VALUES ${rows
        .map(
          (r) =>
            `('raw-${r.id}', CURRENT_TIMESTAMP(), 0, '${r.id}', 'Call', 'CALL-A', '${r.corrects}', ${r.correctedAt ? `'${r.correctedAt}'` : 'NULL'}, ${r.payin}, ${r.sequence})`,
        )
        .join(', ')}`,
  },
  // Airbyte's raw table: lower case and quoted (case-sensitive), the record whole in a VARIANT.
  "an Airbyte destination's raw table (lower-case quoted names, the record in a VARIANT)": {
    sourceTable: 'airbyte_internal.airbyte_ns_raw__stream_transactions',
    schema: 'airbyte_internal',
    table: 'airbyte_ns_raw__stream_transactions',
    columns: ['_airbyte_raw_id', '_airbyte_data', '_airbyte_extracted_at', '_airbyte_loaded_at', '_airbyte_meta', '_airbyte_generation_id'],
    create:
      'CREATE TABLE ANALYTICS."airbyte_internal"."airbyte_ns_raw__stream_transactions" ("_airbyte_raw_id" VARCHAR, "_airbyte_data" VARIANT, ' +
      '"_airbyte_extracted_at" TIMESTAMP_TZ, "_airbyte_loaded_at" TIMESTAMP_TZ, "_airbyte_meta" VARIANT, "_airbyte_generation_id" NUMBER(38, 0))',
    insert: (rows: SourceRow[]) =>
      `INSERT INTO ANALYTICS."airbyte_internal"."airbyte_ns_raw__stream_transactions" ("_airbyte_raw_id", "_airbyte_data", "_airbyte_extracted_at", "_airbyte_generation_id") ${rows
        .map(
          (r) =>
            `SELECT 'raw-${r.id}', PARSE_JSON('${JSON.stringify({ transaction_id: r.id, transaction_type: 'Call', complete_call_id: 'CALL-A', corrects_transaction_id: r.corrects, corrected_at_utc: r.correctedAt || null, advertiser_payin_localized: r.payin, _invoca_sequence: r.sequence })}'), CURRENT_TIMESTAMP(), 0`,
        )
        .join(' UNION ALL ')}`,
  },
} as const;

interface SourceRow {
  id: string;
  corrects: string;
  correctedAt: string;
  payin: number;
  sequence: number;
}

test.each(Object.keys(SOURCE_LAYOUTS) as (keyof typeof SOURCE_LAYOUTS)[])(
  'target-invoca merge over %s runs on fakesnow and merges into all three tables',
  async (layoutName) => {
    // The Loader's statements are recorded by a stand-in warehouse (a mock: no engine speaks the
    // Node driver's protocol offline), then run on fakesnow in that order, against the source
    // table as that loader writes it. The stand-in finds the table as Snowflake's
    // INFORMATION_SCHEMA would list it (foundTable, the warehouse's own choice among its rows).
    const layout = SOURCE_LAYOUTS[layoutName];
    const sfDialect = snowflakeDialect('analytics', 'invoca');
    const statements: string[] = [];
    const created = new Set<string>();
    const keys = SOURCE_FIELDS.map((field) => field.toLowerCase());
    const standIn: Warehouse = {
      dialect: sfDialect,
      identity: async () => ({ who: 'a stand-in', where: 'nowhere' }),
      statementCosts: async () => [],
      ownershipProblems: async () => [],
      columns: async (table) => (created.has(table) ? new Set(['created']) : undefined),
      // What findTableQuery returns (the rows whose names match in any case), and the warehouse's choice among them.
      findTable: async (table, schema = 'INVOCA') =>
        schema.toUpperCase() === layout.schema.toUpperCase() && table.toUpperCase() === layout.table.toUpperCase()
          ? foundTable(
              layout.columns.map((column) => ({ TABLE_SCHEMA: layout.schema, TABLE_NAME: layout.table, COLUMN_NAME: column })),
              'analytics',
              schema,
              table,
            )
          : undefined,
      execute: async (sql) => {
        statements.push(sql);
        const table = /^CREATE TABLE IF NOT EXISTS "[^"]+"\."[^"]+"\."([^"]+)"/.exec(sql)?.[1];
        if (table) created.add(table.toLowerCase());
        return 0;
      },
      newStageName: () => sfDialect.quote('_INVOCA_STAGE'),
      openStage: async () => heldStage(async () => undefined),
      runMerge: async (merge) => {
        statements.push(...(merge.prepare ?? []), ...merge.steps.map((step) => step.sql));
        return { changed: undefined, rows: [] };
      },
      query: async (sql) => {
        statements.push(sql);
        return /FLATTEN/.test(sql) ? [...keys, '_invoca_sequence'].map((k) => ({ k })) : [];
      },
      close: async () => undefined,
    };
    await new Loader(standIn, createMemoryLogger()).mergeFromSource(layout.sourceTable);
    expect(statements.some((sql) => sql.includes('"_invoca_sequence"'))).toBe(layout.schema === 'airbyte_internal');

    const rows: SourceRow[] = [
      { id: 'A', corrects: '', correctedAt: '', payin: 10.5, sequence: 1 },
      { id: 'A1', corrects: 'A', correctedAt: '2026-01-02T00:00:00Z', payin: 8.25, sequence: 2 },
    ];
    const steps: Step[] = [
      { sql: `CREATE SCHEMA IF NOT EXISTS ANALYTICS.${layout.schema === 'airbyte_internal' ? '"airbyte_internal"' : layout.schema}` },
      { sql: 'CREATE SCHEMA IF NOT EXISTS ANALYTICS.INVOCA' },
      { sql: layout.create },
      { sql: layout.insert(rows) },
      ...statements.map((sql) => ({ sql, ...(/^SELECT/.test(sql) ? { fetch: true } : {}) })),
      { sql: 'SELECT ROOT_TRANSACTION_ID AS R, TRANSACTION_ID AS ID FROM ANALYTICS.INVOCA.TRANSACTIONS_CURRENT', fetch: true },
      {
        sql: 'SELECT COMPLETE_CALL_ID AS C, CALL_LEG_COUNT AS LEGS, ADVERTISER_PAYIN_LOCALIZED AS PAYIN FROM ANALYTICS.INVOCA.CALLS',
        fetch: true,
      },
      { sql: 'SELECT TRANSACTION_ID AS ID, ROOT_TRANSACTION_ID AS R FROM ANALYTICS.INVOCA.TRANSACTIONS ORDER BY 1', fetch: true },
    ];
    const results = (await fakesnow(await tempDir(), steps)) as Record<string, unknown>[][];
    if (layout.schema === 'airbyte_internal') {
      // The keys query, run on fakesnow: the fields of the records.
      const keyQuery = steps.findIndex((step) => /FLATTEN/.test(step.sql));
      expect((results[keyQuery] ?? []).map((row) => Object.values(row)[0]).sort()).toEqual([...keys, '_invoca_sequence'].sort());
    }
    expect(results.at(-3)).toEqual([{ R: 'A', ID: 'A1' }]);
    expect(results.at(-2)).toEqual([{ C: 'CALL-A', LEGS: 1, PAYIN: '8.250000000' }]);
    expect(results.at(-1)).toEqual([
      { ID: 'A', R: 'A' },
      { ID: 'A1', R: 'A' },
    ]);
  },
  120_000,
);
