import { createHash } from 'node:crypto';
import { extractEach, qualifyFirstPerKey, stringLiteral, type ColumnKind, type Dialect } from './dialect.js';

const TYPES: Readonly<Record<ColumnKind, string>> = {
  string: 'STRING',
  integer: 'INT64',
  decimal: 'NUMERIC',
  timestamp: 'TIMESTAMP',
  boolean: 'BOOL',
  json: 'JSON',
};

/**
 * BigQuery column names allow letters, digits and underscores only, and must not start with a
 * digit. The rule: every other character becomes `_`, a leading digit gets a `_` before it; a
 * name that had to change also ends in `_` and 6 hex digits of a hash of the original, so two
 * originals can never meet in one name (`Purchase Made` -> `Purchase_Made_6d1f0c`). Names that
 * are already valid are kept as they are. The original is always in `_invoca_raw`.
 */
export function bigqueryColumnName(field: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]{0,299}$/.test(field)) return field;
  const hash = createHash('sha1').update(field).digest('hex').slice(0, 6);
  const cleaned = field.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 280);
  return `${/^[0-9]/.test(cleaned) ? '_' : ''}${cleaned}_${hash}`;
}

function backtick(identifier: string): string {
  return `\`${identifier.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

const extract: Dialect['extract'] = (raw, field, kind) => {
  const path = stringLiteral(jsonPath(field));
  if (kind === 'json') return `JSON_QUERY(${raw}, ${path})`;
  return `SAFE_CAST(JSON_VALUE(${raw}, ${path}) AS ${TYPES[kind]})`;
};

/** A JSONPath to one key for JSON_VALUE / JSON_QUERY: `$."key"` with `"` and `\` escaped. */
function jsonPath(field: string): string {
  return `$."${field.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function bigqueryDialect(project: string, dataset: string): Dialect {
  return {
    name: 'bigquery',
    quote: backtick,
    table: (name) => `${backtick(project)}.${backtick(dataset)}.${backtick(name)}`,
    columnName: bigqueryColumnName,
    type: (kind) => TYPES[kind],
    tableOptions: (table, column) => {
      // calls: prune by call date, then find a call by its id within the partition.
      if (table === 'calls') return `PARTITION BY DATE(${backtick(column('start_time'))}) CLUSTER BY ${backtick(column('complete_call_id'))}`;
      if (table === 'current') return `CLUSTER BY ${backtick('root_transaction_id')}`;
      return `CLUSTER BY ${backtick(column('transaction_id'))}`;
    },
    rawType: 'JSON',
    parseRaw: (text) => `PARSE_JSON(${text}, wide_number_mode => 'round')`,
    extract,
    extractAll: extractEach(extract),
    cast: (expression, kind) => (kind === 'json' ? `TO_JSON(${expression})` : `SAFE_CAST(${expression} AS ${TYPES[kind]})`),
    rowToJson: (alias) => `TO_JSON(${alias})`,
    epochMillis: (timestamp) => `UNIX_MILLIS(${timestamp})`,
    zeroPad: (integer, width) => `LPAD(CAST(${integer} AS STRING), ${width}, '0')`,
    concat: (parts) => `CONCAT(${parts.join(', ')})`,
    now: 'CURRENT_TIMESTAMP()',
    firstPerKey: qualifyFirstPerKey,
  };
}
