import { doubleQuote, qualifyFirstPerKey, stringLiteral, type ColumnKind, type Dialect, type Extraction } from './dialect.js';

const TYPES: Readonly<Record<ColumnKind, string>> = {
  string: 'VARCHAR',
  integer: 'BIGINT',
  decimal: 'DECIMAL(38, 9)',
  timestamp: 'TIMESTAMP',
  boolean: 'BOOLEAN',
  json: 'JSON',
};

/** A JSON Pointer (RFC 6901) to one key: it holds any key, dots, quotes and spaces included. */
export function jsonPointer(field: string): string {
  return `/${field.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

const extract: Dialect['extract'] = (raw, field, kind) => {
  const pointer = stringLiteral(jsonPointer(field));
  if (kind === 'json') return `json_extract(${raw}, ${pointer})`;
  return `TRY_CAST(json_extract_string(${raw}, ${pointer}) AS ${TYPES[kind]})`;
};

/**
 * All fields with one JSON parse per row: `json_extract_string(raw, [paths])` returns a list
 * (extracting field by field parses the document once per field, about 20 times slower here).
 */
function duckdbExtractAll(raw: string, fields: readonly { field: string; kind: ColumnKind }[]): Extraction {
  const paths = (kinds: (kind: ColumnKind) => boolean): string =>
    `[${fields.filter((item) => kinds(item.kind)).map((item) => stringLiteral(jsonPointer(item.field))).join(', ')}]`;
  const scalarIndex = new Map<number, number>();
  const jsonIndex = new Map<number, number>();
  fields.forEach((item, index) => {
    const positions = item.kind === 'json' ? jsonIndex : scalarIndex;
    positions.set(index, positions.size + 1);
  });
  const prepare = [`json_extract_string(${raw}, ${paths((kind) => kind !== 'json')}) AS "_invoca_scalars"`];
  if (jsonIndex.size > 0) prepare.push(`json_extract(${raw}, ${paths((kind) => kind === 'json')}) AS "_invoca_jsons"`);
  return {
    prepare,
    value: (index) => {
      const item = fields[index];
      if (!item) throw new Error(`no field ${index} to extract`);
      if (item.kind === 'json') return `"_invoca_jsons"[${jsonIndex.get(index)}]`;
      return `TRY_CAST("_invoca_scalars"[${scalarIndex.get(index)}] AS ${TYPES[item.kind]})`;
    },
  };
}

/** The stage: a temporary table of this connection, filled with the appender. */
export const DUCKDB_STAGE = '_invoca_stage';
export const DUCKDB_TRANSACTION = { begin: 'BEGIN TRANSACTION', commit: 'COMMIT', rollback: 'ROLLBACK' } as const;

/** Run once when the file is opened. */
export function duckdbOpenStatements(schema: string): string[] {
  return [`CREATE SCHEMA IF NOT EXISTS ${doubleQuote(schema)}`];
}

/** Before the appender fills the stage: the stage of a failed batch goes, a new one is created. */
export function duckdbStageStatements(createStage: string): string[] {
  return [`DROP TABLE IF EXISTS temp.main.${doubleQuote(DUCKDB_STAGE)}`, createStage];
}

/** DuckDB: column names as the API spells them; timestamps are UTC `TIMESTAMP`. */
export function duckdbDialect(schema: string): Dialect {
  return {
    name: 'duckdb',
    quote: doubleQuote,
    quoteStored: doubleQuote,
    storedName: (name) => name,
    literal: stringLiteral,
    table: (name) => `${doubleQuote(schema)}.${doubleQuote(name)}`,
    columnName: (field) => field,
    // DuckDB matches names case-insensitively: `Email` and `email` are one column.
    nameKey: (name) => name.toLowerCase(),
    maxNameLength: Number.POSITIVE_INFINITY,
    type: (kind) => TYPES[kind],
    rawType: 'JSON',
    parseRaw: (text) => `CAST(${text} AS JSON)`,
    extract,
    extractAll: duckdbExtractAll,
    cast: (expression, kind) => `TRY_CAST(${expression} AS ${TYPES[kind]})`,
    rowToJson: (alias) => `CAST(to_json(${alias}) AS JSON)`,
    epochMillis: (timestamp) => `epoch_ms(${timestamp})`,
    zeroPad: (integer, width) => `lpad(CAST(${integer} AS VARCHAR), ${width}, '0')`,
    concat: (parts) => parts.join(' || '),
    now: 'CAST(now() AS TIMESTAMP)',
    firstPerKey: qualifyFirstPerKey,
  };
}
