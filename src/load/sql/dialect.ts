import { createHash } from 'node:crypto';

/**
 * What differs between the warehouses' SQL, and nothing else: quoting, names, types, JSON
 * extraction, string and time functions, and how a "first row per key" is written (QUALIFY or a
 * ROW_NUMBER subquery). The statements themselves are built once, in plan.ts.
 */

export type DialectName = 'duckdb' | 'postgres' | 'bigquery' | 'snowflake';

/** How a record field is stored. */
export type ColumnKind = 'string' | 'integer' | 'decimal' | 'timestamp' | 'boolean' | 'json';

export interface FirstPerKey {
  /** `expression AS name` items. */
  select: string[];
  /** The output names of `select`, in order (for dialects that wrap the query). */
  names: string[];
  from: string;
  where: string;
  partitionBy: string;
  orderBy: string;
}

export interface Extraction {
  prepare: string[];
  value(index: number): string;
}

export interface CallDateBounds {
  /** Statements at the very start of the script that declare the two variables (timestamps). */
  declare: string[];
  /** Sets both variables from a query returning one row of (lowest, highest) start time. */
  set(boundsQuery: string): string;
  lowest: string;
  highest: string;
}

export interface Dialect {
  readonly name: DialectName;
  /**
   * A name the loader creates or refers to by its own spelling, quoted. On Snowflake a simple
   * name is written as unquoted SQL resolves it (upper case), so `root_transaction_id` in a dbt
   * model finds the column; elsewhere the name as given.
   */
  quote(identifier: string): string;
  /** A name exactly as the warehouse stores it (read from its catalog), quoted. */
  quoteStored(identifier: string): string;
  /** The name the warehouse stores for one the loader writes with `quote`. */
  storedName(identifier: string): string;
  /** A string literal holding `text` exactly, in the engine's escaping rules. */
  literal(text: string): string;
  /** A table of the configured schema or dataset, qualified and quoted. */
  table(name: string): string;
  /**
   * The warehouse column name for a record field, before collisions are resolved (see
   * columns.ts): the engine's character rules and length limit applied.
   */
  columnName(field: string): string;
  /** Two column names with the same key are the same column to the engine (case-insensitive engines fold case). */
  nameKey(name: string): string;
  /** The longest column name the engine accepts, in characters (PostgreSQL: bytes, handled by its columnName). */
  readonly maxNameLength: number;
  type(kind: ColumnKind): string;
  /** Clauses after a CREATE TABLE's column list (BigQuery partitioning and clustering), given the column of a field (none: the table has no such column). */
  tableOptions?(table: 'transactions' | 'current' | 'calls', column: (field: string) => string | undefined): string;
  /**
   * Where the tables are partitioned by call date (BigQuery): script variables bounding the start
   * times of the rows a batch can touch (see plan.ts, setCallDates). The merge sets them after
   * the re-rooting and filters every table on them, so its statements read and change the
   * partitions of those dates only (a partition filter prunes when it compares the partitioning
   * column itself with constants or variables; a join on the source's dates does not).
   */
  readonly callDates?: CallDateBounds;
  /**
   * A MERGE's changed rows are deleted and their new versions inserted, instead of updated in
   * place (DuckDB: its checkpoint rewrites every updated column of a row group, up to 122,880
   * rows of ~190 columns, while a delete is a bitmap and an insert appends).
   */
  readonly replacesRows?: boolean;
  /**
   * The pseudo-column that names a stored row (DuckDB: `rowid`), where fetching a few rows of a
   * wide table by it is cheaper than filtering the table on another column: DuckDB reads every
   * column of every vector in which a filter on a joined column matches, but skips the row
   * groups outside a row-id join's range.
   */
  readonly rowId?: string;
  /**
   * Where a temporary table can be made inside the merge's transaction (DuckDB, PostgreSQL, a
   * BigQuery script; not Snowflake, where DDL commits the transaction): the statements that make
   * one, by name (quoted), from a query. The affected keys of a batch are then computed once
   * (the affected step) instead of in every statement that reads them.
   */
  temporaryTableAs?(name: string, query: string): string[];
  /** The type of the staged raw JSON text and of `_invoca_raw`. */
  readonly rawType: string;
  /** A clause after `_invoca_raw`'s type in CREATE TABLE (DuckDB: its compression). */
  readonly rawStorage?: string;
  /** Parses the staged JSON text into the raw JSON type. */
  parseRaw(textExpression: string): string;
  /** A typed value of one field from a parsed raw JSON expression; invalid values become NULL where the engine can. */
  extract(rawExpression: string, field: string, kind: ColumnKind): string;
  /**
   * Typed values of many fields of one raw JSON value. `prepare` are extra `expression AS name`
   * items computed next to the raw value (DuckDB parses the JSON once for all fields there);
   * `value(i)` is then the expression of field i, reading the raw value or those items.
   */
  extractAll(rawExpression: string, fields: readonly { field: string; kind: ColumnKind }[]): Extraction;
  /** A column of another target's table as `kind`; NULL where the value does not convert (where the engine can). */
  cast(expression: string, kind: ColumnKind): string;
  /** A whole row of `alias` as the raw JSON type. */
  rowToJson(alias: string): string;
  /**
   * A record another loader stored whole (an Airbyte raw table's `_airbyte_data`: JSON on DuckDB,
   * a JSON STRING on BigQuery, VARIANT on Snowflake) as the raw JSON type.
   */
  storedJson(columnExpression: string): string;
  /** A query of the distinct top-level keys of the JSON objects `rawExpression` over `from`, one column `k`. */
  jsonKeys(rawExpression: string, from: string): string;
  /** Milliseconds since the epoch of a timestamp expression, as an integer. */
  epochMillis(timestampExpression: string): string;
  /** An integer expression as a string left-padded with zeros to `width`. */
  zeroPad(integerExpression: string, width: number): string;
  concat(parts: string[]): string;
  /** The current time as a value of type('timestamp'). */
  readonly now: string;
  /** SELECT ... keeping the first row per `partitionBy` in `orderBy` order. */
  firstPerKey(query: FirstPerKey): string;
}

/** Double-quoted identifiers (DuckDB, PostgreSQL, Snowflake): `"` is doubled. */
export function doubleQuote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

/** A standard SQL string literal (DuckDB, PostgreSQL): `'` is doubled; a backslash is itself. */
export function stringLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** `name` if it fits `max` characters, else cut and ended with `_` and 8 hex digits of a hash of the whole. */
export function fitName(name: string, max: number, whole: string = name): string {
  const characters = [...name];
  if (characters.length <= max) return name;
  return `${characters.slice(0, max - 9).join('')}_${hashOf(whole, 8)}`;
}

/** A short, stable hash of a field name: what tells apart names that had to change. */
export function hashOf(text: string, length: number): string {
  return createHash('sha1').update(text).digest('hex').slice(0, length);
}

export function qualifyFirstPerKey(query: FirstPerKey): string {
  return (
    `SELECT ${query.select.join(', ')} FROM ${query.from} WHERE ${query.where} ` +
    `QUALIFY ROW_NUMBER() OVER (PARTITION BY ${query.partitionBy} ORDER BY ${query.orderBy}) = 1`
  );
}

/** One extraction per field: the default where the engine has no cheaper way. */
export function extractEach(
  extract: Dialect['extract'],
): (raw: string, fields: readonly { field: string; kind: ColumnKind }[]) => Extraction {
  return (raw, fields) => ({
    prepare: [],
    value: (index) => {
      const item = fields[index];
      if (!item) throw new Error(`no field ${index} to extract`);
      return extract(raw, item.field, item.kind);
    },
  });
}
