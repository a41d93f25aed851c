import { createHash } from 'node:crypto';
import { doubleQuote, extractEach, stringLiteral, type ColumnKind, type Dialect } from '../../src/load/sql/dialect.js';

const TYPES: Readonly<Record<ColumnKind, string>> = {
  string: 'TEXT',
  integer: 'BIGINT',
  decimal: 'NUMERIC(38, 9)',
  timestamp: 'TIMESTAMPTZ',
  boolean: 'BOOLEAN',
  json: 'JSONB',
};

/** PostgreSQL keeps 63 bytes of a name: a longer one is cut and ends in a hash of the whole. */
function postgresName(field: string): string {
  if (Buffer.byteLength(field) <= 63) return field;
  const hash = createHash('sha1').update(field).digest('hex').slice(0, 8);
  let cut = field;
  while (Buffer.byteLength(cut) > 54) cut = cut.slice(0, -1);
  return `${cut}_${hash}`;
}

const extract: Dialect['extract'] = (raw, field, kind) => {
  const key = stringLiteral(field);
  if (kind === 'json') return `(${raw} -> ${key})`;
  return kind === 'string' ? `(${raw} ->> ${key})` : `CAST(NULLIF(${raw} ->> ${key}, '') AS ${TYPES[kind]})`;
};

/**
 * PostgreSQL (PGlite in the tests): the engine that raises the duplicate-match error BigQuery and
 * Snowflake raise, so the semantics tests prove the dedupe. It has no QUALIFY and no TRY_CAST.
 */
export function postgresDialect(schema: string): Dialect {
  return {
    name: 'postgres',
    quote: doubleQuote,
    quoteStored: doubleQuote,
    storedName: (name) => name,
    literal: stringLiteral,
    table: (name) => `${doubleQuote(schema)}.${doubleQuote(name)}`,
    columnName: postgresName,
    // Quoted names are case-sensitive in PostgreSQL.
    nameKey: (name) => name,
    maxNameLength: 63,
    type: (kind) => TYPES[kind],
    rawType: 'JSONB',
    parseRaw: (text) => `CAST(${text} AS JSONB)`,
    extract,
    extractAll: extractEach(extract),
    cast: (expression, kind) => `CAST(${expression} AS ${TYPES[kind]})`,
    rowToJson: (alias) => `to_jsonb(${alias})`,
    storedJson: (column) => `CAST(${column} AS JSONB)`,
    jsonKeys: (raw, from) => `SELECT DISTINCT jsonb_object_keys(${raw}) AS k FROM ${from}`,
    epochMillis: (timestamp) => `CAST(floor(extract(epoch FROM ${timestamp}) * 1000) AS BIGINT)`,
    zeroPad: (integer, width) => `lpad(CAST(${integer} AS TEXT), ${width}, '0')`,
    concat: (parts) => parts.join(' || '),
    now: 'now()',
    firstPerKey: (query) =>
      `SELECT ${query.names.map(doubleQuote).join(', ')} FROM (SELECT ${query.select.join(', ')}, ` +
      `ROW_NUMBER() OVER (PARTITION BY ${query.partitionBy} ORDER BY ${query.orderBy}) AS "_invoca_rn" ` +
      `FROM ${query.from} WHERE ${query.where}) AS "_invoca_first" WHERE "_invoca_rn" = 1`,
    temporaryTableAs: (name, query) => [`DROP TABLE IF EXISTS ${name}`, `CREATE TEMPORARY TABLE ${name} AS ${query}`],
  };
}
