import { setTimeout as sleep } from 'node:timers/promises';
import { TapInvocaError } from '../errors.js';
import { backoffDelayMs } from '../retry.js';
import type { MergeStepName } from '../stream/merge-steps.js';
import type { MergePlan } from './plan.js';
import type { Dialect } from './sql/dialect.js';

export interface MergeStep {
  /** Which step of the merge this statement belongs to (src/stream/merge-steps.ts). */
  name: MergeStepName;
  sql: string;
  /** Run again until it changes no row (re-rooting resolves one link of a chain per run). */
  repeat?: boolean;
  /**
   * A condition (SQL) without which the step has nothing to do. A script (BigQuery) runs the step
   * only when it holds; engines that run the steps one by one run it and see 0 rows changed.
   */
  onlyIf?: string;
}

/** A chain longer than this is not resolved further in one batch (Invoca's chains are 1 deep). */
export const MAX_REPEATS = 16;

/** What one merge runs (a batch's, or `target-invoca merge`'s). */
export interface MergeRun {
  /** Before the transaction: the temporary tables the steps read. */
  prepare?: readonly string[];
  /** The tables `prepare` creates, dropped before and after where they outlive the merge (not in a BigQuery script). */
  temporary?: readonly string[];
  /** In one transaction, all or nothing. */
  steps: readonly MergeStep[];
  /** A query read after the transaction, while `prepare`'s tables exist: its rows are the result's. */
  result?: string;
}

export interface MergeResult {
  /** The rows each step changed; undefined where the engine does not say (a BigQuery script). */
  changed: number[] | undefined;
  /** The rows of the run's `result` query ([] without one). */
  rows: Record<string, unknown>[];
}

/**
 * runMerge for engines with interactive transactions: the temporary tables dropped, `prepare`,
 * BEGIN, each step (a `repeat` step until it changes no row), COMMIT (ROLLBACK when a step
 * fails), the result query, and the temporary tables dropped again.
 */
export async function runMergeInSession(
  session: { execute: (sql: string) => Promise<number>; query: (sql: string) => Promise<Record<string, unknown>[]> },
  run: MergeRun,
  control: { begin: string; commit: string; rollback: string },
): Promise<MergeResult> {
  const { execute } = session;
  const dropTemporary = async (): Promise<void> => {
    for (const table of run.temporary ?? []) await execute(`DROP TABLE IF EXISTS ${table}`).catch(() => 0);
  };
  await dropTemporary();
  try {
    for (const statement of run.prepare ?? []) await execute(statement);
    await execute(control.begin);
    const changed: number[] = [];
    try {
      for (const step of run.steps) {
        let total = 0;
        for (let repeat = 0; repeat < (step.repeat ? MAX_REPEATS : 1); repeat++) {
          const rows = await execute(step.sql);
          total += rows;
          if (rows === 0) break;
        }
        changed.push(total);
      }
      await execute(control.commit);
    } catch (error) {
      await execute(control.rollback).catch(() => 0);
      throw error;
    }
    return { changed, rows: run.result === undefined ? [] : await session.query(run.result) };
  } finally {
    await dropTemporary();
  }
}

/** The longest wait between two runs of a conflicting batch. */
const MAX_CONFLICT_DELAY_MS = 60_000;

export interface ConflictRetry {
  /** Runs of the work after the first; 0 turns retries off. */
  retries: number;
  /** The first wait's ceiling; each retry doubles it, with the same jitter as the API's retries (src/retry.ts). */
  initialDelayMs: number;
  onRetry: (error: TapInvocaError, retry: number, delayMs: number) => void;
  random?: () => number;
}

/**
 * Runs `work` again while it fails with a retryable warehouse error (BigQuery's concurrent-DML
 * conflicts): the whole transaction was rolled back, so running it again is safe.
 */
export async function retryConflicts<T>(work: () => Promise<T>, policy: ConflictRetry): Promise<T> {
  const random = policy.random ?? Math.random;
  for (let retry = 1; ; retry++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof TapInvocaError) || !error.retryable || retry > policy.retries) throw error;
      const delayMs = backoffDelayMs(retry - 1, policy.initialDelayMs, MAX_CONFLICT_DELAY_MS, random);
      policy.onRetry(error, retry, delayMs);
      await sleep(delayMs);
    }
  }
}

/** One record as staged: its id, the sequence it was delivered with, and the record as JSON text. */
export interface StagedRow {
  transactionId: string;
  sequence: number;
  raw: string;
}

/** Rows into an open stage; `close` makes them visible to the merge, `discard` gives them up. */
export interface StageWriter {
  add(row: StagedRow): void;
  close(): Promise<void>;
  /** Releases the writer without staging what it holds (a batch that will not be committed). */
  discard(): Promise<void>;
}

/**
 * A stage writer for engines that load a batch at once (a load job, bound INSERTs, PUT + COPY):
 * the rows are held until `close` hands them to `load`.
 */
export function heldStage(load: (rows: readonly StagedRow[]) => Promise<void>): StageWriter {
  let held: StagedRow[] = [];
  return {
    add: (row) => {
      held.push(row);
    },
    close: async () => {
      const rows = held;
      held = [];
      await load(rows);
    },
    discard: async () => {
      held = [];
    },
  };
}

/** Creates the plan's stage and stages `rows` in it (a batch read back, a test's rows). */
export async function stageRows(warehouse: Warehouse, plan: MergePlan, rows: readonly StagedRow[]): Promise<void> {
  const writer = await warehouse.openStage(plan);
  try {
    for (const row of rows) writer.add(row);
  } catch (error) {
    await writer.discard();
    throw error;
  }
  await writer.close();
}

/**
 * What the loader needs from a warehouse client. Each engine implements it over its own driver;
 * the SQL comes from plan.ts, so a client only moves statements and rows.
 */
export interface FoundTable {
  /** The table's qualified name, quoted as stored. */
  sql: string;
  columns: Set<string>;
}

/** Who a client is connected as, and where it writes (`target-invoca check` reports both). */
export interface WarehouseIdentity {
  who: string;
  where: string;
  /** Snowflake: the warehouse's AUTO_SUSPEND (seconds), which decides what a schedule bills. */
  autoSuspendSeconds?: number;
}

/** What one statement cost, as the warehouse recorded it. */
export interface StatementCost {
  /** The statement's start, one line. */
  statement: string;
  ms: number;
  /** BigQuery: bytes billed; Snowflake: bytes scanned. */
  bytes?: number;
  /** BigQuery: slot milliseconds. */
  slotMs?: number;
}

export interface Warehouse {
  readonly dialect: Dialect;
  identity(): Promise<WarehouseIdentity>;
  /**
   * What the statements this client sent between `fromMs` and `toMs` (on `performance.now()`'s
   * clock: monotonic, sub-millisecond) cost, as the
   * warehouse records it (BigQuery: each job, a script's child jobs one by one; Snowflake: the
   * session's query history); [] where the engine records nothing (DuckDB).
   */
  statementCosts(fromMs: number, toMs: number): Promise<StatementCost[]>;
  /**
   * What the session may not do to the loader's existing tables that doing it once on scratch
   * tables cannot show, one line each with the grant to add (Snowflake: adding a column needs
   * OWNERSHIP of the table); [] where nothing is known to be missing.
   */
  ownershipProblems(): Promise<string[]>;
  /** The column names of a table (of the configured schema, or of `schema`), or undefined when it does not exist. */
  columns(table: string, schema?: string): Promise<Set<string> | undefined>;
  /**
   * A table another loader wrote (`target-invoca merge`), in the configured schema or in `schema`:
   * its qualified name as SQL and its column names as stored, or undefined when there is none.
   * Where the engine folds unquoted names (Snowflake), a name is found in any case, since
   * loaders store some upper case (Airbyte's final tables) and some lower (its raw tables).
   */
  findTable(name: string, schema?: string): Promise<FoundTable | undefined>;
  /** Runs one statement without bound values; returns the rows it changed (0 when the engine does not say). */
  execute(sql: string): Promise<number>;
  /**
   * A name for the stage of the next plan, as SQL: a new one at each call where every batch has
   * its own stage table (BigQuery), else the engine's one temporary stage.
   */
  newStageName(): string;
  /**
   * Creates the plan's stage (`plan.stage`) and returns a writer that adds rows to it: as they
   * arrive where the engine can (DuckDB's appender), so a batch is never held whole in memory;
   * else held until `close`.
   */
  openStage(plan: MergePlan): Promise<StageWriter>;
  /**
   * Runs a merge: `prepare`, the steps in one transaction (all or nothing; a step marked
   * `repeat` until it changes no row, at most MAX_REPEATS times), then the `result` query.
   */
  runMerge(run: MergeRun): Promise<MergeResult>;
  /** Rows of a query, as objects keyed by column name (for summaries and tests). */
  query(sql: string): Promise<Record<string, unknown>[]>;
  /**
   * The most one batch may hold, given the tables' data columns, for the process to stay within
   * the engine's memory setting (DuckDB: `memory_limit`, see memory-budget.ts); absent where the
   * warehouse runs elsewhere.
   */
  batchLimits?(columns: number): BatchLimits;
  close(): Promise<void>;
}

export interface BatchLimits {
  /** The most a batch's rows may take of the engine's memory. */
  bytes: number;
  /** What one row takes, from its record text's size in UTF-8 bytes. */
  bytesOfRow(textBytes: number): number;
}

/** The start of a statement for an error message: one line (a script's newlines folded), 120 characters. */
export function statementExcerpt(sql: string): string {
  return `${sql.replace(/\s+/g, ' ').trim().slice(0, 120)}...`;
}
