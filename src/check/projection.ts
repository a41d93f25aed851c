/**
 * What the check's batches cost, and what a batch will cost at the user's table size and
 * schedule, by the method of docs/performance.md ("What a five-minute batch costs"). Pure.
 */
import type { DialectName } from '../load/sql/dialect.js';
import type { StatementCost } from '../load/warehouse.js';

export interface ProjectionInput {
  engine: DialectName;
  /** The statements of the check's batches, as the warehouse recorded them. */
  costs: readonly StatementCost[];
  batches: number;
  /** The wall time of the check's batches, together. */
  batchMs: number;
  /** Rows in the user's real `transactions` table (0 when it does not exist yet; undefined when it could not be counted). */
  realTransactions: number | undefined;
  batchesPerDay: number;
  /** Snowflake: the warehouse's AUTO_SUSPEND, when the session can see it. */
  autoSuspendSeconds?: number;
}

/** BigQuery on-demand price per TiB billed (the US multi-region, at this writing). */
export const BIGQUERY_USD_PER_TIB = 6.25;
/** What a batch reads in proportion to the table: its key columns whole (docs/performance.md). */
export const BIGQUERY_BYTES_PER_MILLION = 0.35e9;
/** Snowflake bills a resumed warehouse for at least this long. */
const SNOWFLAKE_MINIMUM_SECONDS = 60;
/** A new Snowflake warehouse's AUTO_SUSPEND, assumed when the session cannot read it. */
const SNOWFLAKE_DEFAULT_AUTO_SUSPEND = 600;

export function projectCost(input: ProjectionInput): { summary: string; lines: string[] } {
  const lines = input.costs.map(
    (cost) =>
      `${String(cost.ms).padStart(7)} ms${cost.bytes === undefined ? '' : `  ${formatBytes(cost.bytes).padStart(9)}`}${cost.slotMs ? `  ${cost.slotMs} slot ms` : ''}  ${cost.statement}`,
  );
  const batches = Math.max(1, input.batches);
  switch (input.engine) {
    case 'bigquery': {
      const billed = input.costs.reduce((sum, cost) => sum + (cost.bytes ?? 0), 0) / batches;
      const rows = input.realTransactions ?? 0;
      const projected = Math.max(billed, (rows / 1e6) * BIGQUERY_BYTES_PER_MILLION);
      const perBatch = (projected / 2 ** 40) * BIGQUERY_USD_PER_TIB;
      const size =
        input.realTransactions === undefined
          ? 'transactions could not be counted, so this is what these small batches billed'
          : rows === 0
            ? 'no transactions yet, so this is what these small batches billed; it grows with the table'
            : `${rows.toLocaleString('en-US')} rows in transactions`;
      lines.push(
        `projection: ${size}: ~${formatBytes(projected)} billed a batch ` +
          `(the key columns read whole, ~${formatBytes(BIGQUERY_BYTES_PER_MILLION)} per million rows), ~$${perBatch.toFixed(3)} at $${BIGQUERY_USD_PER_TIB}/TiB on demand`,
      );
      return {
        summary: `${input.costs.length} statements, ${formatBytes(billed)} billed a batch here; projected ~$${(perBatch * input.batchesPerDay).toFixed(2)} a day at ${input.batchesPerDay} batches a day (capacity pricing bills slots instead)`,
        lines,
      };
    }
    case 'snowflake': {
      const seconds = input.costs.reduce((sum, cost) => sum + cost.ms, 0) / 1000 / batches;
      // A warehouse runs from its resume (billed at least 60 s) until AUTO_SUSPEND after the last
      // query: a schedule more frequent than that keeps it running all day.
      const autoSuspend = input.autoSuspendSeconds ?? SNOWFLAKE_DEFAULT_AUTO_SUSPEND;
      const interval = 86_400 / Math.max(1, input.batchesPerDay);
      const billedSeconds = Math.min(interval, Math.max(SNOWFLAKE_MINIMUM_SECONDS, seconds + autoSuspend));
      const hours = Math.min(24, (billedSeconds * input.batchesPerDay) / 3600);
      lines.push(
        `projection: ${seconds.toFixed(1)} s of queries a batch here (it grows with the tables); the warehouse runs until AUTO_SUSPEND ` +
          `(${autoSuspend} s${input.autoSuspendSeconds === undefined ? ', assumed: SHOW WAREHOUSES gave none' : ''}) after each batch, at least 60 s a resume`,
      );
      return {
        summary: `${input.costs.length} statements, ${seconds.toFixed(1)} s a batch; at ${input.batchesPerDay} batches a day the warehouse runs ~${hours.toFixed(1)} hours a day (credits: that times its size's rate, 1 an hour for XS)`,
        lines,
      };
    }
    default:
      return {
        summary: `${(input.batchMs / batches).toFixed(0)} ms a batch on this machine (an embedded engine: no bill); the engine records no per-statement cost`,
        lines,
      };
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${bytes} B`;
}
