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

/**
 * runInTransaction for engines with interactive transactions: BEGIN, each step, COMMIT, and
 * ROLLBACK when any step fails.
 */
export async function runSequentially(
  execute: (sql: string) => Promise<number>,
  steps: readonly MergeStep[],
  control: { begin: string; commit: string; rollback: string },
): Promise<number[]> {
  await execute(control.begin);
  try {
    const changed: number[] = [];
    for (const step of steps) {
      let total = 0;
      for (let run = 0; run < (step.repeat ? MAX_REPEATS : 1); run++) {
        const rows = await execute(step.sql);
        total += rows;
        if (rows === 0) break;
      }
      changed.push(total);
    }
    await execute(control.commit);
    return changed;
  } catch (error) {
    await execute(control.rollback).catch(() => 0);
    throw error;
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
  /** The stage table name for the plan, as SQL. */
  stageName(): string;
  /** Creates the stage table and loads the rows into it. */
  stage(plan: MergePlan, rows: readonly StagedRow[]): Promise<void>;
  /**
   * Creates the stage table and returns a writer that adds rows to it as they arrive, so that a
   * batch is never held whole in memory (DuckDB's appender). Engines without it are given the
   * batch at once through `stage`.
   */
  openStage?(plan: MergePlan): Promise<StageWriter>;
  /**
   * Runs the merge steps in one transaction (all or nothing) and returns the rows each step
   * changed; a step marked `repeat` runs until it changes no row (at most MAX_REPEATS times).
   */
  runInTransaction(steps: readonly MergeStep[]): Promise<number[]>;
  /**
   * Engines whose temporary tables live only inside one script (BigQuery) run work that needs
   * them as one script of these statements, and return the rows of the last one.
   */
  runScript?(statements: readonly string[]): Promise<Record<string, unknown>[]>;
  /** Rows of a query, as objects keyed by column name (for summaries and tests). */
  query(sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/** The start of a statement for an error message: one line (a script's newlines folded), 120 characters. */
export function statementExcerpt(sql: string): string {
  return `${sql.replace(/\s+/g, ' ').trim().slice(0, 120)}...`;
}
