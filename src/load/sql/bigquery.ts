import type { MergeRun } from '../warehouse.js';
import { extractEach, fitName, hashOf, qualifyFirstPerKey, type ColumnKind, type Dialect } from './dialect.js';

const TYPES: Readonly<Record<ColumnKind, string>> = {
  string: 'STRING',
  integer: 'INT64',
  decimal: 'NUMERIC',
  timestamp: 'TIMESTAMP',
  boolean: 'BOOL',
  json: 'JSON',
};

/** Column name prefixes BigQuery reserves (https://cloud.google.com/bigquery/docs/schemas#column_names), compared case-insensitively. */
const RESERVED_PREFIXES = ['_TABLE_', '_FILE_', '_PARTITION', '_ROW_TIMESTAMP', '__ROOT__', '_COLIDENTIFIER'];
const MAX_NAME = 300;

/**
 * BigQuery column names allow letters, digits and underscores only, must not start with a digit
 * or a reserved prefix, and have at most 300 characters. The rule: every other character
 * becomes `_`, a leading digit gets a `_` before it, a reserved prefix gets an `f` before it; a
 * name that had to change also ends in `_` and 6 hex digits of a hash of the original, so two
 * originals can never meet in one name (`Purchase Made` -> `Purchase_Made_6d1f0c`,
 * `_PARTITIONTIME_x` -> `f_PARTITIONTIME_x_<hash>`). Names that are already valid are kept as
 * they are. The original is always in `_invoca_raw`.
 */
export function bigqueryColumnName(field: string): string {
  const reserved = (name: string): boolean => RESERVED_PREFIXES.some((prefix) => name.toUpperCase().startsWith(prefix));
  if (/^[A-Za-z_][A-Za-z0-9_]{0,299}$/.test(field) && !reserved(field)) return field;
  const cleaned = field.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 280);
  const prefix = /^[0-9]/.test(cleaned) ? '_' : reserved(cleaned) ? 'f' : '';
  return fitName(`${prefix}${cleaned}_${hashOf(field, 6)}`, MAX_NAME, field);
}

function backtick(identifier: string): string {
  return `\`${identifier.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

const NAMED_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', "'": "\\'", '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * A GoogleSQL string literal: a backslash escapes (`'it\'s'`); a doubled `''` is not an escape
 * there. Control characters are escaped (`\n`, `\t`, else `\xhh`), so a literal is one line.
 */
export function bigqueryLiteral(text: string): string {
  const escaped = text.replace(
    /[\\'\u0000-\u001f\u007f]/g,
    (character) => NAMED_ESCAPES[character] ?? `\\x${character.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return `'${escaped}'`;
}

/**
 * One key of a JSON object with the JSON subscript operator (`raw['key']`): the key is a plain
 * string, so any character works and there is no JSONPath syntax to escape.
 */
const extract: Dialect['extract'] = (raw, field, kind) => {
  const value = `${raw}[${bigqueryLiteral(field)}]`;
  if (kind === 'json') return value;
  return `SAFE_CAST(JSON_VALUE(${value}) AS ${TYPES[kind]})`;
};

export function bigqueryDialect(project: string, dataset: string): Dialect {
  return {
    name: 'bigquery',
    quote: backtick,
    quoteStored: backtick,
    storedName: (name) => name,
    literal: bigqueryLiteral,
    table: (name) => `${backtick(project)}.${backtick(dataset)}.${backtick(name)}`,
    columnName: bigqueryColumnName,
    nameKey: (name) => name.toLowerCase(),
    maxNameLength: MAX_NAME,
    type: (kind) => TYPES[kind],
    tableOptions: (table, column) => {
      // Every table by call date: a batch's statements read and change the partitions of the
      // dates of the calls it touches (callDates), then find rows by their key within them.
      // (Another target's table merged by `target-invoca merge` may have no start_time.)
      const start = column('start_time');
      const key = table === 'calls' ? column('complete_call_id') : table === 'current' ? 'root_transaction_id' : column('transaction_id');
      return [...(start ? [`PARTITION BY DATE(${backtick(start)})`] : []), ...(key ? [`CLUSTER BY ${backtick(key)}`] : [])].join(' ');
    },
    callDates: {
      declare: ['DECLARE _invoca_calls_from TIMESTAMP', 'DECLARE _invoca_calls_to TIMESTAMP'],
      set: (boundsQuery) => `SET (_invoca_calls_from, _invoca_calls_to) = (SELECT AS STRUCT * FROM (${boundsQuery}))`,
      lowest: '_invoca_calls_from',
      highest: '_invoca_calls_to',
    },
    rawType: 'JSON',
    parseRaw: (text) => `PARSE_JSON(${text}, wide_number_mode => 'round')`,
    extract,
    extractAll: extractEach(extract),
    cast: (expression, kind) => (kind === 'json' ? `TO_JSON(${expression})` : `SAFE_CAST(${expression} AS ${TYPES[kind]})`),
    rowToJson: (alias) => `TO_JSON(${alias})`,
    // Airbyte's BigQuery raw tables keep the record as a JSON STRING.
    storedJson: (column) => `PARSE_JSON(${column}, wide_number_mode => 'round')`,
    // JSON_KEYS writes a key that is not a plain name as a JSON string ("Purchase Made" in quotes): unquoted here.
    jsonKeys: (raw, from) =>
      `SELECT DISTINCT IF(STARTS_WITH(k, '"'), JSON_VALUE(PARSE_JSON(k)), k) AS k FROM ${from} CROSS JOIN UNNEST(JSON_KEYS(${raw}, 1)) AS k`,
    epochMillis: (timestamp) => `UNIX_MILLIS(${timestamp})`,
    zeroPad: (integer, width) => `LPAD(CAST(${integer} AS STRING), ${width}, '0')`,
    concat: (parts) => `CONCAT(${parts.join(', ')})`,
    now: 'CURRENT_TIMESTAMP()',
    firstPerKey: qualifyFirstPerKey,
    // A script's temporary table lives until the script ends: each merge is its own script.
    temporaryTableAs: (name, query) => [`CREATE TEMP TABLE ${name} AS ${query}`],
  };
}

/**
 * A repeated step (re-rooting) runs at most this many times in the script: chains up to 4 links
 * per batch. Each run after the first runs only while the step still has a row to change (its
 * condition, checked again; else `@@row_count` of the run before): BigQuery bills each run for
 * the whole of its target, changed or not.
 */
export const SCRIPT_REPEATS = 4;

/** `sql` run up to `times` times, each again only while `again` holds. */
function repeatWhile(sql: string, times: number, again: string): string {
  return times <= 1 ? sql : `${sql};\nIF ${again} THEN\n${repeatWhile(sql, times - 1, again)};\nEND IF`;
}

/**
 * A merge as one BigQuery script: the declarations (which must come first), `prepare` (its
 * temporary tables live as long as the script), BEGIN TRANSACTION, the steps, COMMIT
 * TRANSACTION, then the `result` query, whose rows are the script's. BigQuery has no interactive
 * transactions: a multi-statement transaction must be one query.
 */
export function mergeScript(run: MergeRun, declare: readonly string[] = []): string {
  const statements = run.steps.map((step) => {
    const runs = step.repeat ? repeatWhile(step.sql, SCRIPT_REPEATS, step.onlyIf ?? '@@row_count > 0') : step.sql;
    // The condition is checked once, before the first run.
    return step.onlyIf ? `IF ${step.onlyIf} THEN\n${runs};\nEND IF` : runs;
  });
  const result = run.result === undefined ? [] : [run.result];
  return `${[...declare, ...(run.prepare ?? []), 'BEGIN TRANSACTION', ...statements, 'COMMIT TRANSACTION', ...result].join(';\n')};`;
}

/** The stage's columns: the load job creates the table with this schema. */
export const BIGQUERY_STAGE_FIELDS = [
  { name: 'transaction_id', type: 'STRING' },
  { name: '_invoca_sequence', type: 'INT64' },
  { name: '_invoca_raw', type: 'STRING' },
] as const;
