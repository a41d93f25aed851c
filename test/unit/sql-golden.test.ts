/**
 * Golden tests of the generated SQL, one file per dialect: a change to any statement shows up as
 * a diff in review. `UPDATE_GOLDEN=1 npm test` rewrites the files. Every statement is also run on
 * an engine elsewhere (merge.test.ts for duckdb and postgres).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, test } from '@jest/globals';
import { dataColumns } from '../../src/load/columns.js';
import { addMissingColumns, batchSteps, createStage, createTable, dropStage, type MergePlan } from '../../src/load/plan.js';
import { bigqueryColumnName, bigqueryDialect } from '../../src/load/sql/bigquery.js';
import type { Dialect } from '../../src/load/sql/dialect.js';
import { duckdbDialect, jsonPointer } from '../../src/load/sql/duckdb.js';
import { postgresDialect } from '../helpers/postgres-dialect.js';
import { snowflakeDialect } from '../../src/load/sql/snowflake.js';

const schema = {
  properties: {
    transaction_id: { type: 'string' },
    advertiser_payin_localized: { type: ['null', 'number'] },
    duration: { type: ['null', 'integer'] },
    'Purchase Made': { type: ['null', 'string'] },
    'utm.source': { type: ['null', 'string'] },
    'Quote "Q"': { type: ['null', 'string'] },
    custom_data: { type: ['null', 'array'] },
    _invoca_sequence: { type: 'integer' },
  },
};

const dialects: Record<string, Dialect> = {
  duckdb: duckdbDialect('main'),
  postgres: postgresDialect('invoca'),
  bigquery: bigqueryDialect('my-project', 'invoca'),
  snowflake: snowflakeDialect('ANALYTICS', 'INVOCA'),
};

function statements(dialect: Dialect): string {
  const plan: MergePlan = { dialect, columns: dataColumns(schema, dialect), stage: dialect.quote('_invoca_stage') };
  const list = [
    createTable(plan, 'transactions'),
    createTable(plan, 'current'),
    createTable(plan, 'calls'),
    ...addMissingColumns(plan, 'calls', new Set(plan.columns.slice(0, -1).map((column) => column.column))),
    createStage(plan, true),
    // The batch's steps as the loader runs them, in its order (a repeated step once).
    ...batchSteps(plan).map((step) => step.sql),
    dropStage(plan),
  ];
  return `${list.join(';\n\n')};\n`;
}

describe.each(Object.keys(dialects))('%s', (name) => {
  test('the generated statements equal the golden file', async () => {
    const file = `test/golden/${name}.sql`;
    const generated = statements(dialects[name] as Dialect);
    if (process.env['UPDATE_GOLDEN'] === '1') await writeFile(file, generated);
    expect(generated).toBe(await readFile(file, 'utf8'));
  });
});

test('identifiers are quoted and escaped in every dialect', () => {
  expect(dialects['duckdb']?.quote('a"b')).toBe('"a""b"');
  expect(dialects['bigquery']?.quote('a`b')).toBe('`a\\`b`');
  expect(dialects['snowflake']?.table('calls')).toBe('"ANALYTICS"."INVOCA"."CALLS"');
  expect(jsonPointer('a/b~c')).toBe('/a~1b~0c');
});

test('BigQuery column names: valid ones kept, others sanitised with a hash so two never collide', () => {
  expect(bigqueryColumnName('transaction_id')).toBe('transaction_id');
  expect(bigqueryColumnName('Purchase Made')).toMatch(/^Purchase_Made_[0-9a-f]{6}$/);
  expect(bigqueryColumnName('Purchase.Made')).not.toBe(bigqueryColumnName('Purchase Made'));
  expect(bigqueryColumnName('1st call')).toMatch(/^_1st_call_[0-9a-f]{6}$/);
});

test('PostgreSQL names over 63 bytes are cut and end in a hash', () => {
  const long = 'x'.repeat(80);
  const name = dialects['postgres']?.columnName(long) ?? '';
  expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
  expect(name).not.toBe(dialects['postgres']?.columnName(`${long}y`));
});

test('BigQuery: a table whose columns have no start_time (another target’s, for target-invoca merge) is clustered, not partitioned', () => {
  const dialect = dialects['bigquery'] as Dialect;
  const columns = dataColumns(schema, dialect).filter((column) => column.field !== 'start_time');
  const sql = createTable({ dialect, columns, stage: dialect.quote('_invoca_stage') }, 'calls');
  expect(sql).toMatch(/\) CLUSTER BY `complete_call_id`$/);
  expect(sql).not.toMatch(/PARTITION BY/);
});

test("DuckDB: wide rows are fetched by rowid, except where a data column named rowid hides a table's", () => {
  const dialect = duckdbDialect('main');
  const sqlOf = (properties: Record<string, { type: string | string[] }>): string =>
    batchSteps({ dialect, columns: dataColumns({ properties }, dialect), stage: dialect.quote('_invoca_stage') })
      .map((step) => step.sql)
      .join('\n');
  const tableRowIds = /\.rowid IN \(SELECT \w+\.rowid FROM/;
  // The stage holds only the loader's columns: its first deliveries are always found by rowid.
  const stageRowIds = /s\.rowid IN \(SELECT f\."_invoca_stage_row" FROM \(SELECT s\.rowid AS "_invoca_stage_row" FROM "_invoca_stage"/;
  expect(sqlOf(schema.properties)).toMatch(tableRowIds);
  expect(sqlOf(schema.properties)).toMatch(stageRowIds);
  const hidden = sqlOf({ ...schema.properties, RowId: { type: ['null', 'string'] } });
  expect(hidden).not.toMatch(tableRowIds);
  expect(hidden).toMatch(stageRowIds);
  expect(hidden).toMatch(/"RowId"/);
});
