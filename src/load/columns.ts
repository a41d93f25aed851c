/**
 * The columns of the three output tables, from the stream's JSON Schema. Pure.
 *
 * Every record field becomes a column of a kind that holds it exactly: integers as BIGINT,
 * numbers (money) as exact decimals, date-time strings as UTC timestamps, arrays and objects as
 * JSON, anything else (strings, and fields whose type was widened to a union) as text. The
 * loader adds its own columns; `_invoca_raw` keeps the whole record as delivered.
 */
import type { JsonSchema } from '../config/validate.js';
import { hashOf, type ColumnKind, type Dialect } from './sql/dialect.js';
import { SEQUENCE_FIELD } from '../stream/contract.js';
import { MERGE_FIELDS } from '../stream/merge-fields.js';
import { VERSION_FIELD } from '../stream/version.js';

export interface DataColumn {
  /** The record's key. */
  field: string;
  /** The warehouse column name (the dialect's naming rule applied). */
  column: string;
  kind: ColumnKind;
}

/** The column of a record field, if the columns have one. */
export function columnOfField<T extends DataColumn>(columns: readonly T[], field: string): T | undefined {
  return columns.find((column) => column.field === field);
}

/** The name of a record field's column; the field's own name where the columns have none. */
export function columnNameOf(columns: readonly DataColumn[], field: string): string {
  return columnOfField(columns, field)?.column ?? field;
}

/** Each field the merge reads (src/stream/merge-fields.ts) with its column kind: they always have a column, whatever the schema says. */
export const MERGE_FIELD_KINDS: readonly (readonly [string, ColumnKind])[] = MERGE_FIELDS.map((item) => [item.field, item.kind]);

/** The loader's own columns, by what they hold (`_invoca_sequence` is a record field, but the loader owns its value). */
export const LOADER_COLUMNS = {
  /** The first transaction of a lineage: the key of `transactions_current`. */
  root: 'root_transaction_id',
  sequence: SEQUENCE_FIELD,
  version: VERSION_FIELD,
  loadedAt: '_invoca_loaded_at',
  /** The record as delivered (`transactions` only). */
  raw: '_invoca_raw',
  mergedAt: '_invoca_merged_at',
  /** `calls` only. */
  legs: 'call_leg_count',
} as const;

/** Loader columns; they are not record fields. */
export const SYSTEM_FIELDS: ReadonlySet<string> = new Set(Object.values(LOADER_COLUMNS));

export function columnKind(schema: JsonSchema | undefined): ColumnKind {
  const declared = schema?.type;
  const types = (Array.isArray(declared) ? declared : declared ? [declared] : []).filter((type) => type !== 'null');
  if (types.length === 0) return 'string';
  if (types.length === 1 && types[0] === 'string') return schema?.['format'] === 'date-time' ? 'timestamp' : 'string';
  if (types.every((type) => type === 'integer')) return 'integer';
  if (types.every((type) => type === 'integer' || type === 'number')) return 'decimal';
  if (types.length === 1 && types[0] === 'boolean') return 'boolean';
  if (types.every((type) => type === 'array' || type === 'object')) return 'json';
  // Widened by the tap (e.g. ['integer', 'string'] after an "n/a"): the column keeps the type
  // it was created with, the first one; a value that does not convert is NULL there and whole
  // in _invoca_raw. A column's type never changes under a table that already holds rows.
  switch (types[0]) {
    case 'integer':
      return 'integer';
    case 'number':
      return 'decimal';
    case 'boolean':
      return 'boolean';
    case 'array':
    case 'object':
      return 'json';
    default:
      return schema?.['format'] === 'date-time' ? 'timestamp' : 'string';
  }
}

/**
 * The data columns for a stream schema, merge fields first, in a stable order. `existing` are
 * the column names of the `transactions` table as the warehouse stores them (none before the
 * first load): they keep their fields (see columnNames).
 */
export function dataColumns(schema: JsonSchema, dialect: Dialect, existing: Iterable<string> = []): DataColumn[] {
  const properties = schema.properties ?? {};
  const kinds = new Map<string, ColumnKind>(MERGE_FIELD_KINDS);
  for (const [field, property] of Object.entries(properties)) {
    if (!kinds.has(field) && !SYSTEM_FIELDS.has(field)) kinds.set(field, columnKind(property));
  }
  const names = columnNames([...kinds.keys()], dialect, existing);
  return [...kinds].map(([field, kind]) => ({ field, column: names.get(field) ?? field, kind }));
}

/**
 * A column name for each field, one column per field, whatever the engine folds together:
 * `Email` and `email` are one name to DuckDB, BigQuery and (upper-cased) Snowflake. Each field
 * first gets the dialect's name (its character rules and length limit); where two fields (or a
 * field and a loader column) would then meet, one keeps the name and each other gets the name of
 * `<field>_<8 hex digits of a hash of the field>`. Who keeps it, deterministically:
 *   1. the merge fields (Invoca's own names, never renamed);
 *   2. a field whose name the table already has exactly as stored (DuckDB and BigQuery keep the
 *      case a column was created with, so a column stays with its field across runs);
 *   3. then the others; within 2 and 3, fields spelt in lower case first, then in code-point order.
 */
export function columnNames(fields: readonly string[], dialect: Dialect, existing: Iterable<string> = []): Map<string, string> {
  const stored = new Set(existing);
  const taken = new Set([...SYSTEM_FIELDS].map((name) => dialect.nameKey(dialect.columnName(name))));
  const names = new Map<string, string>();
  const mergeFields = new Set(MERGE_FIELD_KINDS.map(([field]) => field));
  const rank = (field: string): number => (mergeFields.has(field) ? 0 : stored.has(dialect.columnName(field)) ? 1 : 2);
  const lowerFirst = (field: string): number => (field === field.toLowerCase() ? 0 : 1);
  const order = [...fields].sort((a, b) => rank(a) - rank(b) || lowerFirst(a) - lowerFirst(b) || (a < b ? -1 : a > b ? 1 : 0));
  // Names that start with `_invoca_` are the loader's (its columns and the aliases in its SQL).
  const reserved = (name: string): boolean => taken.has(dialect.nameKey(name)) || name.toLowerCase().startsWith('_invoca_');
  for (const field of order) {
    let name = dialect.columnName(field);
    if (reserved(name)) name = dialect.columnName(`${field}_${hashOf(field, 8)}`);
    for (let extra = 2; taken.has(dialect.nameKey(name)); extra++) name = dialect.columnName(`${field}_${hashOf(field, 8)}_${extra}`);
    taken.add(dialect.nameKey(name));
    names.set(field, name);
  }
  return names;
}

/** Money: the decimal columns, summed over the legs of a call. */
export function moneyColumns(columns: readonly DataColumn[]): DataColumn[] {
  return columns.filter((column) => column.kind === 'decimal');
}
