/**
 * What the emulators cannot show: every statement target-invoca sends to BigQuery and Snowflake,
 * for a catalog of hostile custom-field names, checked by the warehouses' own front ends offline
 * (Google's GoogleSQL parser and analyzer, tools/googlesql-check; sqlglot in each dialect), each
 * warehouse's name rules, and the same names loaded for real (DuckDB, PGlite) with every value
 * found in its column. `target-invoca sql` is what is checked; on DuckDB it is compared with
 * DuckDB's own log of what the loader ran.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { describe, expect, test } from '@jest/globals';
import { run as runTarget } from '../../src/cli/target.js';
import { parseLoaderConfig, type LoaderConfig } from '../../src/config/loader-config.js';
import type { JsonSchema } from '../../src/config/validate.js';
import { dataColumns } from '../../src/load/columns.js';
import { describeSql, outputTables, type SqlDescription } from '../../src/load/describe.js';
import { openDuckDb } from '../../src/load/duckdb-warehouse.js';
import { Loader } from '../../src/load/loader.js';
import { mapSourceColumns } from '../../src/load/merge-source.js';
import { affectedTables, HISTORY_FIELDS, systemColumns } from '../../src/load/plan.js';
import { bigqueryDialect, mergeScript } from '../../src/load/sql/bigquery.js';
import type { ColumnKind } from '../../src/load/sql/dialect.js';
import { duckdbDialect } from '../../src/load/sql/duckdb.js';
import { snowflakeDialect } from '../../src/load/sql/snowflake.js';
import { heldStage, type Warehouse } from '../../src/load/warehouse.js';
import { createMemoryLogger } from '../helpers/logger.js';
import { StreamSchema } from '../../src/stream/schema.js';
import { staged, type TestRecord } from '../helpers/merge-oracle.js';
import { HOSTILE_FIELDS } from '../helpers/hostile-names.js';
import { openPglite } from '../helpers/pglite-warehouse.js';
import { jsonFile, tempDir } from '../helpers/tap.js';
import { requireTools, runProcess } from '../helpers/tools.js';

const GOOGLESQL_CHECK = '.tools/bin/googlesql-check';
const PYTHON = '.venv/bin/python';
requireTools([GOOGLESQL_CHECK, PYTHON], 'the warehouse SQL checks');

const schema = new StreamSchema(HOSTILE_FIELDS).toJSON();

const CONFIGS: Record<LoaderConfig['engine'], LoaderConfig> = {
  duckdb: parseLoaderConfig({ engine: 'duckdb', duckdb: { path: 'x.duckdb' } }).config,
  bigquery: parseLoaderConfig({ engine: 'bigquery', bigquery: { project_id: 'my-project', dataset: 'invoca' } }).config,
  snowflake: parseLoaderConfig({
    engine: 'snowflake',
    snowflake: { account: 'a', user: 'u', password: 'p', database: 'analytics', schema: 'raw' },
  }).config,
};
const described = (engine: LoaderConfig['engine']): SqlDescription => describeSql(CONFIGS[engine], schema);

async function runChecker(
  command: string,
  args: string[],
  description: SqlDescription,
): Promise<{ code: number | null; report: { statements: number; errors: unknown[] } }> {
  const result = await runProcess(command, args, { input: JSON.stringify(description) });
  if (!result.stdout.trim()) throw new Error(`${command} printed nothing: ${result.stderr}`);
  return { code: result.code, report: JSON.parse(result.stdout) as { statements: number; errors: unknown[] } };
}

describe.each(['duckdb', 'bigquery', 'snowflake'] as const)('%s names', (engine) => {
  test('one column per field: no two names of a table meet in the engine, each within its length limit', () => {
    const description = described(engine);
    const fold = engine === 'snowflake' ? (name: string) => name : (name: string) => name.toLowerCase();
    for (const table of description.tables) {
      const keys = table.columns.map((column) => fold(column.name));
      expect(new Set(keys).size).toBe(keys.length);
    }
    const current = description.tables.find((table) => table.name.toLowerCase() === 'transactions_current');
    // Every hostile field has its own column (and the merge fields theirs).
    expect(current?.columns.length).toBeGreaterThanOrEqual(HOSTILE_FIELDS.length + 7);
    const limit = { duckdb: Infinity, bigquery: 300, snowflake: 255 }[engine];
    for (const column of current?.columns ?? []) expect([...column.name].length).toBeLessThanOrEqual(limit);
  });

  test('names are stable: the same schema, in another order or after a first run, keeps every column', () => {
    const dialect = { duckdb: duckdbDialect('main'), bigquery: bigqueryDialect('p', 'd'), snowflake: snowflakeDialect('db', 's') }[engine];
    const first = dataColumns(schema, dialect);
    const reversed = new StreamSchema([...HOSTILE_FIELDS].reverse()).toJSON();
    const again = dataColumns(
      reversed,
      dialect,
      first.map((column) => dialect.storedName(column.column)),
    );
    const byField = (columns: typeof first) => Object.fromEntries(columns.map((column) => [column.field, column.column]));
    expect(byField(again)).toEqual(byField(first));
  });
});

test('BigQuery names: letters, digits and _, no reserved prefix, at most 300 characters', () => {
  for (const table of described('bigquery').tables) {
    for (const { name } of table.columns) {
      expect(name).toMatch(/^[A-Za-z_][A-Za-z0-9_]{0,299}$/);
      expect(name.toUpperCase()).not.toMatch(/^(_TABLE_|_FILE_|_PARTITION|_ROW_TIMESTAMP|__ROOT__|_COLIDENTIFIER)/);
    }
  }
});

test('Snowflake: every column the dbt models and the README name unquoted exists under its upper-case name', async () => {
  const sources = await readFile('dbt/models/sources.yml', 'utf8');
  const dbtColumns = [...sources.matchAll(/^ {10,}- name: (\w+)/gm)].map((match) => match[1] ?? '');
  const readme = await readFile('README.md', 'utf8');
  const readmeColumns = [
    'transaction_id',
    'corrects_transaction_id',
    'corrected_at',
    'advertiser_payin_localized',
    '_invoca_version',
    '_invoca_sequence',
    'complete_call_id',
    'call_leg_count',
    'root_transaction_id',
  ];
  for (const column of readmeColumns) expect(readme).toContain(column);
  expect(dbtColumns.length).toBeGreaterThan(3);
  const byTable = new Map(described('snowflake').tables.map((table) => [table.name, new Set(table.columns.map((column) => column.name))]));
  for (const table of ['TRANSACTIONS', 'TRANSACTIONS_CURRENT', 'CALLS']) {
    for (const column of [...dbtColumns, ...readmeColumns]) {
      if (column === 'call_leg_count' && table !== 'CALLS') continue;
      // The history keeps the fields the merge reads (corrected_at_utc, not the local corrected_at).
      if (table === 'TRANSACTIONS' && !HISTORY_FIELDS.includes(column) && !/^(root_transaction_id|_invoca_|advertiser_payin)/.test(column))
        continue;
      expect([table, column, byTable.get(table)?.has(column.toUpperCase())]).toEqual([table, column, true]);
    }
  }
  // The configured database and schema as unquoted SQL resolves them.
  expect(described('snowflake').tables[0]?.path).toEqual(['ANALYTICS', 'RAW', 'TRANSACTIONS']);
});

describe("GoogleSQL (Google's own parser and analyzer) on every BigQuery statement", () => {
  test('the set-up DDL and the batch script for the hostile catalog parse and analyze', async () => {
    const { code, report } = await runChecker(GOOGLESQL_CHECK, [], described('bigquery'));
    expect(report.errors).toEqual([]);
    expect(code).toBe(0);
    expect(report.statements).toBeGreaterThanOrEqual(3 + 8);
  }, 120_000);

  test('the checker fails a statement BigQuery rejects: a JSON path with a doubled quote, an unknown column', async () => {
    const table = { name: 't', path: ['p', 'd', 't'], columns: [{ name: 'raw', type: 'JSON' }] };
    const rejected: SqlDescription = {
      engine: 'bigquery',
      tables: [table],
      setup: [],
      batch: ["SELECT JSON_VALUE(raw, '$.\"Customer''s Name\"') FROM `p`.`d`.`t`", 'SELECT nope FROM `p`.`d`.`t`'],
    };
    const { code, report } = await runChecker(GOOGLESQL_CHECK, [], rejected);
    expect(code).toBe(1);
    expect(report.errors).toHaveLength(2);
  }, 120_000);
});

describe.each(['bigquery', 'snowflake'] as const)('sqlglot (%s dialect) on every statement', (engine) => {
  test('every statement for the hostile catalog parses and is understood', async () => {
    const { code, report } = await runChecker(PYTHON, ['test/sql/sqlglot_check.py'], described(engine));
    expect(report.errors).toEqual([]);
    expect(code).toBe(0);
  }, 60_000);
});

describe.each([
  ['duckdb', (dir: string) => openDuckDb({ path: join(dir, 'hostile.duckdb'), schema: 'main' })],
  ['postgres', () => openPglite()],
] as const)('the hostile names loaded for real on %s', (_engine, open) => {
  test('every value is found in its own column, in transactions_current, calls and the history view', async () => {
    const warehouse: Warehouse = await open(await tempDir());
    try {
      const loader = new Loader(warehouse, createMemoryLogger());
      const record: TestRecord = {
        transaction_id: 'T1',
        transaction_type: 'Call',
        complete_call_id: 'C1',
        start_time_utc: 1_767_254_400_000,
        start_time: '2026-01-01T08:00:00.000Z',
        _invoca_sequence: 1,
        ...Object.fromEntries(HOSTILE_FIELDS.map((field, index) => [field, `value ${index} of ${field}`])),
      };
      await loader.loadBatch(schema, staged([record]));
      const { columns } = loader.plan(schema);
      const q = warehouse.dialect.quote;
      for (const table of ['transactions_history', 'transactions_current', 'calls']) {
        const [row] = await warehouse.query(
          `SELECT ${columns.map((column) => q(column.column)).join(', ')} FROM ${warehouse.dialect.table(table)}`,
        );
        HOSTILE_FIELDS.forEach((field, index) => {
          const column = columns.find((item) => item.field === field)?.column ?? '';
          expect([table, field, row?.[column]]).toEqual([table, field, `value ${index} of ${field}`]);
        });
        expect(row?.[columns.find((item) => item.field === 'transaction_id')?.column ?? '']).toBe('T1');
      }
    } finally {
      await warehouse.close();
    }
  }, 60_000);
});

test("target-invoca sql is what the loader runs: DuckDB's own query log of a first batch", async () => {
  const warehouse = await openDuckDb({ path: join(await tempDir(), 'log.duckdb'), schema: 'main' });
  try {
    await warehouse.execute("CALL enable_logging('QueryLog')");
    const record: TestRecord = { transaction_id: 'T1', transaction_type: 'Call', complete_call_id: 'C1', _invoca_sequence: 1 };
    await new Loader(warehouse, createMemoryLogger()).loadBatch(schema, staged([record]));
    const logged = (await warehouse.query("SELECT message FROM duckdb_logs WHERE type = 'QueryLog' ORDER BY timestamp")).map((row) =>
      String(row['message']),
    );
    const description = describeSql(CONFIGS.duckdb, schema);
    // The file was opened (CREATE SCHEMA) before logging began; the reads of the catalog are not
    // listed, nor the appender's rows (DuckDB logs them as an INSERT of its own).
    const expected = [...description.setup.slice(1), ...description.batch];
    const ran = logged.filter((sql) => !/information_schema|duckdb_logs|enable_logging|__duckdb_internal_appended_data/i.test(sql));
    expect(ran).toEqual(expected);
  } finally {
    await warehouse.close();
  }
});

test.each([
  ["a Singer target's table in the loader's dataset", 'raw_transactions'],
  ["an Airbyte destination's final table in the connection's dataset", 'airbyte_ns.transactions'],
  ["an Airbyte destination's raw table (the record as a JSON STRING)", 'airbyte_internal.airbyte_ns_raw__stream_transactions'],
] as const)(
  'target-invoca merge on BigQuery from %s runs as one script (temporary tables live only in one), which GoogleSQL accepts',
  async (_layout, sourceTable) => {
    // No engine runs it offline: the emulator cannot run a MERGE over a subquery. So a stand-in
    // warehouse (a mock, for that reason) records what the Loader sends, and GoogleSQL checks it
    // against the source table as the other loader writes it.
    const dialect = bigqueryDialect('my-project', 'invoca');
    const fields = [
      'transaction_id',
      'corrects_transaction_id',
      'corrected_at_utc',
      'complete_call_id',
      'transaction_type',
      'advertiser_payin_localized',
      'customer_s_name',
    ];
    const [datasetName, tableName] = sourceTable.includes('.') ? (sourceTable.split('.') as [string, string]) : ['invoca', sourceTable];
    const isRaw = datasetName === 'airbyte_internal';
    const loaderColumns =
      sourceTable === 'raw_transactions'
        ? ['_sdc_extracted_at']
        : ['_airbyte_raw_id', '_airbyte_extracted_at', '_airbyte_meta', '_airbyte_generation_id'];
    const source = isRaw
      ? ['_airbyte_raw_id', '_airbyte_data', '_airbyte_extracted_at', '_airbyte_loaded_at', '_airbyte_meta', '_airbyte_generation_id']
      : [...fields, ...loaderColumns, '_invoca_sequence'];
    const sourceSql = `${dialect.quoteStored('my-project')}.${dialect.quoteStored(datasetName)}.${dialect.quoteStored(tableName)}`;
    const sent: string[] = [];
    const queried: string[] = [];
    const scripts: string[][] = [];
    const created = new Set<string>();
    const standIn: Warehouse = {
      dialect,
      identity: async () => ({ who: 'a stand-in', where: 'nowhere' }),
      statementCosts: async () => [],
      ownershipProblems: async () => [],
      columns: async (table) => (created.has(table) ? new Set(['created']) : undefined),
      findTable: async (table, dataset = 'invoca') =>
        table === tableName && dataset === datasetName ? { sql: sourceSql, columns: new Set(source) } : undefined,
      execute: async (sql) => {
        sent.push(sql);
        const table = /^CREATE TABLE IF NOT EXISTS `[^`]+`\.`[^`]+`\.`([^`]+)`/.exec(sql)?.[1];
        if (table) created.add(table);
        return 0;
      },
      newStageName: () => dialect.table('_invoca_stage_x'),
      openStage: async () => heldStage(async () => undefined),
      // The script BigQuery would be sent, statement by statement.
      runMerge: async (merge) => {
        scripts.push(mergeScript(merge, dialect.callDates?.declare).replace(/;$/, '').split(';\n'));
        return { changed: undefined, rows: [{ n: 3 }] };
      },
      // The keys of a raw table's records, as BigQuery would list them.
      query: async (sql) => {
        queried.push(sql);
        return /JSON_KEYS/.test(sql) ? [...fields, '_invoca_sequence'].map((k) => ({ k })) : [];
      },
      close: async () => undefined,
    };
    expect(await new Loader(standIn, createMemoryLogger()).mergeFromSource(sourceTable)).toEqual({ newTransactions: 3 });
    expect(sent.filter((sql) => /TEMPORARY/.test(sql))).toEqual([]);
    expect(scripts).toHaveLength(1);
    const script = scripts[0] ?? [];
    // A script's DECLAREs come first (the call-date bounds that prune `calls`), then its temporary tables.
    const declared = script.filter((sql) => sql.startsWith('DECLARE '));
    expect(script.slice(0, declared.length)).toEqual(dialect.callDates?.declare);
    expect(script.slice(declared.length, declared.length + 3).every((sql) => sql.startsWith('CREATE TEMPORARY TABLE `_invoca_'))).toBe(
      true,
    );
    expect(script.some((sql) => sql.includes('INSERT INTO `my-project`.`invoca`.`transactions`'))).toBe(true);

    const columns = mapSourceColumns(isRaw ? [...fields, '_invoca_sequence'] : source, dialect);
    const plan = { dialect, columns, stage: dialect.quote('_invoca_new_rows') };
    const typeOf = (kind: ColumnKind | 'raw'): string => (kind === 'raw' ? 'JSON' : dialect.type(kind));
    const sourceTypes: Record<string, string> = {
      advertiser_payin_localized: 'FLOAT64',
      _sdc_extracted_at: 'TIMESTAMP',
      _airbyte_extracted_at: 'TIMESTAMP',
      _airbyte_loaded_at: 'TIMESTAMP',
      _airbyte_meta: 'JSON',
      _airbyte_generation_id: 'INT64',
      _invoca_sequence: 'INT64',
    };
    const tables = [
      {
        name: tableName,
        path: ['my-project', datasetName, tableName],
        columns: source.map((name) => ({ name, type: sourceTypes[name] ?? 'STRING' })),
      },
      ...outputTables(plan, ['my-project', 'invoca'], ['transactions', 'current', 'calls']),
      {
        name: '_invoca_lock',
        path: ['my-project', 'invoca', '_invoca_lock'],
        columns: [
          { name: 'holder', type: 'STRING' },
          { name: 'locked_at', type: 'TIMESTAMP' },
        ],
      },
      {
        name: '_invoca_merge_state',
        path: ['my-project', 'invoca', '_invoca_merge_state'],
        columns: [
          { name: 'source_table', type: 'STRING' },
          { name: 'max_sequence', type: 'INT64' },
          { name: 'merged_at', type: 'TIMESTAMP' },
        ],
      },
      // The script's temporary tables, as it creates them.
      {
        name: '_invoca_new_rows',
        path: ['_invoca_new_rows'],
        columns: [
          { name: 'transaction_id', type: 'STRING' },
          { name: '_invoca_sequence', type: 'INT64' },
        ],
      },
      {
        name: '_invoca_source_firsts',
        path: ['_invoca_source_firsts'],
        columns: [
          ...columns.map((column) => ({ name: column.column, type: typeOf(column.kind) })),
          { name: '_invoca_sequence', type: 'INT64' },
          { name: '_invoca_raw', type: 'JSON' },
        ],
      },
      {
        name: '_invoca_source_transactions',
        path: ['_invoca_source_transactions'],
        columns: [
          ...columns.map((column) => ({ name: column.column, type: typeOf(column.kind) })),
          ...systemColumns('transactions').map((column) => ({ name: column.name, type: typeOf(column.kind) })),
        ],
      },
      ...affectedTables(plan).map((table) => ({
        name: table.name,
        path: [table.name],
        columns: table.columns.map((column) => ({ name: column.name, type: typeOf(column.kind) })),
      })),
    ];
    const { code, report } = await runChecker(GOOGLESQL_CHECK, [], {
      engine: 'bigquery',
      tables,
      setup: queried,
      batch: [`${script.join(';\n')};`],
    });
    expect(report.errors).toEqual([]);
    expect(code).toBe(0);
  },
  120_000,
);

test.each(['duckdb', 'bigquery', 'snowflake'] as const)(
  'target-invoca sql --format json on %s: no credentials, no connection, the description of the shipped catalog',
  async (engine) => {
    const settings = {
      duckdb: { duckdb: { path: join(await tempDir(), 'never-created.duckdb') } },
      bigquery: { bigquery: { project_id: 'my-project', dataset: 'invoca', credentials_path: '/nonexistent/key.json' } },
      snowflake: {
        snowflake: { account: 'nowhere', user: 'u', private_key_path: '/nonexistent/key.p8', database: 'analytics', schema: 'raw' },
      },
    }[engine];
    const out: string[] = [];
    const stdout = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        out.push(chunk.toString());
        callback();
      },
    });
    const code = await runTarget(['sql', '--config', await jsonFile({ engine, ...settings }), '--format', 'json'], {
      stdin: Readable.from([]),
      stdout,
      stderr: () => undefined,
    });
    expect(code).toBe(0);
    const document = JSON.parse(out.join('')) as SqlDescription;
    const catalog = JSON.parse(await readFile('catalog.json', 'utf8')) as { streams: { schema: JsonSchema }[] };
    expect(document).toEqual(describeSql(parseLoaderConfig({ engine, ...settings }).config, catalog.streams[0]?.schema ?? {}));
    expect(document.tables.map((table) => table.name).slice(0, 3)).toEqual(
      engine === 'snowflake' ? ['TRANSACTIONS', 'TRANSACTIONS_CURRENT', 'CALLS'] : ['transactions', 'transactions_current', 'calls'],
    );
    if (engine === 'duckdb') expect(existsSync(settings.duckdb?.path ?? '')).toBe(false);
    // The text format is the same, as commented SQL.
    out.length = 0;
    expect(
      await runTarget(['sql', '--config', await jsonFile({ engine, ...settings })], {
        stdin: Readable.from([]),
        stdout,
        stderr: () => undefined,
      }),
    ).toBe(0);
    expect(out.join('')).toContain(`${document.batch.at(-1) ?? ''};`);
  },
);
