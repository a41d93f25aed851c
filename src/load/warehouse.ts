import type { MergePlan } from './plan.js';
import type { Dialect } from './sql/dialect.js';

/** One record as staged: its id, the sequence it was delivered with, and the record as JSON text. */
export interface StagedRow {
  transactionId: string;
  sequence: number;
  raw: string;
}

/**
 * What the loader needs from a warehouse client. Each engine implements it over its own driver;
 * the SQL comes from plan.ts, so a client only moves statements and rows.
 */
export interface Warehouse {
  readonly dialect: Dialect;
  /** Whether DDL may run inside a transaction (DuckDB, PostgreSQL) or must stay outside it. */
  readonly transactionalDdl: boolean;
  /** The column names of a table of the configured schema, or undefined when it does not exist. */
  columns(table: string): Promise<Set<string> | undefined>;
  /** Runs one statement without bound values; returns the rows it changed (0 when the engine does not say). */
  execute(sql: string): Promise<number>;
  /** The stage table name for the plan, as SQL. */
  stageName(): string;
  /** Creates the stage table and loads the rows into it. */
  stage(plan: MergePlan, rows: readonly StagedRow[]): Promise<void>;
  begin(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  /** Rows of a query, as objects keyed by column name (for summaries and tests). */
  query(sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}
