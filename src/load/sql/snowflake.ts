import { doubleQuote, extractEach, qualifyFirstPerKey, stringLiteral, type ColumnKind, type Dialect } from './dialect.js';

const TYPES: Readonly<Record<ColumnKind, string>> = {
  string: 'VARCHAR',
  integer: 'NUMBER(38, 0)',
  decimal: 'NUMBER(38, 9)',
  timestamp: 'TIMESTAMP_NTZ',
  boolean: 'BOOLEAN',
  json: 'VARIANT',
};

const extract: Dialect['extract'] = (raw, field, kind) => {
  // Bracket notation takes the key as a string literal: any key works, with no path syntax to
  // escape, and `::VARCHAR` of a JSON string is its text (GET(...)::VARCHAR keeps the quotes on fakesnow).
  const value = `${raw}[${stringLiteral(field)}]`;
  if (kind === 'json') return value;
  return `TRY_CAST(${value}::VARCHAR AS ${TYPES[kind]})`;
};

/**
 * Snowflake: names are upper-cased (so `select transaction_id from calls` works unquoted) and
 * always quoted (so `Purchase Made` becomes "PURCHASE MADE"). Timestamps are UTC TIMESTAMP_NTZ.
 */
export function snowflakeDialect(database: string, schema: string): Dialect {
  return {
    name: 'snowflake',
    quote: doubleQuote,
    table: (name) => `${doubleQuote(database)}.${doubleQuote(schema)}.${doubleQuote(name.toUpperCase())}`,
    columnName: (field) => field.toUpperCase(),
    type: (kind) => TYPES[kind],
    rawType: 'VARIANT',
    parseRaw: (text) => `PARSE_JSON(${text})`,
    extract,
    extractAll: extractEach(extract),
    cast: (expression, kind) => (kind === 'json' ? `TO_VARIANT(${expression})` : `TRY_CAST(TO_VARCHAR(${expression}) AS ${TYPES[kind]})`),
    rowToJson: (alias) => `OBJECT_CONSTRUCT(${alias}.*)`,
    epochMillis: (timestamp) => `DATE_PART(EPOCH_MILLISECOND, ${timestamp})`,
    zeroPad: (integer, width) => `LPAD(TO_VARCHAR(${integer}), ${width}, '0')`,
    concat: (parts) => parts.join(' || '),
    now: 'CAST(SYSDATE() AS TIMESTAMP_NTZ)',
    firstPerKey: qualifyFirstPerKey,
  };
}
