import { PACKAGE_VERSION } from '../../paths.js';
import { doubleQuote, extractEach, fitName, qualifyFirstPerKey, type ColumnKind, type Dialect } from './dialect.js';

const TYPES: Readonly<Record<ColumnKind, string>> = {
  string: 'VARCHAR',
  integer: 'NUMBER(38, 0)',
  decimal: 'NUMBER(38, 9)',
  timestamp: 'TIMESTAMP_NTZ',
  boolean: 'BOOLEAN',
  json: 'VARIANT',
};

const MAX_NAME = 255;
/** A name unquoted SQL can write: Snowflake stores it in upper case. */
const SIMPLE_NAME = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/**
 * A Snowflake string literal: a backslash is an escape character there (`'back\slash'` reads
 * `backslash`), so it is doubled, and so is `'`.
 */
export function snowflakeLiteral(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * A name as unquoted SQL resolves it: a simple name in upper case (`analytics` -> "ANALYTICS",
 * `root_transaction_id` -> "ROOT_TRANSACTION_ID"), any other name quoted as written.
 * https://docs.snowflake.com/en/sql-reference/identifiers-syntax
 */
export function snowflakeName(name: string): string {
  return doubleQuote(storedName(name));
}

/** The name Snowflake stores for `name` written unquoted where it can be: a simple name in upper case. */
export function storedName(name: string): string {
  return SIMPLE_NAME.test(name) ? name.toUpperCase() : name;
}

export interface SessionGuards {
  statementTimeoutSeconds: number;
  lockTimeoutSeconds: number;
  /** QUERY_TAG: the loader, its version and run, to find its queries in QUERY_HISTORY. */
  queryTag: string;
}

/**
 * The session settings set on every connection: those the generated SQL relies on, so that an
 * account's or user's defaults cannot change a result (UTC, as TIMESTAMP_NTZ columns hold UTC;
 * ISO timestamps read with AUTO; quoted names matched by case), and the guards of an unattended
 * loader: a statement timeout, a lock timeout (a hung loader holding the lock row must not block
 * the next for Snowflake's default 12 hours) and a query tag.
 */
export function sessionSetup(guards: SessionGuards): string[] {
  return [
    "ALTER SESSION SET TIMEZONE = 'UTC', TIMESTAMP_INPUT_FORMAT = 'AUTO', TIMESTAMP_TYPE_MAPPING = 'TIMESTAMP_NTZ', " +
      'QUOTED_IDENTIFIERS_IGNORE_CASE = FALSE, ' +
      `STATEMENT_TIMEOUT_IN_SECONDS = ${Math.trunc(guards.statementTimeoutSeconds)}, LOCK_TIMEOUT = ${Math.trunc(guards.lockTimeoutSeconds)}, ` +
      `QUERY_TAG = ${snowflakeLiteral(guards.queryTag)}`,
  ];
}

/** The user, role and warehouse of the session. */
export const IDENTITY_QUERY = 'SELECT CURRENT_USER() AS "U", CURRENT_ROLE() AS "R", CURRENT_WAREHOUSE() AS "W"';

/**
 * The session's queries with their cost (INFORMATION_SCHEMA.QUERY_HISTORY_BY_SESSION has no
 * latency, unlike ACCOUNT_USAGE), those tagged with the run's QUERY_TAG (bound as ?).
 */
export function queryHistoryQuery(database: string): string {
  return (
    'SELECT QUERY_ID AS "ID", QUERY_TEXT AS "TEXT", TOTAL_ELAPSED_TIME AS "MS", BYTES_SCANNED AS "BYTES" ' +
    `FROM TABLE(${snowflakeName(database)}.INFORMATION_SCHEMA.QUERY_HISTORY_BY_SESSION(RESULT_LIMIT => 10000)) ` +
    'WHERE QUERY_TAG = ? ORDER BY START_TIME'
  );
}

/** The session guards of a config (the schema's defaults where it has none); the QUERY_TAG is JSON naming the loader, its version and its run. */
export function snowflakeGuards(
  settings: { statement_timeout_seconds?: number | undefined; lock_timeout_seconds?: number | undefined },
  runId: string,
): SessionGuards {
  return {
    statementTimeoutSeconds: settings.statement_timeout_seconds ?? 3600,
    lockTimeoutSeconds: settings.lock_timeout_seconds ?? 900,
    queryTag: JSON.stringify({ app: 'target-invoca', version: PACKAGE_VERSION, run: runId }),
  };
}

/** The stage: a temporary table of this session, filled with binds or PUT + COPY. */
export const SNOWFLAKE_STAGE = '_INVOCA_STAGE';
export const SNOWFLAKE_TRANSACTION = { begin: 'BEGIN', commit: 'COMMIT', rollback: 'ROLLBACK' } as const;

/** Before the stage is filled: the stage of a failed batch goes, a new one is created. */
export function snowflakeStageStatements(createStage: string): string[] {
  return [`DROP TABLE IF EXISTS ${snowflakeName(SNOWFLAKE_STAGE)}`, createStage];
}

/** A batch of up to BIND_ROWS_LIMIT rows into the stage: array binds, one row of values per record. */
export function snowflakeStageInsert(): string {
  return `INSERT INTO ${snowflakeName(SNOWFLAKE_STAGE)} VALUES (?, ?, ?)`;
}

/** Counts the schemas of that (stored) name in the database; bind the name. */
export function schemaExists(database: string): string {
  return `SELECT COUNT(*) AS "N" FROM ${snowflakeName(database)}.INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = ?`;
}

export function createSchema(database: string, schema: string): string {
  return `CREATE SCHEMA IF NOT EXISTS ${snowflakeName(database)}.${snowflakeName(schema)}`;
}

/**
 * The session's schema, by the names the loader resolved: the temporary stage is created
 * unqualified, in it (the login's own database and schema are taken as written, and a schema
 * created after login is not the session's yet).
 */
export function useSchema(database: string, schema: string): string {
  return `USE SCHEMA ${snowflakeName(database)}.${snowflakeName(schema)}`;
}

/** The columns of a table, by its stored schema and name (bind both). */
/**
 * The columns of a table spelled as given or as Snowflake stores an unquoted name, upper case
 * (binds: the schema as given and upper-cased, the table as given and upper-cased): Airbyte keeps
 * its raw tables in lower case ("airbyte_internal"."..._raw__stream_...") and its final tables in
 * upper case. Equalities on the names, by which Snowflake narrows its metadata search.
 */
export function findTableQuery(database: string): string {
  return (
    `SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM ${snowflakeName(database)}.INFORMATION_SCHEMA.COLUMNS ` +
    'WHERE TABLE_SCHEMA IN (?, ?) AND TABLE_NAME IN (?, ?) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION'
  );
}

export function columnsQuery(database: string): string {
  return `SELECT COLUMN_NAME FROM ${snowflakeName(database)}.INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`;
}

const extract: Dialect['extract'] = (raw, field, kind) => {
  // Bracket notation takes the key as a string literal: any key works, with no path syntax to
  // escape, and `::VARCHAR` of a JSON string is its text (GET(...)::VARCHAR keeps the quotes on fakesnow).
  const value = `${raw}[${snowflakeLiteral(field)}]`;
  if (kind === 'json') return value;
  return `TRY_CAST(${value}::VARCHAR AS ${TYPES[kind]})`;
};

/**
 * Snowflake: names are upper-cased (so `select transaction_id from calls` works unquoted) and
 * always quoted (so `Purchase Made` becomes "PURCHASE MADE"); the loader's own names and the
 * configured database and schema too, when they are simple names. Timestamps are UTC TIMESTAMP_NTZ.
 */
export function snowflakeDialect(database: string, schema: string): Dialect {
  return {
    name: 'snowflake',
    quote: snowflakeName,
    quoteStored: doubleQuote,
    storedName,
    literal: snowflakeLiteral,
    table: (name) => `${snowflakeName(database)}.${snowflakeName(schema)}.${snowflakeName(name)}`,
    columnName: (field) => fitName(field.toUpperCase(), MAX_NAME),
    nameKey: (name) => name,
    maxNameLength: MAX_NAME,
    type: (kind) => TYPES[kind],
    rawType: 'VARIANT',
    parseRaw: (text) => `PARSE_JSON(${text})`,
    extract,
    extractAll: extractEach(extract),
    cast: (expression, kind) => (kind === 'json' ? `TO_VARIANT(${expression})` : `TRY_CAST(TO_VARCHAR(${expression}) AS ${TYPES[kind]})`),
    rowToJson: (alias) => `OBJECT_CONSTRUCT(${alias}.*)`,
    // Airbyte's Snowflake raw tables keep the record as VARIANT: it is read as it is.
    storedJson: (column) => column,
    jsonKeys: (raw, from) => `SELECT DISTINCT f.KEY AS "k" FROM ${from}, LATERAL FLATTEN(INPUT => ${raw}) AS f`,
    epochMillis: (timestamp) => `DATE_PART(EPOCH_MILLISECOND, ${timestamp})`,
    zeroPad: (integer, width) => `LPAD(TO_VARCHAR(${integer}), ${width}, '0')`,
    concat: (parts) => parts.join(' || '),
    now: 'CAST(SYSDATE() AS TIMESTAMP_NTZ)',
    firstPerKey: qualifyFirstPerKey,
  };
}
