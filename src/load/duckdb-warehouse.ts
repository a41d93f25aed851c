/**
 * DuckDB (the embedded default) through @duckdb/node-api: one file, one connection. The batch is
 * staged with the appender into a temporary table, so no file is written.
 */
import { userInfo } from 'node:os';
import { type DuckDBAppender, DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { LOADER_CONFIG_SCHEMA } from '../config/schemas.js';
import { ConfigError, WarehouseError } from '../errors.js';
import { type MemoryBudget, memoryBudget, memoryLimitProblem, parseSize, poolBytesOfRow } from './memory-budget.js';
import { createStage, type MergePlan } from './plan.js';
import {
  DUCKDB_STAGE,
  DUCKDB_STORAGE_VERSION,
  DUCKDB_TRANSACTION,
  duckdbDialect,
  storageHasZstd,
  duckdbOpenStatements,
  duckdbStageStatements,
} from './sql/duckdb.js';
import { runMergeInSession, type StageWriter, type Warehouse, statementExcerpt } from './warehouse.js';

export interface DuckDbSettings {
  path: string;
  schema: string;
  memory_limit?: string | undefined;
  threads?: number | undefined;
}

/** The process's memory when no memory_limit is given: the config's default. */
const DEFAULT_MEMORY_LIMIT = LOADER_CONFIG_SCHEMA.properties.duckdb.properties.memory_limit.default;

export async function openDuckDb(settings: DuckDbSettings): Promise<Warehouse> {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;
  const budget = memoryBudgetOf(settings.memory_limit ?? DEFAULT_MEMORY_LIMIT);
  // Applies to a new file only; an existing file keeps the format it was written in.
  const options: Record<string, string> = {
    storage_compatibility_version: DUCKDB_STORAGE_VERSION,
    // DuckDB's pool gets a share of the limit: the rest is Node's and DuckDB's memory outside its pool.
    memory_limit: `${Math.floor(budget.poolBytes / 1e6)}MB`,
  };
  if (settings.threads) options['threads'] = String(settings.threads);
  try {
    instance = await DuckDBInstance.create(settings.path, options);
    connection = await instance.connect();
  } catch (error) {
    throw new WarehouseError(`cannot open the DuckDB file ${settings.path}: ${message(error)}`, { cause: error });
  }
  let storageVersion = '';
  try {
    const tags = await connection.runAndReadAll(
      "SELECT map_extract_value(tags, 'storage_version') AS version FROM duckdb_databases() WHERE database_name = current_database()",
    );
    storageVersion = String(tags.getRowObjectsJson()[0]?.['version'] ?? '');
  } catch (error) {
    throw new WarehouseError(`cannot read the storage version of the DuckDB file ${settings.path}: ${message(error)}`, { cause: error });
  }
  const dialect = duckdbDialect(settings.schema, { compressRaw: storageHasZstd(storageVersion) });
  const run = async (sql: string): Promise<number> => {
    try {
      const result = await connection.run(sql);
      return Number(result.rowsChanged);
    } catch (error) {
      throw new WarehouseError(`DuckDB failed: ${message(error)} (in: ${statementExcerpt(sql)})`, {
        cause: error,
        outOfMemory: isOutOfMemory(error),
      });
    }
  };
  const query = async (sql: string): Promise<Record<string, unknown>[]> => {
    try {
      return (await connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
    } catch (error) {
      throw new WarehouseError(`DuckDB failed: ${message(error)}`, { cause: error });
    }
  };
  for (const statement of duckdbOpenStatements(settings.schema)) await run(statement);

  /**
   * The stage, filled by the appender as rows arrive. The appender writes in chunks as rows come,
   * so adding a row can fail like a statement (out of memory, a full disk): the same error.
   */
  const appenderError = (what: string, error: unknown): WarehouseError =>
    new WarehouseError(`DuckDB failed ${what}: ${message(error)}`, { cause: error, outOfMemory: isOutOfMemory(error) });
  const openStage = async (plan: MergePlan): Promise<StageWriter> => {
    for (const statement of duckdbStageStatements(createStage(plan, true))) await run(statement);
    let appender: DuckDBAppender;
    try {
      appender = await connection.createAppender(DUCKDB_STAGE, 'main', 'temp');
    } catch (error) {
      throw appenderError('to open the stage', error);
    }
    let closed = false;
    // Closing after a failure fails again (the appender flushes first): that error says nothing new.
    const release = (): void => {
      try {
        appender.closeSync();
      } catch {
        // already reported, or the batch is given up
      }
    };
    return {
      add(row) {
        try {
          appender.appendVarchar(row.transactionId);
          appender.appendBigInt(BigInt(row.sequence));
          appender.appendVarchar(row.raw);
          appender.endRow();
        } catch (error) {
          throw appenderError(`to stage record ${row.transactionId}`, error);
        }
      },
      async close() {
        if (closed) return;
        closed = true;
        try {
          appender.flushSync();
          appender.closeSync();
        } catch (error) {
          release();
          throw appenderError('to stage the batch', error);
        }
      },
      async discard() {
        if (closed) return;
        closed = true;
        release();
      },
    };
  };

  return {
    dialect,
    // Whoever may write the file or dataset may alter its tables.
    ownershipProblems: async () => [],
    async identity() {
      const [row] = (await connection.runAndReadAll('SELECT version() AS v')).getRowObjectsJS();
      return { who: `DuckDB ${String(row?.['v'] ?? '')} as ${userInfo().username}`, where: `${settings.path}, schema ${settings.schema}` };
    },
    // DuckDB keeps no record of what a statement cost: the check times them itself.
    statementCosts: async () => [],
    async columns(table, schema = settings.schema) {
      const reader = await connection.runAndReadAll(
        'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
        [schema, table],
      );
      const names = reader.getRowObjectsJS().map((row) => String(row['column_name']));
      return names.length === 0 ? undefined : new Set(names);
    },
    async findTable(table, schema = settings.schema) {
      // DuckDB resolves names in any case: so does this lookup.
      const reader = await connection.runAndReadAll(
        'SELECT table_schema, table_name, column_name FROM information_schema.columns ' +
          'WHERE lower(table_schema) = lower($1) AND lower(table_name) = lower($2) ORDER BY ordinal_position',
        [schema, table],
      );
      const rows = reader.getRowObjectsJS();
      const first = rows[0];
      if (!first) return undefined;
      return {
        sql: `${dialect.quoteStored(String(first['table_schema']))}.${dialect.quoteStored(String(first['table_name']))}`,
        columns: new Set(rows.map((row) => String(row['column_name']))),
      };
    },
    execute: run,
    batchLimits: (columns) => ({ bytes: budget.batchBytes, bytesOfRow: (textBytes) => poolBytesOfRow(columns, textBytes) }),
    newStageName: () => dialect.quote(DUCKDB_STAGE),
    openStage,
    runMerge: (merge) => runMergeInSession({ execute: run, query }, merge, DUCKDB_TRANSACTION),
    query,
    async close() {
      // Closing the instance too releases the file lock now, not when it is garbage-collected.
      connection.closeSync();
      instance.closeSync();
    },
  };
}

function memoryBudgetOf(memoryLimit: string): MemoryBudget {
  const problem = memoryLimitProblem(memoryLimit);
  if (problem) throw new ConfigError(problem);
  return memoryBudget(parseSize(memoryLimit) ?? 0);
}

function isOutOfMemory(error: unknown): boolean {
  return /Out of Memory Error/i.test(message(error));
}

function message(error: unknown): string {
  // An error object from another realm (a test's VM context) is not `instanceof Error`.
  const text =
    typeof (error as { message?: unknown } | null)?.message === 'string' ? (error as { message: string }).message : String(error);
  return text.split('\n')[0] ?? '';
}
