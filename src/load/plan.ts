/**
 * The correction merge as SQL statements, for any dialect, from one plan. Pure: the loader runs
 * what these functions return. Per batch:
 *
 *   DDL (outside the transaction): create the three tables, add new columns, create the stage.
 *   In one transaction, the steps of src/stream/merge-steps.ts in that order, each by its name:
 *     lock     take the lock row;
 *     insert   the staged rows not yet in `transactions` (first-seen sequence, version, root);
 *     reroot   re-root corrections whose provisional root arrived in this batch (repeated until
 *              stable; a script runs it only when there is a row to change);
 *     affected the roots and calls the batch touched, once, into temporary tables (not Snowflake);
 *     bounds   (BigQuery) the call dates the steps below read and change;
 *     current  MERGE the latest version of each affected lineage into `transactions_current`, its
 *              typed row from the stage or from `transactions_current` (the history's typed
 *              columns unread);
 *     stale    delete `transactions_current` rows of provisional roots that were re-rooted;
 *     calls    MERGE each affected call (Call lineages: legs counted, money summed) into `calls`
 *              (on DuckDB each MERGE is a delete of the changed rows and an insert: see mergeStatement);
 *     empty    delete affected calls left without a Call lineage.
 *   Then drop the stage. `batchSteps` walks that list over a table from step name to SQL builder.
 *
 * Which version of a lineage is the latest is `_invoca_version` (src/stream/version.ts): a
 * correction is later than any original; among corrections, later `corrected_at` (UTC); then the
 * higher first-seen sequence; then the id.
 */
import type { DataColumn } from './columns.js';
import { columnNameOf, columnOfField, LOADER_COLUMNS, moneyColumns } from './columns.js';
import type { CallDateBounds, ColumnKind, Dialect } from './sql/dialect.js';
import { CALL_TYPE } from '../stream/transaction-types.js';
import { MERGE_STEPS, type MergeStepName } from '../stream/merge-steps.js';
import { isCorrectionSql, versionSql } from '../stream/version.js';
import type { MergeStep } from './warehouse.js';

const { root: ROOT, sequence: SEQUENCE, version: VERSION, loadedAt: LOADED_AT, raw: RAW, mergedAt: MERGED_AT, legs: LEGS } = LOADER_COLUMNS;

export const TABLES = {
  transactions: 'transactions',
  current: 'transactions_current',
  calls: 'calls',
} as const;

export type OutputTable = keyof typeof TABLES;

export interface SystemColumn {
  name: string;
  kind: ColumnKind | 'raw';
}

/** The loader's columns of a lineage's version, in every table. */
const VERSION_SYSTEM: SystemColumn[] = [
  { name: ROOT, kind: 'string' },
  { name: SEQUENCE, kind: 'integer' },
  { name: VERSION, kind: 'string' },
  { name: LOADED_AT, kind: 'timestamp' },
];
/** The record as delivered is kept once, in `transactions`: the other tables are read by its key. */
const TRANSACTION_SYSTEM: SystemColumn[] = [...VERSION_SYSTEM, { name: RAW, kind: 'raw' }];
/** Written by an earlier version into `transactions_current` and `calls` too; dropped there now. */
export const RETIRED_COPY = RAW;

/** The loader's own columns of each table, after the data columns. */
export function systemColumns(table: OutputTable): SystemColumn[] {
  switch (table) {
    case 'transactions':
      return TRANSACTION_SYSTEM;
    case 'current':
      return [...VERSION_SYSTEM, { name: MERGED_AT, kind: 'timestamp' }];
    case 'calls':
      return [{ name: LEGS, kind: 'integer' }, ...VERSION_SYSTEM, { name: MERGED_AT, kind: 'timestamp' }];
  }
}

export interface MergePlan {
  dialect: Dialect;
  columns: DataColumn[];
  /** The stage table (name as the dialect writes it): transaction_id, _invoca_sequence, _invoca_raw (JSON text). */
  stage: string;
  /**
   * Where the lineages are read from: the `transactions` table, or (target-invoca merge) a
   * table of the same shape built from another target's raw table.
   */
  transactions?: string;
  /**
   * The typed rows of the transactions this merge brings (data columns and `_invoca_sequence`):
   * by default the stage's records, parsed; for `target-invoca merge`, the source's snapshot.
   */
  arrived?: string;
  /**
   * The fields any staged record carries (undefined: any may). The stage's other columns are
   * NULL without reading the records: a feed fills a quarter of the catalog's ~190 fields or
   * fewer, and each field read is a JSON extraction per row.
   */
  present?: ReadonlySet<string>;
}

function transactionsOf(plan: MergePlan): string {
  return plan.transactions ?? plan.dialect.table(TABLES.transactions);
}

function columnType(dialect: Dialect, kind: ColumnKind | 'raw'): string {
  return kind === 'raw' ? dialect.rawType : dialect.type(kind);
}

/** The data column of a merge field, by field name. */
function col(plan: MergePlan, field: string): string {
  const column = columnOfField(plan.columns, field);
  if (!column) throw new Error(`the merge plan has no column for ${field}`);
  return plan.dialect.quote(column.column);
}

/** The columns a lineage's current version carries into `transactions_current` and `calls`. */
function lineageColumnNames(plan: MergePlan): string[] {
  return [...plan.columns.map((column) => column.column), ...VERSION_SYSTEM.map((column) => column.name)];
}

/**
 * The record fields `transactions`, the history of deliveries, types: what the merge reads from
 * it (keys, versions, call dates) and the money it sums. Every other field of a version is in
 * `_invoca_raw`, typed in the `transactions_history` view, and typed in `transactions_current`
 * and `calls` for the versions there.
 */
export const HISTORY_FIELDS: readonly string[] = [
  'transaction_id',
  'corrects_transaction_id',
  'corrected_at_utc',
  'complete_call_id',
  'transaction_type',
  'start_time',
  'start_date_local',
];

/** The data columns of a table: all of them, but for `transactions` those of HISTORY_FIELDS and the money. */
export function tableColumns(plan: MergePlan, table: OutputTable): DataColumn[] {
  if (table !== 'transactions') return plan.columns;
  return plan.columns.filter((column) => HISTORY_FIELDS.includes(column.field) || column.kind === 'decimal');
}

function allColumnNames(plan: MergePlan, table: OutputTable): string[] {
  return [...tableColumns(plan, table).map((column) => column.column), ...systemColumns(table).map((column) => column.name)];
}

/** The columns of `transactions`, in order: the data columns, then the loader's. */
export function transactionColumnNames(plan: MergePlan): string[] {
  return allColumnNames(plan, 'transactions');
}

export function createTable(plan: MergePlan, table: OutputTable): string {
  const { dialect } = plan;
  const definitions = [
    ...tableColumns(plan, table).map((column) => `${dialect.quote(column.column)} ${dialect.type(column.kind)}`),
    ...systemColumns(table).map(
      (column) =>
        `${dialect.quote(column.name)} ${columnType(dialect, column.kind)}${column.kind === 'raw' && dialect.rawStorage ? ` ${dialect.rawStorage}` : ''}`,
    ),
  ];
  const options = dialect.tableOptions?.(table, (field) => columnOfField(plan.columns, field)?.column);
  return `CREATE TABLE IF NOT EXISTS ${dialect.table(TABLES[table])} (${definitions.join(', ')})${options ? ` ${options}` : ''}`;
}

/** ALTER TABLE statements for data columns the table does not have yet; never drops one. */
export function addMissingColumns(plan: MergePlan, table: OutputTable, existing: ReadonlySet<string>): string[] {
  const { dialect } = plan;
  const lower = new Set([...existing].map((name) => name.toLowerCase()));
  return tableColumns(plan, table)
    .filter((column) => !existing.has(column.column) && !lower.has(column.column.toLowerCase()))
    .map((column) => `ALTER TABLE ${dialect.table(TABLES[table])} ADD COLUMN ${dialect.quote(column.column)} ${dialect.type(column.kind)}`);
}

/** Every version in `transactions`, every field typed from `_invoca_raw` (see createHistoryView). */
export const HISTORY_VIEW = 'transactions_history';

/**
 * The view of every delivered version with a column for every field, typed from `_invoca_raw`
 * exactly as the loader types a record (the same extraction): what `transactions` held when it
 * was wide, for who wants every version typed. Replaced when a new field adds a column
 * (PostgreSQL cannot replace a view whose columns moved: dropped first there; Snowflake keeps
 * the grants on it).
 */
export function createHistoryView(plan: MergePlan): string[] {
  const { dialect } = plan;
  const q = dialect.quote;
  const transactions = dialect.table(TABLES.transactions);
  const extracted = plan.columns.filter((column) => column.field !== 'transaction_id');
  const extraction = dialect.extractAll(`h.${q(RAW)}`, extracted);
  const from =
    extraction.prepare.length === 0
      ? `${transactions} AS h`
      : `(SELECT h.*, ${extraction.prepare.join(', ')} FROM ${transactions} AS h) AS h`;
  const select = [
    `h.${col(plan, 'transaction_id')} AS ${col(plan, 'transaction_id')}`,
    ...extracted.map((column, index) => `${extraction.value(index)} AS ${q(column.column)}`),
    ...systemColumns('transactions').map((column) => `h.${q(column.name)} AS ${q(column.name)}`),
  ];
  const view = dialect.table(HISTORY_VIEW);
  const body = `AS SELECT ${select.join(', ')} FROM ${from}`;
  if (dialect.name === 'postgres') return [`DROP VIEW IF EXISTS ${view}`, `CREATE VIEW ${view} ${body}`];
  return [`CREATE OR REPLACE VIEW ${view}${dialect.name === 'snowflake' ? ' COPY GRANTS' : ''} ${body}`];
}

/** The name a stage row's id takes in the query that picks the first deliveries. */
const STAGE_ROW = '_invoca_stage_row';

/** The stage's columns: each record's id, sequence and JSON text. */
export const STAGE_COLUMNS: readonly SystemColumn[] = [
  { name: 'transaction_id', kind: 'string' },
  { name: SEQUENCE, kind: 'integer' },
  { name: RAW, kind: 'string' },
];

export function createStage(plan: MergePlan, temporary: boolean): string {
  const { dialect } = plan;
  const columns = STAGE_COLUMNS.map((column) => `${dialect.quote(column.name)} ${columnType(dialect, column.kind)}`);
  return `CREATE ${temporary ? 'TEMPORARY ' : ''}TABLE ${plan.stage} (${columns.join(', ')})`;
}

export function dropStage(plan: MergePlan): string {
  return `DROP TABLE IF EXISTS ${plan.stage}`;
}

/**
 * The stage's records typed: one row per staged transaction (its first delivery in the batch)
 * where `where` holds, with the data columns, `_invoca_sequence` and `_invoca_raw`. The stage is
 * reduced first (on DuckDB on its id and sequence, the text fetched after); only those rows are
 * parsed and typed.
 */
function typedStage(plan: MergePlan, where: (stageId: string) => string, columns: readonly DataColumn[] = plan.columns): string {
  const { dialect } = plan;
  const q = dialect.quote;
  const stageId = q('transaction_id');
  const sequence = q(SEQUENCE);
  const rawText = q(RAW);
  // A transaction delivered twice in one batch keeps its first sequence.
  const firstPerKey = (select: string[], names: string[]): string =>
    dialect.firstPerKey({
      select,
      names,
      from: `${plan.stage} AS s`,
      where: where(stageId),
      partitionBy: `s.${stageId}`,
      orderBy: `s.${sequence} ASC`,
    });
  // Where the stage's rows have an id (the stage has no data columns to hide it), the first
  // deliveries are found on the narrow columns and their text fetched by it: a window that
  // carries the text holds the whole batch's text outside DuckDB's buffer pool (measured: ~100 MB
  // more peak RSS with 50k-row batches).
  const rowId = dialect.rowId;
  const firsts =
    rowId === undefined
      ? firstPerKey(
          [`s.${stageId} AS ${stageId}`, `s.${sequence} AS ${sequence}`, `s.${rawText} AS ${rawText}`],
          ['transaction_id', SEQUENCE, RAW],
        )
      : `SELECT s.${stageId}, s.${sequence}, s.${rawText} FROM ${plan.stage} AS s WHERE s.${rowId} IN ` +
        `(SELECT f.${q(STAGE_ROW)} FROM (${firstPerKey([`s.${rowId} AS ${q(STAGE_ROW)}`], [STAGE_ROW])}) AS f)`;
  // Case-insensitively: DuckDB's JSON extraction matches a key in any case.
  const present = plan.present && new Set([...plan.present].map((field) => field.toLowerCase()));
  const extracted = columns.filter((column) => column.field !== 'transaction_id' && (present?.has(column.field.toLowerCase()) ?? true));
  const extraction = dialect.extractAll('s.raw_json', extracted);
  const typedValue = (column: DataColumn): string => {
    const index = extracted.indexOf(column);
    return index < 0 ? `CAST(NULL AS ${dialect.type(column.kind)})` : extraction.value(index);
  };
  const typed = [
    `s.${stageId} AS ${col(plan, 'transaction_id')}`,
    ...columns.filter((column) => column.field !== 'transaction_id').map((column) => `${typedValue(column)} AS ${q(column.column)}`),
    `s.${sequence} AS ${sequence}`,
    `s.raw_json AS ${rawText}`,
  ];
  const parsed = `(SELECT n.${stageId}, n.${sequence}, ${dialect.parseRaw(`n.${rawText}`)} AS raw_json FROM (${firsts}) AS n) AS s`;
  const parsedStage = extraction.prepare.length === 0 ? parsed : `(SELECT s.*, ${extraction.prepare.join(', ')} FROM ${parsed}) AS s`;
  return `SELECT ${typed.join(', ')} FROM ${parsedStage}`;
}

/**
 * The insert step: the staged rows not yet in `transactions`, each with its first-seen sequence, version
 * and root. The stage is reduced first, to the first delivery of each transaction that is new;
 * only those rows are parsed and typed.
 */
export function insertNewTransactions(plan: MergePlan): string {
  const { dialect } = plan;
  const q = dialect.quote;
  const transactions = dialect.table(TABLES.transactions);
  // Only the history's fields are typed here; the current step types the whole record of a lineage's latest version.
  const history = tableColumns(plan, 'transactions');
  const firsts = typedStage(
    plan,
    (stageId) => `NOT EXISTS (SELECT 1 FROM ${transactions} AS e WHERE e.${col(plan, 'transaction_id')} = s.${stageId})`,
    history,
  );
  const id = col(plan, 'transaction_id');
  const corrects = col(plan, 'corrects_transaction_id');
  const correctedAt = col(plan, 'corrected_at_utc');
  const version = versionSql(dialect, {
    corrects: `f.${corrects}`,
    correctedAt: `f.${correctedAt}`,
    sequence: `f.${q(SEQUENCE)}`,
    id: `f.${id}`,
  });
  const root = `CASE WHEN ${isCorrectionSql(`f.${corrects}`)} THEN COALESCE(p.${q(ROOT)}, f.${corrects}) ELSE f.${id} END`;
  const values = [...history.map((column) => `f.${q(column.column)}`), root, `f.${q(SEQUENCE)}`, version, dialect.now, `f.${q(RAW)}`];
  const targetColumns = allColumnNames(plan, 'transactions').map(q);
  return (
    `INSERT INTO ${transactions} (${targetColumns.join(', ')}) ` +
    `SELECT ${values.join(', ')} FROM (${firsts}) AS f ` +
    `LEFT JOIN ${transactions} AS p ON p.${id} = f.${corrects}`
  );
}

/**
 * The reroot step: a correction rooted at a transaction that has since arrived takes that transaction's
 * root. Run until it changes no row: each run resolves one more link of a chain. A MERGE rather
 * than UPDATE ... FROM: one shape that every engine (and the BigQuery emulator) runs.
 */
export function rerootCorrections(plan: MergePlan): string {
  const q = plan.dialect.quote;
  const root = q(ROOT);
  return (
    `MERGE INTO ${plan.dialect.table(TABLES.transactions)} AS t USING (${arrivedRoots(plan)}) AS p ON t.${root} = p.${q('arrived_id')} ` +
    `WHEN MATCHED THEN UPDATE SET ${root} = p.${q('arrived_root')}`
  );
}

/**
 * Whether the reroot step has a row to change: a transaction rooted at a staged one that is itself rooted
 * elsewhere, that is, at a staged correction (a correction of a correction that came first).
 * Almost never true; a script runs the step only then (BigQuery bills a MERGE that can update for
 * its whole target, changed or not). The staged corrections are read from the stage's own
 * records, so the check reads one column of `transactions`.
 */
export function rerootPending(plan: MergePlan): string {
  const { dialect } = plan;
  const q = dialect.quote;
  const corrects = dialect.extract(dialect.parseRaw(`s.${q(RAW)}`), 'corrects_transaction_id', 'string');
  return (
    `EXISTS (SELECT 1 FROM ${dialect.table(TABLES.transactions)} AS t ` +
    `WHERE t.${q(ROOT)} IN (SELECT s.${q('transaction_id')} FROM ${plan.stage} AS s WHERE ${isCorrectionSql(corrects)}))`
  );
}

/**
 * The reroot step's condition for `target-invoca merge`, whose stage holds ids only: a transaction rooted
 * at a new one that is itself rooted elsewhere.
 */
export function rerootPendingFromSource(plan: MergePlan): string {
  const q = plan.dialect.quote;
  return (
    `EXISTS (SELECT 1 FROM ${plan.dialect.table(TABLES.transactions)} AS t ` +
    `WHERE t.${q(ROOT)} IN (SELECT a.${q('arrived_id')} FROM (${arrivedRoots(plan)}) AS a))`
  );
}

/** Staged transactions rooted elsewhere: (arrived_id, arrived_root). */
function arrivedRoots(plan: MergePlan): string {
  const q = plan.dialect.quote;
  const id = col(plan, 'transaction_id');
  const root = q(ROOT);
  return (
    `SELECT ${id} AS ${q('arrived_id')}, ${root} AS ${q('arrived_root')} FROM ${plan.dialect.table(TABLES.transactions)} ` +
    `WHERE ${root} <> ${id} AND ${id} IN (SELECT ${q('transaction_id')} FROM ${plan.stage})`
  );
}

/** The stale step: lineages keyed by a provisional root that is no longer anyone's root (after the current step has read them). */
export function deleteStaleLineages(plan: MergePlan): string {
  const { dialect } = plan;
  const q = dialect.quote;
  const current = dialect.table(TABLES.current);
  const root = q(ROOT);
  return (
    `DELETE FROM ${current} AS c WHERE ${withinCallDates(plan, 'c')}c.${root} IN (SELECT ${q('transaction_id')} FROM ${plan.stage}) ` +
    `AND NOT EXISTS (SELECT 1 FROM ${transactionsOf(plan)} AS t WHERE ${withinCallDates(plan, 't')}t.${root} = c.${root})`
  );
}

/** The temporary tables of the affected step, where the dialect makes them in a transaction. */
const AFFECTED_ROOTS = '_invoca_affected_roots';
const AFFECTED_CALLS = '_invoca_affected_calls';

/** The affected step's temporary tables and their columns (none where the dialect computes them in place): for `target-invoca sql` and the SQL checkers. */
export function affectedTables(plan: MergePlan): { name: string; columns: { name: string; kind: ColumnKind }[] }[] {
  if (!plan.dialect.temporaryTableAs) return [];
  return [
    { name: AFFECTED_ROOTS, columns: [{ name: ROOT, kind: 'string' }] },
    { name: AFFECTED_CALLS, columns: [{ name: columnNameOf(plan.columns, 'complete_call_id'), kind: 'string' }] },
  ];
}

/** The roots of the lineages this batch touched, as the affected step computed them (else computed here). */
function affectedRoots(plan: MergePlan): string {
  const q = plan.dialect.quote;
  return plan.dialect.temporaryTableAs ? `SELECT ar.${q(ROOT)} FROM ${q(AFFECTED_ROOTS)} AS ar` : affectedRootsQuery(plan);
}

function affectedRootsQuery(plan: MergePlan): string {
  const { dialect } = plan;
  const q = dialect.quote;
  return (
    `SELECT a.${q(ROOT)} FROM ${transactionsOf(plan)} AS a ` +
    `WHERE a.${col(plan, 'transaction_id')} IN (SELECT ${q('transaction_id')} FROM ${plan.stage})`
  );
}

/**
 * The calls of the lineages this batch touched, through every version of those lineages: a
 * correction that moves a lineage to another call (or to none) changes the call it left too.
 */
function affectedCalls(plan: MergePlan): string {
  const callId = col(plan, 'complete_call_id');
  return plan.dialect.temporaryTableAs ? `SELECT ac.${callId} FROM ${plan.dialect.quote(AFFECTED_CALLS)} AS ac` : affectedCallsQuery(plan);
}

function affectedCallsQuery(plan: MergePlan): string {
  const q = plan.dialect.quote;
  const callId = col(plan, 'complete_call_id');
  return `SELECT v.${callId} FROM ${transactionsOf(plan)} AS v WHERE v.${q(ROOT)} IN (${affectedRoots(plan)})`;
}

/**
 * The affected step: the roots and the calls the batch touched, once, into temporary tables,
 * after the re-rooting (`transactions` does not change after it). The steps after it read them
 * in four places: each would otherwise scan the key columns of `transactions` again (BigQuery
 * bills each scan). Where the dialect cannot (Snowflake) the steps compute them in place.
 */
export function computeAffected(plan: MergePlan): string[] {
  const make = plan.dialect.temporaryTableAs;
  if (!make) return [];
  const q = plan.dialect.quote;
  const wrap = (query: string): string => `SELECT DISTINCT * FROM (${query}) AS x`;
  return [...make(q(AFFECTED_ROOTS), wrap(affectedRootsQuery(plan))), ...make(q(AFFECTED_CALLS), wrap(affectedCallsQuery(plan)))];
}

/**
 * The current step: the latest version of each affected lineage into `transactions_current`. Which version
 * is latest is found on the narrow key columns of `transactions` (a version names its
 * transaction, so it is unique); its typed row is either one this merge brings (the stage's
 * records, parsed once, or the source's snapshot) or already in `transactions_current`: every
 * earlier version was the latest of its lineage there once, under the lineage's root then, which
 * is the root now or a provisional root a staged transaction re-rooted. So the typed columns of
 * the history are never read.
 */
export function mergeCurrent(plan: MergePlan): string[] {
  const { dialect } = plan;
  const q = dialect.quote;
  const names = lineageColumnNames(plan);
  const root = q(ROOT);
  const version = q(VERSION);
  const id = col(plan, 'transaction_id');
  const sequence = q(SEQUENCE);
  const current = dialect.table(TABLES.current);
  // Source and target read the partitions of the batch's call dates only (BigQuery; see setCallDates).
  const within = callDatesFilter(plan, 't');
  const latest =
    `SELECT l.${root} AS ${q('_invoca_root')}, MAX(l.${version}) AS ${q('_invoca_latest')} FROM ${transactionsOf(plan)} AS l ` +
    `WHERE ${withinCallDates(plan, 'l')}l.${root} IN (${affectedRoots(plan)}) GROUP BY l.${root}`;
  // A candidate's data columns come from where its typed row is; its root from `transactions` or
  // the keys as they are now (after the re-rooting). A transaction's sequence, version and load
  // time never change, so a current row's own are right.
  const fromHistory: ReadonlySet<string> = new Set([ROOT, VERSION, SEQUENCE, LOADED_AT]);
  const selectNames = (value: (name: string) => string): string => names.map((name) => `${value(name)} AS ${q(name)}`).join(', ');
  const arrived = plan.arrived ?? `(${typedStage(plan, () => 'TRUE')})`;
  // A transaction this merge brings with its first-seen sequence (the first delivery of it in the
  // stage or snapshot is its first delivery ever), found without parsing.
  const delivered = plan.arrived ? { from: plan.arrived, id } : { from: plan.stage, id: q('transaction_id') };
  const broughtNow = (alias: string): string =>
    `COALESCE((SELECT MIN(x.${sequence}) FROM ${delivered.from} AS x WHERE x.${delivered.id} = ${alias}.${id}) = ${alias}.${sequence}, FALSE)`;
  const staged = `SELECT ${q('transaction_id')} FROM ${plan.stage}`;
  const reRooted = (alias: string): string => `${withinCallDates(plan, alias)}${alias}.${root} IN (${staged})`;
  // The latest version of a lineage is typed from exactly one of: (a) the records this merge
  // brings; (b) the current rows of the provisional roots re-rooted now (a provisional root is a
  // transaction not yet delivered, so it is re-rooted in the batch that brings it); or (c) its
  // `_invoca_raw` in `transactions`, where neither has it and no current row holds it under its
  // root either (a table written before, a source merged without it): parsed for those rows only,
  // almost always none. A latest version already current under its own root needs no source row
  // (the guard keeps the row). So no lineage is ever left without its row, nor given two, and the
  // current rows read are those of the re-rooted lineages alone, found on a narrow scan.
  const fromRaw = plan.columns.filter((column) => column.field !== 'transaction_id');
  const extraction = dialect.extractAll(`r.${q(RAW)}`, fromRaw);
  // The latest versions (the narrow keys query, joined) that neither (a), (b) nor the current row of their root holds.
  // (The current row of a version is the same transaction, with its start time: the call-date
  // filter stays outside the OR, where BigQuery prunes on it.)
  const missing = (alias: string): string =>
    `${withinCallDates(plan, alias)}NOT ${broughtNow(alias)} ` +
    `AND NOT EXISTS (SELECT 1 FROM ${current} AS c WHERE ${withinCallDates(plan, 'c')}c.${id} = ${alias}.${id} ` +
    `AND c.${version} = ${alias}.${version} AND (c.${root} = ${alias}.${root} OR c.${root} IN (${staged})))`;
  // `keys`: the latest version per affected root (the keys query, or its temporary table). The
  // missing rows are found on the narrow columns first where the engine fetches by row id: the
  // records' text is read for those rows alone.
  const rawRows = (keys: string): string => {
    const isLatest = (alias: string): string =>
      `${alias}.${root} = w.${q('_invoca_root')} AND ${alias}.${version} = w.${q('_invoca_latest')}`;
    const narrowed = byRowId(
      plan,
      transactionsOf(plan),
      'r',
      (alias) => `EXISTS (SELECT 1 FROM ${keys} AS w WHERE ${isLatest(alias)}) AND ${missing(alias)}`,
    );
    const rows = narrowed
      ? `${transactionsOf(plan)} AS r WHERE ${narrowed}`
      : `${transactionsOf(plan)} AS r JOIN ${keys} AS w ON ${isLatest('r')} WHERE ${missing('r')}`;
    return (
      `(SELECT r.${id} AS ${id}, ${fromRaw.map((column, index) => `${extraction.value(index)} AS ${q(column.column)}`).join(', ')}` +
      [...fromHistory].map((name) => `, r.${q(name)} AS ${q(name)}`).join('') +
      ' FROM ' +
      `(SELECT r.*${extraction.prepare.map((item) => `, ${item}`).join('')} FROM ${rows}) AS r)`
    );
  };
  const reRootedNow = (alias: string): string => `${reRooted(alias)} AND NOT ${broughtNow(alias)}`;
  // Where the rows are fetched by row id (DuckDB), the root is looked up per row: a join with the
  // keys would be planned before the row-id filter and read the whole table. Elsewhere a join
  // (Snowflake runs a correlated scalar subquery in WHERE clauses only); a version is unique in
  // the keys either way.
  const reRootedRows = (keys: string): string => {
    const fetched = byRowId(plan, current, 'a', reRootedNow);
    if (fetched)
      return (
        `SELECT ${selectNames((name) => (name === ROOT ? `(SELECT MAX(w.${q('_invoca_root')}) FROM ${keys} AS w WHERE w.${q('_invoca_latest')} = a.${version})` : `a.${q(name)}`))} ` +
        `FROM ${current} AS a WHERE ${fetched}`
      );
    return (
      `SELECT ${selectNames((name) => (name === ROOT ? `wb.${q('_invoca_root')}` : `a.${q(name)}`))} FROM ${current} AS a ` +
      `JOIN ${keys} AS wb ON wb.${q('_invoca_latest')} = a.${version} WHERE ${reRootedNow('a')}`
    );
  };
  const candidates = (keys: string): string =>
    // (a): root and version as the insert step gave them.
    `SELECT ${selectNames((name) => `${fromHistory.has(name) ? 't' : 'a'}.${q(name)}`)} FROM ${arrived} AS a ` +
    `JOIN ${transactionsOf(plan)} AS t ON t.${id} = a.${id} WHERE ${withinCallDates(plan, 't')}a.${sequence} = t.${sequence} UNION ALL ` +
    // (b): the root it joined.
    reRootedRows(keys) +
    ' UNION ALL ' +
    // (c): all from `transactions`.
    `SELECT ${selectNames((name) => `a.${q(name)}`)} FROM ${rawRows(keys)} AS a`;
  return mergeStatement(plan, {
    target: current,
    key: ROOT,
    keys: { query: latest, key: '_invoca_root' },
    source: (keys) =>
      `SELECT ${names.map((name) => `c.${q(name)} AS ${q(name)}`).join(', ')} FROM (${candidates(keys)}) AS c ` +
      `JOIN ${keys} AS w ON c.${root} = w.${q('_invoca_root')} AND c.${version} = w.${q('_invoca_latest')}`,
    ...(within ? { alsoOn: within } : {}),
    names: [...names, MERGED_AT],
    sourceValue: (name) => (name === MERGED_AT ? dialect.now : `s.${q(name)}`),
    changed: (row, form) => `${row}.${q(form === 'keys' ? '_invoca_latest' : VERSION)} > t.${version}`,
  });
}

/**
 * The calls step: each affected call from the current versions of its Call lineages: `call_leg_count`,
 * money summed over the legs, every other column from the latest leg.
 *
 * The guard is any difference, not a later version: a leg corrected out of order (a backfill) can
 * change a sum while the latest leg stays the same, and a call's latest leg can move to another
 * call while an older one joins. The source is built from `transactions_current`, which is
 * itself guarded, so a replay can never bring back old values.
 */
export function mergeCalls(plan: MergePlan): string[] {
  const { dialect } = plan;
  const q = dialect.quote;
  const names = lineageColumnNames(plan);
  const callId = col(plan, 'complete_call_id');
  const money = new Set(moneyColumns(plan.columns).map((column) => column.column));
  const version = q(VERSION);
  const root = q(ROOT);
  const latestWithRoot = (alias: string): string => dialect.concat([`${alias}.${version}`, "'|'", `${alias}.${root}`]);
  const current = dialect.table(TABLES.current);
  const isCallOf = (alias: string): string => `${alias}.${col(plan, 'transaction_type')} = ${dialect.literal(CALL_TYPE)}`;
  const isCall = isCallOf('c');
  // Legs, sums and the latest leg's version per call with GROUP BY, joined back to that leg
  // (a version is unique). Window sums over NUMERIC are wrong on the BigQuery emulator, and a
  // window would sort whole rows; this shape is right everywhere and narrow.
  const perCall =
    `SELECT c.${callId} AS ${q('_invoca_call')}, ` +
    [
      ...[...money].map((name) => `SUM(c.${q(name)}) AS ${q(name)}`),
      `COUNT(*) AS ${q(LEGS)}`,
      `MAX(c.${version}) AS ${q('_invoca_latest')}`,
      // The latest leg's root with its version (a version is unique and sorts as the order of
      // versions): a re-rooting changes a call's root and nothing else.
      `MAX(${latestWithRoot('c')}) AS ${q('_invoca_latest_root')}`,
    ].join(', ') +
    ` FROM ${current} AS c WHERE ${withinCallDates(plan, 'c')}${isCall} AND c.${callId} IN (${affectedCalls(plan)}) GROUP BY c.${callId}`;
  const select = [
    ...names.map((name) => (money.has(name) ? `g.${q(name)} AS ${q(name)}` : `c.${q(name)} AS ${q(name)}`)),
    `g.${q(LEGS)} AS ${q(LEGS)}`,
  ];
  const callNames = [...plan.columns.map((column) => column.column), ...systemColumns('calls').map((column) => column.name)];
  const within = callDatesFilter(plan, 't');
  return mergeStatement(plan, {
    target: dialect.table(TABLES.calls),
    key: columnNameOf(plan.columns, 'complete_call_id'),
    keys: { query: perCall, key: '_invoca_call' },
    source: (keys) => {
      // Each call's latest leg, found on the narrow columns first where the engine fetches by row id.
      const latestLeg = byRowId(
        plan,
        current,
        'c',
        (alias) =>
          `${withinCallDates(plan, alias)}${isCallOf(alias)} AND EXISTS (SELECT 1 FROM ${keys} AS g ` +
          `WHERE ${alias}.${callId} = g.${q('_invoca_call')} AND ${alias}.${version} = g.${q('_invoca_latest')})`,
      );
      return (
        `SELECT ${select.join(', ')} FROM ${current} AS c ` +
        `JOIN ${keys} AS g ON c.${callId} = g.${q('_invoca_call')} AND c.${version} = g.${q('_invoca_latest')} ` +
        `WHERE ${withinCallDates(plan, 'c')}${isCall}${latestLeg ? ` AND ${latestLeg}` : ''}`
      );
    },
    ...(within ? { alsoOn: within } : {}),
    names: callNames,
    sourceValue: (name) => (name === MERGED_AT ? dialect.now : `s.${q(name)}`),
    // The source row of a call carries the version, legs and sums of its keys row. Any
    // difference counts, not only a later version: a call's latest leg can leave it for another
    // call while an older one joins, a re-rooting changes its root alone, and the source
    // (current versions only) is never stale.
    changed: (row, form) =>
      `(${[
        ...(form === 'keys'
          ? [`${row}.${q('_invoca_latest_root')} IS DISTINCT FROM ${latestWithRoot('t')}`]
          : [`${row}.${version} IS DISTINCT FROM t.${version}`, `${row}.${root} IS DISTINCT FROM t.${root}`]),
        `${row}.${q(LEGS)} IS DISTINCT FROM t.${q(LEGS)}`,
        ...[...money].map((name) => `${row}.${q(name)} IS DISTINCT FROM t.${q(name)}`),
      ].join(' OR ')})`,
  });
}

/**
 * Where the tables are partitioned by call date (BigQuery, see Dialect.callDates): sets the bounds
 * of the start times of every row the steps current..empty can read or change, once, after the re-rooting:
 * every version of the lineages the batch touched (and of lineages still rooted at a staged
 * transaction), their rows in `transactions_current` (a stale lineage's too), the current legs of
 * the calls they belong to, and those calls' rows in `calls`, each as it is now. Those steps find
 * rows by these keys only, so no row they must see lies outside the bounds, and filtering every
 * table on them changes no result (a MERGE's target filtered too narrowly would insert a
 * duplicate); they then read and change only the partitions of those dates. Rows without a
 * start_time are always read. (BigQuery bills an UPDATE, DELETE or MERGE for the whole of every
 * partition of its target it scans, and prunes partitions only on constants or script
 * variables, never on a join.)
 */
export function setCallDates(plan: MergePlan): string | undefined {
  const query = callDatesQuery(plan);
  return query === undefined ? undefined : plan.dialect.callDates?.set(query);
}

/** The query behind setCallDates: one row, (lowest, highest). */
export function callDatesQuery(plan: MergePlan): string | undefined {
  const { dialect } = plan;
  const bounds = prunedCalls(plan);
  if (!bounds) return undefined;
  const q = dialect.quote;
  const start = col(plan, 'start_time');
  const root = q(ROOT);
  const callId = col(plan, 'complete_call_id');
  const staged = `SELECT ${q('transaction_id')} FROM ${plan.stage}`;
  const dates = [
    // Every version of the touched lineages, and of lineages still rooted at a staged transaction.
    `SELECT v.${start} AS ${q('d')} FROM ${transactionsOf(plan)} AS v WHERE v.${root} IN (${affectedRoots(plan)}) OR v.${root} IN (${staged})`,
    // Their current rows (a stale lineage's too), and the current legs of the touched calls.
    `SELECT c.${start} AS ${q('d')} FROM ${dialect.table(TABLES.current)} AS c ` +
      `WHERE c.${root} IN (${affectedRoots(plan)}) OR c.${root} IN (${staged}) OR c.${callId} IN (${affectedCalls(plan)})`,
    // The touched calls' rows as they are.
    `SELECT k.${start} AS ${q('d')} FROM ${dialect.table(TABLES.calls)} AS k WHERE k.${callId} IN (${affectedCalls(plan)})`,
  ].join(' UNION ALL ');
  return `SELECT MIN(${q('d')}) AS ${q('lowest')}, MAX(${q('d')}) AS ${q('highest')} FROM (${dates}) AS ${q('dates')}`;
}

/** The dialect's call-date bounds, where it has them and the plan has a start_time (another target's table may not). */
function prunedCalls(plan: MergePlan): CallDateBounds | undefined {
  return columnOfField(plan.columns, 'start_time') ? plan.dialect.callDates : undefined;
}

/** The partition filter on an alias of a table partitioned by call date, where the dialect has call-date bounds. */
function callDatesFilter(plan: MergePlan, alias: string): string | undefined {
  const bounds = prunedCalls(plan);
  if (!bounds) return undefined;
  const start = `${alias}.${col(plan, 'start_time')}`;
  return `(${start} BETWEEN ${bounds.lowest} AND ${bounds.highest} OR ${start} IS NULL)`;
}

/** The same filter as the first condition of a WHERE (`filter AND `), or nothing. */
function withinCallDates(plan: MergePlan, alias: string): string {
  const filter = callDatesFilter(plan, alias);
  return filter ? `${filter} AND ` : '';
}

/** The empty step: affected calls that no longer have any Call lineage (all moved to another call or to none). */
export function deleteEmptyCalls(plan: MergePlan): string {
  const { dialect } = plan;
  const callId = col(plan, 'complete_call_id');
  const calls = dialect.table(TABLES.calls);
  return (
    `DELETE FROM ${calls} AS k WHERE ${withinCallDates(plan, 'k')}k.${callId} IN (${affectedCalls(plan)}) ` +
    `AND NOT EXISTS (SELECT 1 FROM ${dialect.table(TABLES.current)} AS c WHERE ${withinCallDates(plan, 'c')}c.${callId} = k.${callId} AND c.${col(plan, 'transaction_type')} = ${dialect.literal(CALL_TYPE)})`
  );
}

/**
 * Two loaders on the same tables (two schedules overlapping) must not both insert a transaction.
 * Each batch's transaction starts by updating the one row of this table: a second transaction's
 * UPDATE waits for the first to commit (Snowflake, PostgreSQL) or conflicts and is run again
 * (BigQuery), so its insert then sees the rows the first committed. DuckDB allows one writer
 * process per file anyway.
 */
export const LOCK_TABLE = '_invoca_lock';

export function createLockTable(dialect: Dialect): string[] {
  const lock = dialect.table(LOCK_TABLE);
  const q = dialect.quote;
  return [
    `CREATE TABLE IF NOT EXISTS ${lock} (${q('holder')} ${dialect.type('string')}, ${q('locked_at')} ${dialect.type('timestamp')})`,
    `INSERT INTO ${lock} (${q('holder')}, ${q('locked_at')}) SELECT ${dialect.literal('target-invoca')}, ${dialect.now} ` +
      `FROM (SELECT 1 AS ${q('one')}) AS o WHERE NOT EXISTS (SELECT 1 FROM ${lock} AS l)`,
  ];
}

/** The first statement of every merge transaction: see LOCK_TABLE. */
export function takeLock(dialect: Dialect): string {
  return `UPDATE ${dialect.table(LOCK_TABLE)} SET ${dialect.quote('locked_at')} = ${dialect.now} WHERE TRUE`;
}

/** A step's statements for a plan: none where the step does not apply (bounds without call dates). */
export type StepBuilder = (plan: MergePlan) => readonly Omit<MergeStep, 'name'>[];
export type StepBuilders = Partial<Record<MergeStepName, StepBuilder>>;

/** The steps from `current` on, which `target-invoca merge` runs too. */
export const CALLS_STEP_BUILDERS: StepBuilders = {
  affected: (plan) => computeAffected(plan).map((sql) => ({ sql })),
  bounds: (plan) => {
    const setDates = setCallDates(plan);
    return setDates ? [{ sql: setDates }] : [];
  },
  current: (plan) => mergeCurrent(plan).map((sql) => ({ sql })),
  stale: (plan) => [{ sql: deleteStaleLineages(plan) }],
  calls: (plan) => mergeCalls(plan).map((sql) => ({ sql })),
  empty: (plan) => [{ sql: deleteEmptyCalls(plan) }],
};

const BATCH_STEP_BUILDERS: StepBuilders = {
  lock: (plan) => [{ sql: takeLock(plan.dialect) }],
  insert: (plan) => [{ sql: insertNewTransactions(plan) }],
  reroot: (plan) => [{ sql: rerootCorrections(plan), repeat: true, onlyIf: rerootPending(plan) }],
  ...CALLS_STEP_BUILDERS,
};

/** The statements of the steps `builders` has, in the order of MERGE_STEPS: the one place the order is. */
export function stepsInOrder(plan: MergePlan, builders: StepBuilders): MergeStep[] {
  return MERGE_STEPS.flatMap((name) => (builders[name]?.(plan) ?? []).map((step) => ({ name, ...step })));
}

/** One batch's merge, in one transaction. */
export function batchSteps(plan: MergePlan): MergeStep[] {
  return stepsInOrder(plan, BATCH_STEP_BUILDERS);
}

/**
 * The condition `where(alias)` on rows of a wide `table` that keeps few of them, run on a narrow
 * scan of the table with the rows then fetched by row id, where the dialect has a row id that no
 * data column hides; otherwise undefined. DuckDB reads every column of every vector in which a
 * filter on a joined column matches (a few hundred ms at 1M rows, to keep a handful of rows); a
 * row-id join skips the row groups outside its range (the rows a batch changes are the newest).
 */
function byRowId(plan: MergePlan, table: string, alias: string, where: (alias: string) => string): string | undefined {
  const { dialect } = plan;
  const rowId = dialect.rowId;
  if (rowId === undefined || plan.columns.some((column) => dialect.nameKey(column.column) === dialect.nameKey(rowId))) return undefined;
  const narrow = `${alias}_narrow`;
  return `${alias}.${rowId} IN (SELECT ${narrow}.${rowId} FROM ${table} AS ${narrow} WHERE ${where(narrow)})`;
}

/**
 * The MERGE of a step, from a narrow query of the affected keys (a key and what the guard
 * compares, one row per key) and the source rows built on it: changed rows updated, new ones
 * inserted. Where the dialect replaces rows (DuckDB), the same in steps: the keys into a
 * temporary table, the target rows they change deleted, every source row whose key is not there
 * (any more) inserted, the temporary table dropped. The result is the same (a matched row the
 * guard rejects stays, and so keeps its source row out), and only the narrow keys are held: the
 * wide source rows stream into the insert.
 */
function mergeStatement(
  plan: MergePlan,
  merge: {
    target: string;
    key: string;
    keys: { query: string; key: string };
    /** The source rows, given the keys as a relation (a subquery or the temporary table). */
    source: (keys: string) => string;
    alsoOn?: string;
    names: string[];
    sourceValue: (name: string) => string;
    /**
     * The guard on a matched target row `t`, given the alias of its keys row (the narrow keys
     * query's columns: `_invoca_latest` for the version) or of its source row (the target's
     * columns).
     */
    changed: (row: string, form: 'keys' | 'source') => string;
  },
): string[] {
  const q = plan.dialect.quote;
  const also = merge.alsoOn ? ` AND ${merge.alsoOn}` : '';
  const on = `t.${q(merge.key)} = s.${q(merge.key)}${also}`;
  const columns = merge.names.map(q).join(', ');
  const values = merge.names.map(merge.sourceValue).join(', ');
  if (plan.dialect.replacesRows) {
    const keys = q(MERGE_KEYS);
    return [
      `CREATE OR REPLACE TEMPORARY TABLE ${keys} AS ${merge.keys.query}`,
      `DELETE FROM ${merge.target} AS t USING ${keys} AS k WHERE t.${q(merge.key)} = k.${q(merge.keys.key)}${also} AND ${merge.changed('k', 'keys')}`,
      `INSERT INTO ${merge.target} (${columns}) SELECT ${values} FROM (${merge.source(keys)}) AS s WHERE NOT EXISTS (SELECT 1 FROM ${merge.target} AS t WHERE ${on})`,
      `DROP TABLE ${keys}`,
    ];
  }
  const updates = merge.names.filter((name) => name !== merge.key).map((name) => `${q(name)} = ${merge.sourceValue(name)}`);
  return [
    `MERGE INTO ${merge.target} AS t USING (${merge.source(`(${merge.keys.query})`)}) AS s ON ${on} ` +
      `WHEN MATCHED AND ${merge.changed('s', 'source')} THEN UPDATE SET ${updates.join(', ')} ` +
      `WHEN NOT MATCHED THEN INSERT (${columns}) VALUES (${values})`,
  ];
}

/** Where a dialect replaces rows (see mergeStatement): the temporary table of a MERGE's keys. */
export const MERGE_KEYS = '_invoca_merge_keys';
