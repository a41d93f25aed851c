/**
 * `target-invoca merge`: the correction merge over a raw table that another Singer target loaded
 * (target-duckdb, target-postgres, target-bigquery, target-snowflake...). Pure SQL generation and
 * column mapping; the Loader runs it.
 *
 * Columns: a source column named as a tap field is that field. One that another target renamed
 * (lower-cased, spaces and dots turned into `_`, as most Singer targets do) is matched to the tap
 * field whose name normalises the same way. Any other column (a custom column the target renamed,
 * a column it added) keeps the source's name. `_sdc_*` (Singer) and `_airbyte_*` (Airbyte
 * destinations: `_airbyte_raw_id`, `_airbyte_extracted_at`, `_airbyte_meta`,
 * `_airbyte_generation_id`) columns are the loader's own and are skipped. The source must have `transaction_id` and `_invoca_sequence` (the tap emits both).
 *
 * Incremental: rows with `_invoca_sequence` above the watermark kept in `_invoca_merge_state` are
 * the new ones; only their lineages and calls are merged. The lineages are read from a snapshot
 * of the source (first delivery of each transaction, its root and version), rebuilt each run.
 * Roots follow up to two links of a correction chain (Invoca's corrections name the original).
 */
import { BASE_SCHEMA } from '../stream/schema.js';
import { isCorrectionSql, versionSql } from '../stream/version.js';
import { columnKind, columnNameOf, columnOfField, MERGE_FIELD_KINDS, type DataColumn } from './columns.js';
import { TABLES, transactionColumnNames, type MergePlan } from './plan.js';
import type { ColumnKind, Dialect } from './sql/dialect.js';

export const MERGE_STATE_TABLE = '_invoca_merge_state';

export interface SourceColumn extends DataColumn {
  /** The column's name in the source table. */
  source: string;
}

function normalise(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

const KNOWN_KINDS: ReadonlyMap<string, ColumnKind> = new Map<string, ColumnKind>([
  ...Object.entries(BASE_SCHEMA.properties ?? {}).map(([field, schema]) => [field, columnKind(schema)] as [string, ColumnKind]),
  ...MERGE_FIELD_KINDS.map(([field, kind]) => [field, kind] as [string, ColumnKind]),
]);
const KNOWN_BY_NORMAL = new Map([...KNOWN_KINDS.keys()].map((field) => [normalise(field), field]));

/** Columns that a loader adds, not Invoca: skipped. */
const LOADER_PREFIXES = ['_sdc_', '_airbyte_', '_invoca_'] as const;

/** The data columns of the merge, each with the source column it comes from. */
export function mapSourceColumns(sourceColumns: readonly string[], dialect: Dialect): SourceColumn[] {
  const mapped = new Map<string, SourceColumn>();
  for (const source of sourceColumns) {
    // The other loader's own columns, and ours (any case: a Snowflake target writes _INVOCA_SEQUENCE).
    if (LOADER_PREFIXES.some((prefix) => source.toLowerCase().startsWith(prefix))) continue;
    const field = KNOWN_KINDS.has(source) ? source : (KNOWN_BY_NORMAL.get(normalise(source)) ?? source);
    if (mapped.has(field)) continue;
    mapped.set(field, { field, source, column: dialect.columnName(field), kind: KNOWN_KINDS.get(field) ?? 'string' });
  }
  if (!mapped.has('transaction_id')) throw new Error('the source table has no transaction_id column');
  return [...mapped.values()];
}

export interface SourcePlan {
  plan: MergePlan;
  /** The first delivery of each transaction, typed: a temporary table. */
  firsts: string;
  columns: SourceColumn[];
  /** The source table, or a query over it (a raw table's records as columns). */
  source: string;
  /** The source's `_invoca_sequence` column, as the warehouse stores it. */
  sequence: string;
  /** The source's column holding the whole record as the raw JSON type (a raw table); else the row is made one. */
  record?: string;
}

/** More top-level keys than this in a raw table's records is not an Invoca feed. */
export const MAX_RAW_KEYS = 5_000;

/**
 * The column of an Airbyte raw table (`airbyte_internal.<namespace>_raw__stream_transactions`)
 * that holds the record, when the table is one: `_airbyte_data` and no typed `transaction_id`.
 */
export function airbyteDataColumn(columns: Iterable<string>): string | undefined {
  const names = [...columns];
  if (names.some((name) => name.toLowerCase() === 'transaction_id')) return undefined;
  return names.find((name) => name.toLowerCase() === '_airbyte_data');
}

/**
 * A raw table's records as a table of columns: each field of the records (`keys`, from
 * `dialect.jsonKeys`) typed as the tap types it, the sequence, and the record itself. Columns are
 * named by position: a field's name may be longer than the engine allows or need quoting.
 */
export function rawTableSource(
  dialect: Dialect,
  table: string,
  dataColumn: string,
  keys: readonly string[],
): Pick<SourcePlan, 'source' | 'columns' | 'sequence' | 'record'> {
  const raw = dialect.storedJson(`r.${dialect.quoteStored(dataColumn)}`);
  const columns = mapSourceColumns(keys, dialect).map((column, index) => ({ ...column, source: `_invoca_field_${index}` }));
  const select = [
    ...columns.map((column) => `${dialect.extract(raw, column.field, column.kind)} AS ${dialect.quoteStored(column.source)}`),
    `${dialect.extract(raw, '_invoca_sequence', 'integer')} AS ${dialect.quoteStored('_invoca_sequence')}`,
    `${raw} AS ${dialect.quoteStored('_invoca_record')}`,
  ];
  return {
    source: `(SELECT ${select.join(', ')} FROM ${table} AS r)`,
    columns,
    sequence: '_invoca_sequence',
    record: '_invoca_record',
  };
}

/** The source's `_invoca_sequence` column as stored (a Snowflake target upper-cases it), if it has one. */
export function sequenceColumn(sourceColumns: Iterable<string>): string | undefined {
  return [...sourceColumns].find((name) => name.toLowerCase() === '_invoca_sequence');
}

/** CREATE TEMPORARY TABLE <firsts>: each transaction's first delivery, typed, with its raw row. */
export function createFirsts(source: SourcePlan): string {
  const { dialect } = source.plan;
  const q = dialect.quote;
  const select = [
    ...source.columns.map((column) => `${dialect.cast(`s.${dialect.quoteStored(column.source)}`, column.kind)} AS ${q(column.column)}`),
    `s.${dialect.quoteStored(source.sequence)} AS ${q('_invoca_sequence')}`,
    `${source.record ? `s.${dialect.quoteStored(source.record)}` : dialect.rowToJson('s')} AS ${q('_invoca_raw')}`,
  ];
  const names = [...source.columns.map((column) => column.column), '_invoca_sequence', '_invoca_raw'];
  const id = columnOfField(source.columns, 'transaction_id')?.source ?? 'transaction_id';
  return (
    `CREATE TEMPORARY TABLE ${source.firsts} AS ` +
    dialect.firstPerKey({
      select,
      names,
      from: `${source.source} AS s`,
      // A row without a sequence has no place in the version order: it is not merged.
      where: `s.${dialect.quoteStored(id)} IS NOT NULL AND s.${dialect.quoteStored(source.sequence)} IS NOT NULL`,
      partitionBy: `s.${dialect.quoteStored(id)}`,
      orderBy: `s.${dialect.quoteStored(source.sequence)} ASC`,
    })
  );
}

/** CREATE TEMPORARY TABLE <plan.transactions>: the firsts with root and version, shaped like `transactions`. */
export function createSourceTransactions(source: SourcePlan): string {
  const { dialect } = source.plan;
  const q = dialect.quote;
  const column = (field: string): string => q(columnNameOf(source.plan.columns, field));
  const id = column('transaction_id');
  const corrects = column('corrects_transaction_id');
  const isCorrection = (alias: string): string => isCorrectionSql(`${alias}.${corrects}`);
  const version = versionSql(dialect, {
    corrects: `f.${corrects}`,
    correctedAt: `f.${column('corrected_at_utc')}`,
    sequence: `f.${q('_invoca_sequence')}`,
    id: `f.${id}`,
  });
  const root = `CASE WHEN ${isCorrection('f')} THEN CASE WHEN ${isCorrection('p')} THEN p.${corrects} ELSE f.${corrects} END ELSE f.${id} END`;
  const values = [
    ...source.plan.columns.map((item) => `f.${q(item.column)} AS ${q(item.column)}`),
    `${root} AS ${q('root_transaction_id')}`,
    `f.${q('_invoca_sequence')} AS ${q('_invoca_sequence')}`,
    `${version} AS ${q('_invoca_version')}`,
    `${dialect.now} AS ${q('_invoca_loaded_at')}`,
    `f.${q('_invoca_raw')} AS ${q('_invoca_raw')}`,
  ];
  return (
    `CREATE TEMPORARY TABLE ${source.plan.transactions} AS SELECT ${values.join(', ')} ` +
    `FROM ${source.firsts} AS f LEFT JOIN ${source.firsts} AS p ON p.${id} = f.${corrects}`
  );
}

/**
 * CREATE TEMPORARY TABLE <stage>: the transactions delivered since the watermark, with the
 * highest sequence of each. Created before the snapshot of the source, so that every row it
 * holds is also in the snapshot (rows are only ever added to the source).
 */
export function createNewRows(source: SourcePlan, watermark: number): string {
  const { dialect } = source.plan;
  const q = dialect.quote;
  const id = dialect.quoteStored(columnOfField(source.columns, 'transaction_id')?.source ?? 'transaction_id');
  const sequence = dialect.quoteStored(source.sequence);
  return (
    `CREATE TEMPORARY TABLE ${source.plan.stage} AS SELECT s.${id} AS ${q('transaction_id')}, ` +
    `MAX(s.${sequence}) AS ${q('_invoca_sequence')} FROM ${source.source} AS s ` +
    `WHERE s.${sequence} > ${Math.trunc(watermark)} AND s.${id} IS NOT NULL GROUP BY s.${id}`
  );
}

/**
 * INSERT INTO transactions: every transaction of the source it does not hold yet (the new ones,
 * and any that reached the source with a sequence below the watermark), with its root (two links
 * of its chain: the re-rooting step after it follows the rest), version and record, stamped with
 * the time of the merge's own transaction.
 */
export function insertSourceTransactions(source: SourcePlan): string {
  const { plan } = source;
  const { dialect } = plan;
  const q = dialect.quote;
  const transactions = dialect.table(TABLES.transactions);
  const id = q(columnNameOf(plan.columns, 'transaction_id'));
  const names = transactionColumnNames(plan);
  const values = names.map((name) => (name === '_invoca_loaded_at' ? dialect.now : `t.${q(name)}`));
  return (
    `INSERT INTO ${transactions} (${names.map(q).join(', ')}) SELECT ${values.join(', ')} ` +
    `FROM ${plan.transactions} AS t WHERE NOT EXISTS (SELECT 1 FROM ${transactions} AS e WHERE e.${id} = t.${id})`
  );
}

export function createMergeState(dialect: Dialect): string {
  return (
    `CREATE TABLE IF NOT EXISTS ${dialect.table(MERGE_STATE_TABLE)} (${dialect.quote('source_table')} ${dialect.type('string')}, ` +
    `${dialect.quote('max_sequence')} ${dialect.type('integer')}, ${dialect.quote('merged_at')} ${dialect.type('timestamp')})`
  );
}

export function readWatermark(dialect: Dialect, sourceName: string): string {
  return (
    `SELECT MAX(${dialect.quote('max_sequence')}) AS ${dialect.quote('watermark')} FROM ${dialect.table(MERGE_STATE_TABLE)} ` +
    `WHERE ${dialect.quote('source_table')} = ${dialect.literal(sourceName)}`
  );
}

/** The watermark moves to the highest sequence among the new rows (or stays). */
export function writeWatermark(source: SourcePlan, sourceName: string, watermark: number): string[] {
  const { dialect } = source.plan;
  const q = dialect.quote;
  const state = dialect.table(MERGE_STATE_TABLE);
  return [
    `DELETE FROM ${state} WHERE ${q('source_table')} = ${dialect.literal(sourceName)}`,
    `INSERT INTO ${state} (${q('source_table')}, ${q('max_sequence')}, ${q('merged_at')}) ` +
      `SELECT ${dialect.literal(sourceName)}, COALESCE(MAX(${q('_invoca_sequence')}), ${Math.trunc(watermark)}), ${dialect.now} FROM ${source.plan.stage}`,
  ];
}
