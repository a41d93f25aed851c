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

export interface Dialect {
  readonly name: DialectName;
  /** A quoted identifier. */
  quote(identifier: string): string;
  /** A table of the configured schema or dataset, qualified and quoted. */
  table(name: string): string;
  /** The warehouse column name for a record field (see docs: column names). */
  columnName(field: string): string;
  type(kind: ColumnKind): string;
  /** Clauses after a CREATE TABLE's column list (BigQuery partitioning and clustering), given the column names. */
  tableOptions?(table: 'transactions' | 'current' | 'calls', column: (field: string) => string): string;
  /** The type of the staged raw JSON text and of `_invoca_raw`. */
  readonly rawType: string;
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

/** A SQL string literal: `'` is doubled. Used only for names the generator derives, never for values. */
export function stringLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
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
