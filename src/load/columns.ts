/**
 * The columns of the three output tables, from the stream's JSON Schema. Pure.
 *
 * Every record field becomes a column of a kind that holds it exactly: integers as BIGINT,
 * numbers (money) as exact decimals, date-time strings as UTC timestamps, arrays and objects as
 * JSON, anything else (strings, and fields whose type was widened to a union) as text. The
 * loader adds its own columns; `_invoca_raw` keeps the whole record as delivered.
 */
import type { JsonSchema } from '../config/validate.js';
import type { ColumnKind, Dialect } from './sql/dialect.js';

export interface DataColumn {
  /** The record's key. */
  field: string;
  /** The warehouse column name (the dialect's naming rule applied). */
  column: string;
  kind: ColumnKind;
}

/** The fields the merge reads; they always have a column, whatever the schema says. */
export const MERGE_FIELDS: readonly (readonly [string, ColumnKind])[] = [
  ['transaction_id', 'string'],
  ['corrects_transaction_id', 'string'],
  ['corrected_at_utc', 'timestamp'],
  ['complete_call_id', 'string'],
  ['transaction_type', 'string'],
  ['start_time_utc', 'integer'],
  ['start_time', 'timestamp'],
];

/** Loader columns; they are not record fields (`_invoca_sequence` is, but the loader owns its value). */
export const SYSTEM_FIELDS = new Set([
  'root_transaction_id',
  '_invoca_sequence',
  '_invoca_version',
  '_invoca_loaded_at',
  '_invoca_raw',
  '_invoca_merged_at',
  'call_leg_count',
]);

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

/** The data columns for a stream schema, merge fields first, in a stable order. */
export function dataColumns(schema: JsonSchema, dialect: Dialect): DataColumn[] {
  const properties = schema.properties ?? {};
  const columns = new Map<string, DataColumn>();
  for (const [field, kind] of MERGE_FIELDS) columns.set(field, { field, column: dialect.columnName(field), kind });
  for (const [field, property] of Object.entries(properties)) {
    if (columns.has(field) || SYSTEM_FIELDS.has(field)) continue;
    columns.set(field, { field, column: dialect.columnName(field), kind: columnKind(property) });
  }
  return [...columns.values()];
}

/** Money: the decimal columns, summed over the legs of a call. */
export function moneyColumns(columns: readonly DataColumn[]): DataColumn[] {
  return columns.filter((column) => column.kind === 'decimal');
}
