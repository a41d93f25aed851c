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
 * All fields with one JSON parse per row. `json_transform(raw, '{"key": "VARCHAR", ...}')` parses
 * the document once into a struct of text values (JSON for the JSON fields), each then TRY_CAST
 * to its type: about twice as fast as extracting a list of strings. (Transforming straight to
 * BIGINT would read `true` as 1; through text it is NULL, as everywhere else.) A struct
 * matches names without case, so fields whose names differ only in case (`Email`, `email`) are
 * read with `json_extract_string(raw, [JSON pointers])` instead, which matches keys exactly.
 */
function duckdbExtractAll(raw: string, fields: readonly { field: string; kind: ColumnKind }[]): Extraction {
  const folded = new Map<string, number>();
  for (const { field } of fields) folded.set(field.toLowerCase(), (folded.get(field.toLowerCase()) ?? 0) + 1);
  const exact = (field: string): boolean => (folded.get(field.toLowerCase()) ?? 0) > 1;
  const structured = fields.filter((item) => !exact(item.field));
  const pointed = fields.filter((item) => exact(item.field));
  const prepare: string[] = [];
  if (structured.length > 0) {
    const structure = `{${structured.map((item) => `${JSON.stringify(item.field)}: ${item.kind === 'json' ? '"JSON"' : '"VARCHAR"'}`).join(', ')}}`;
    prepare.push(`json_transform(${raw}, ${stringLiteral(structure)}) AS "_invoca_fields"`);
  }
  if (pointed.length > 0)
    prepare.push(
      `json_extract_string(${raw}, [${pointed.map((item) => stringLiteral(jsonPointer(item.field))).join(', ')}]) AS "_invoca_exact"`,
    );
  return {
    prepare,
    value: (index) => {
      const item = fields[index];
      if (!item) throw new Error(`no field ${index} to extract`);
      if (!exact(item.field)) {
        const value = `struct_extract("_invoca_fields", ${stringLiteral(item.field)})`;
        return item.kind === 'json' || item.kind === 'string' ? value : `TRY_CAST(${value} AS ${TYPES[item.kind]})`;
      }
      const position = pointed.indexOf(item) + 1;
      return item.kind === 'json'
        ? `json_extract(${raw}, ${stringLiteral(jsonPointer(item.field))})`
        : `TRY_CAST("_invoca_exact"[${position}] AS ${TYPES[item.kind]})`;
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

/**
 * New DuckDB files are written in the storage format of DuckDB 1.2 (readable by DuckDB 1.2 and
 * later), the first with ZSTD compression: `_invoca_raw` (a JSON document per row, 2/3 of the
 * file under DuckDB's default string compression) is 5x smaller with it. Files made before keep
 * their format, and their `_invoca_raw` its compression.
 */
export const DUCKDB_STORAGE_VERSION = 'v1.2.0';

/** Whether a file's `storage_version` tag (e.g. `v1.0.0+`) has ZSTD compression. */
export function storageHasZstd(storageVersion: string): boolean {
  const [major = 0, minor = 0] = (/^v(\d+)\.(\d+)/.exec(storageVersion) ?? []).slice(1).map(Number);
  return major > 1 || (major === 1 && minor >= 2);
}

/** DuckDB: column names as the API spells them; timestamps are UTC `TIMESTAMP`. */
export function duckdbDialect(schema: string, options: { compressRaw: boolean } = { compressRaw: true }): Dialect {
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
    ...(options.compressRaw ? { rawStorage: 'USING COMPRESSION zstd' } : {}),
    replacesRows: true,
    rowId: 'rowid',
    temporaryTableAs: (name, query) => [`CREATE OR REPLACE TEMPORARY TABLE ${name} AS ${query}`],
    parseRaw: (text) => `CAST(${text} AS JSON)`,
    extract,
    extractAll: duckdbExtractAll,
    cast: (expression, kind) => `TRY_CAST(${expression} AS ${TYPES[kind]})`,
    rowToJson: (alias) => `CAST(to_json(${alias}) AS JSON)`,
    storedJson: (column) => `CAST(${column} AS JSON)`,
    jsonKeys: (raw, from) => `SELECT DISTINCT unnest(json_keys(${raw})) AS k FROM ${from}`,
    epochMillis: (timestamp) => `epoch_ms(${timestamp})`,
    zeroPad: (integer, width) => `lpad(CAST(${integer} AS VARCHAR), ${width}, '0')`,
    concat: (parts) => parts.join(' || '),
    now: 'CAST(now() AS TIMESTAMP)',
    firstPerKey: qualifyFirstPerKey,
  };
}
