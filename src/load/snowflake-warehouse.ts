/**
 * Snowflake through snowflake-sdk. A small batch is staged with array binds into a temporary
 * table; a large one is written as gzipped NDJSON, PUT to the user stage and COPY'd in. The merge
 * runs between BEGIN and COMMIT on the same session (DDL, which commits in Snowflake, stays
 * outside). Key-pair (JWT) auth is the production path; a password works for local experiments.
 */
import { createPrivateKey, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
// Before the driver: it probes cloud metadata services when it is imported, unless told not to.
import './snowflake-no-probe.js';
import snowflake from 'snowflake-sdk';
import { ConfigError, errorCode, WarehouseError } from '../errors.js';
import { snowflakeAuthProblem } from '../config/loader-config.js';
import { createStage, type MergePlan, TABLES } from './plan.js';
import { ownershipProblems, ownershipQuery, privilegeHint, timeoutHint } from './sql/snowflake-grants.js';
import { doubleQuote, type Dialect } from './sql/dialect.js';
import {
  columnsQuery,
  findTableQuery,
  createSchema,
  schemaExists,
  sessionSetup,
  snowflakeGuards,
  SNOWFLAKE_STAGE,
  SNOWFLAKE_TRANSACTION,
  snowflakeDialect,
  snowflakeLiteral,
  snowflakeStageInsert,
  snowflakeStageStatements,
  snowflakeName,
  storedName,
  useSchema,
  IDENTITY_QUERY,
  queryHistoryQuery,
} from './sql/snowflake.js';
import {
  heldStage,
  runMergeInSession,
  type FoundTable,
  type StagedRow,
  type StatementCost,
  type Warehouse,
  statementExcerpt,
} from './warehouse.js';

export interface SnowflakeSettings {
  account: string;
  user: string;
  private_key_path?: string | undefined;
  /** The key as PEM text (parseLoaderConfig turns `\n` escapes into newlines). */
  private_key?: string | undefined;
  private_key_passphrase?: string | undefined;
  password?: string | undefined;
  warehouse?: string | undefined;
  database: string;
  schema: string;
  role?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  protocol?: 'http' | 'https' | undefined;
  statement_timeout_seconds?: number | undefined;
  lock_timeout_seconds?: number | undefined;
}

/** Up to this many rows a batch is staged with array binds; above it with PUT + COPY. */
export const BIND_ROWS_LIMIT = 20_000;
const BIND_CHUNK_ROWS = 5_000;
const MAX_QUERIES_KEPT = 1_000;

export async function openSnowflake(settings: SnowflakeSettings): Promise<Warehouse> {
  const authProblem = snowflakeAuthProblem(settings);
  if (authProblem) throw new ConfigError(authProblem);
  if (settings.private_key || settings.private_key_path) await checkPrivateKey(settings);
  // The driver must never write to stdout: the target's stdout carries the state lines.
  snowflake.configure({ logLevel: 'OFF', additionalLogToConsole: false });
  const connection = snowflake.createConnection({
    account: settings.account,
    username: settings.user,
    database: settings.database,
    schema: settings.schema,
    ...(settings.warehouse ? { warehouse: settings.warehouse } : {}),
    ...(settings.role ? { role: settings.role } : {}),
    ...(settings.host ? { host: settings.host } : {}),
    ...(settings.port ? { port: settings.port } : {}),
    ...(settings.protocol ? { protocol: settings.protocol } : {}),
    ...(settings.private_key_path || settings.private_key
      ? {
          authenticator: 'SNOWFLAKE_JWT',
          ...(settings.private_key ? { privateKey: settings.private_key } : { privateKeyPath: settings.private_key_path ?? '' }),
          ...(settings.private_key_passphrase ? { privateKeyPass: settings.private_key_passphrase } : {}),
        }
      : { authenticator: 'SNOWFLAKE', password: settings.password ?? '' }),
  });
  // connectAsync hands a failed login to its callback and still resolves: keep that error.
  let loginError: unknown;
  try {
    await connection.connectAsync((error) => {
      if (error) loginError = error;
    });
  } catch (error) {
    loginError = error;
  }
  if (loginError) {
    throw new WarehouseError(`cannot connect to Snowflake account ${settings.account} as ${settings.user}: ${message(loginError)}`, {
      cause: loginError,
    });
  }
  const dialect = snowflakeDialect(settings.database, settings.schema);
  const runId = randomBytes(4).toString('hex');
  const guards = snowflakeGuards(settings, runId);
  // `binds`: one row of values (a query), or rows of values (array binding, INSERT only).
  // The queries of this session, by id, with when they were sent (for statementCosts; bounded).
  const sent: { queryId: string; startedAt: number }[] = [];
  const execute = (sql: string, binds?: unknown[] | unknown[][]): Promise<{ rows: Record<string, unknown>[]; updated: number }> =>
    new Promise((resolve, reject) => {
      const startedAt = performance.now();
      connection.execute({
        sqlText: sql,
        ...(binds ? { binds: binds as snowflake.Binds } : {}),
        complete: (error, statement, rows) => {
          if (error) {
            const hint = privilegeHint(sql, message(error), settings.role) || timeoutHint(message(error));
            reject(new WarehouseError(`Snowflake failed: ${message(error)} (in: ${statementExcerpt(sql)})${hint}`, { cause: error }));
            return;
          }
          sent.push({ queryId: statement.getQueryId(), startedAt });
          if (sent.length > MAX_QUERIES_KEPT) sent.shift();
          const updated = statement.getNumUpdatedRows();
          resolve({ rows: (rows ?? []) as Record<string, unknown>[], updated: typeof updated === 'number' && updated > 0 ? updated : 0 });
        },
      });
    });
  const run = async (sql: string): Promise<number> => (await execute(sql)).updated;

  for (const statement of sessionSetup(guards)) await run(statement);
  // CREATE SCHEMA IF NOT EXISTS needs the CREATE SCHEMA privilege even when the schema exists:
  // a least-privilege role (USAGE on the schema) must be able to start, so look first.
  const schemaName = storedName(settings.schema);
  const { rows: schemas } = await execute(schemaExists(settings.database), [schemaName]);
  if (Number(schemas[0]?.['N'] ?? 0) === 0) await run(createSchema(settings.database, settings.schema));
  await run(useSchema(settings.database, settings.schema));

  return {
    dialect,
    async identity() {
      // A session that may not ask (or an engine without these functions) reports the settings.
      const row = await execute(IDENTITY_QUERY).then(
        ({ rows }) => rows[0] ?? {},
        (): Record<string, unknown> => ({}),
      );
      const warehouseName = row['W'] ?? settings.warehouse;
      // SHOW's columns are lower case; a role that cannot see the warehouse gets no row.
      const autoSuspend =
        typeof warehouseName === 'string' && warehouseName !== ''
          ? await execute(`SHOW WAREHOUSES LIKE ${snowflakeLiteral(warehouseName)}`).then(
              ({ rows: shown }) => Number(shown[0]?.['auto_suspend'] ?? Number.NaN),
              () => Number.NaN,
            )
          : Number.NaN;
      return {
        who: `user ${String(row['U'] ?? settings.user)}, role ${String(row['R'] ?? settings.role ?? '?')}, warehouse ${String(warehouseName ?? '?')}`,
        where: `${storedName(settings.database)}.${storedName(settings.schema)} in account ${settings.account}`,
        ...(Number.isFinite(autoSuspend) ? { autoSuspendSeconds: autoSuspend } : {}),
      };
    },
    async statementCosts(fromMs, toMs) {
      const wanted = new Set(sent.filter((query) => query.startedAt >= fromMs && query.startedAt <= toMs).map((query) => query.queryId));
      if (wanted.size === 0) return [];
      const { rows } = await execute(queryHistoryQuery(settings.database), [guards.queryTag]);
      return rows
        .filter((row) => wanted.has(String(row['ID'])))
        .map(
          (row): StatementCost => ({
            statement: statementExcerpt(String(row['TEXT'] ?? '')),
            ms: Number(row['MS'] ?? 0),
            bytes: Number(row['BYTES'] ?? 0),
          }),
        );
    },
    async ownershipProblems() {
      const tables = Object.values(TABLES).map(storedName);
      const { rows } = await execute(ownershipQuery(snowflakeName(settings.database), tables.length), [
        storedName(settings.schema),
        ...tables,
      ]);
      return ownershipProblems(rows, `${snowflakeName(settings.database)}.${snowflakeName(settings.schema)}`, settings.role);
    },
    async columns(table, schema = settings.schema) {
      const { rows } = await execute(columnsQuery(settings.database), [storedName(schema), storedName(table)]);
      return rows.length === 0 ? undefined : new Set(rows.map((row) => String(row['COLUMN_NAME'])));
    },
    async findTable(table, schema = settings.schema) {
      const { rows } = await execute(findTableQuery(settings.database), [schema, schema.toUpperCase(), table, table.toUpperCase()]);
      return foundTable(rows, settings.database, schema, table);
    },
    execute: run,
    newStageName: () => dialect.quote(SNOWFLAKE_STAGE),
    async openStage(plan: MergePlan) {
      return heldStage(async (rows) => {
        for (const statement of snowflakeStageStatements(createStage(plan, true))) await run(statement);
        if (rows.length <= BIND_ROWS_LIMIT) {
          for (let start = 0; start < rows.length; start += BIND_CHUNK_ROWS) {
            const chunk = rows.slice(start, start + BIND_CHUNK_ROWS).map((row) => [row.transactionId, row.sequence, row.raw]);
            await execute(snowflakeStageInsert(), chunk);
          }
          return;
        }
        await putAndCopy(run, rows, `@~/target-invoca/${runId}/`, dialect);
      });
    },
    runMerge: (merge) => runMergeInSession({ execute: run, query: async (sql) => (await execute(sql)).rows }, merge, SNOWFLAKE_TRANSACTION),
    async query(sql) {
      return (await execute(sql)).rows;
    },
    close: () =>
      new Promise<void>((resolve) => {
        connection.destroy(() => resolve());
      }),
  };
}

/** A large batch: gzipped NDJSON, PUT to the user stage, COPY into the stage table, then REMOVE. */
async function putAndCopy(
  run: (sql: string) => Promise<number>,
  rows: readonly StagedRow[],
  location: string,
  dialect: Dialect,
): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'target-invoca-sf-'));
  const file = join(directory, 'batch.json.gz');
  try {
    const lines = rows.map((row) =>
      JSON.stringify({ transaction_id: row.transactionId, _invoca_sequence: row.sequence, _invoca_raw: row.raw }),
    );
    await writeFile(file, gzipSync(lines.join('\n')));
    await run(`PUT ${snowflakeLiteral(`file://${file}`)} '${location}' AUTO_COMPRESS = FALSE SOURCE_COMPRESSION = GZIP OVERWRITE = TRUE`);
    const columns = ['transaction_id', '_invoca_sequence', '_invoca_raw'].map(dialect.quote).join(', ');
    await run(
      `COPY INTO ${dialect.quote(SNOWFLAKE_STAGE)} (${columns}) FROM ` +
        `(SELECT $1:transaction_id::VARCHAR, $1:_invoca_sequence::NUMBER(38, 0), $1:_invoca_raw::VARCHAR FROM '${location}') ` +
        `FILE_FORMAT = (TYPE = JSON COMPRESSION = GZIP) PURGE = TRUE`,
    );
  } finally {
    await run(`REMOVE '${location}'`).catch(() => 0);
    await rm(directory, { recursive: true, force: true });
  }
}

/**
 * The table among the case-insensitive matches: the one spelled as given, else as Snowflake stores
 * an unquoted name (upper case), else the only one; two that differ only in case and match neither
 * way are ambiguous.
 */
export function foundTable(
  rows: readonly Record<string, unknown>[],
  database: string,
  schema: string,
  table: string,
): FoundTable | undefined {
  const tables = new Map<string, { schema: string; name: string; columns: Set<string> }>();
  for (const row of rows) {
    const key = `${String(row['TABLE_SCHEMA'])}.${String(row['TABLE_NAME'])}`;
    const entry = tables.get(key) ?? { schema: String(row['TABLE_SCHEMA']), name: String(row['TABLE_NAME']), columns: new Set<string>() };
    entry.columns.add(String(row['COLUMN_NAME']));
    tables.set(key, entry);
  }
  const candidates = [...tables.values()];
  const chosen =
    candidates.find((entry) => entry.schema === schema && entry.name === table) ??
    candidates.find((entry) => entry.schema === storedName(schema) && entry.name === storedName(table)) ??
    (candidates.length === 1 ? candidates[0] : undefined);
  if (!chosen && candidates.length > 1) {
    throw new ConfigError(
      `config field 'source_table': ${candidates.map((entry) => `"${entry.schema}"."${entry.name}"`).join(' and ')} differ only in case; name one as it is stored`,
    );
  }
  return chosen && { sql: `${snowflakeName(database)}.${doubleQuote(chosen.schema)}.${doubleQuote(chosen.name)}`, columns: chosen.columns };
}

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/**
 * Reads the key as the driver will, before connecting, so that a key that does not parse or a
 * passphrase that is missing or wrong is named as the setting to fix, not as an OpenSSL code.
 */
async function checkPrivateKey(settings: SnowflakeSettings): Promise<void> {
  const field = settings.private_key ? 'snowflake.private_key' : 'snowflake.private_key_path';
  let key: string | Buffer;
  if (settings.private_key) key = settings.private_key;
  else {
    try {
      key = await readFile(settings.private_key_path ?? '');
    } catch (error) {
      const code = errorCode(error) ?? 'unreadable';
      throw new ConfigError(`config field '${field}': cannot read the key file ${settings.private_key_path} (${code})`);
    }
  }
  try {
    createPrivateKey({ key, format: 'pem', ...(settings.private_key_passphrase ? { passphrase: settings.private_key_passphrase } : {}) });
  } catch {
    const encrypted = /ENCRYPTED PRIVATE KEY/.test(key.toString());
    if (encrypted && !settings.private_key_passphrase)
      throw new ConfigError("config field 'snowflake.private_key_passphrase' is required: the private key is encrypted");
    // Whatever OpenSSL says (bad decrypt, or 3.x's "DECODER routines::unsupported"), an encrypted
    // key that does not open with the passphrase given most likely has another passphrase.
    if (encrypted)
      throw new ConfigError(
        `config field 'snowflake.private_key_passphrase' does not decrypt the private key in '${field}' (or that key is damaged)`,
      );
    throw new ConfigError(`config field '${field}' is not a PKCS#8 private key in PEM that can be read`);
  }
}
