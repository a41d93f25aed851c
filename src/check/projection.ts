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
  /** Rows in the user's real `transactions` table (0 when it does not exist yet). */
  realTransactions: number;
  batchesPerDay: number;
}

/** BigQuery on-demand price per TiB billed (the US multi-region, at this writing). */
export const BIGQUERY_USD_PER_TIB = 6.25;
/** What a batch reads in proportion to the table: its key columns whole (docs/performance.md). */
export const BIGQUERY_BYTES_PER_MILLION = 0.35e9;
/** Snowflake bills a resumed warehouse for at least this long. */
const SNOWFLAKE_MINIMUM_SECONDS = 60;

export function projectCost(input: ProjectionInput): { summary: string; lines: string[] } {
  const lines = input.costs.map(
    (cost) =>
      `${String(cost.ms).padStart(7)} ms${cost.bytes === undefined ? '' : `  ${formatBytes(cost.bytes).padStart(9)}`}${cost.slotMs ? `  ${cost.slotMs} slot ms` : ''}  ${cost.statement}`,
  );
  const batches = Math.max(1, input.batches);
  switch (input.engine) {
    case 'bigquery': {
      const billed = input.costs.reduce((sum, cost) => sum + (cost.bytes ?? 0), 0) / batches;
      const projected = Math.max(billed, (input.realTransactions / 1e6) * BIGQUERY_BYTES_PER_MILLION);
      const perBatch = (projected / 2 ** 40) * BIGQUERY_USD_PER_TIB;
      lines.push(
        `projection: ${input.realTransactions.toLocaleString('en-US')} rows in transactions, ~${formatBytes(projected)} billed a batch ` +
          `(the key columns read whole, ~${formatBytes(BIGQUERY_BYTES_PER_MILLION)} per million rows), ~$${perBatch.toFixed(3)} at $${BIGQUERY_USD_PER_TIB}/TiB on demand`,
      );
      return {
        summary: `${input.costs.length} statements, ${formatBytes(billed)} billed a batch here; at your size ~$${(perBatch * input.batchesPerDay).toFixed(2)} a day at ${input.batchesPerDay} batches a day (capacity pricing bills slots instead)`,
        lines,
      };
    }
    case 'snowflake': {
      const seconds = input.costs.reduce((sum, cost) => sum + cost.ms, 0) / 1000 / batches;
      const billedSeconds = Math.max(SNOWFLAKE_MINIMUM_SECONDS, seconds);
      lines.push(
        `projection: ${seconds.toFixed(1)} s of warehouse time a batch here (it grows with the tables); a warehouse that suspends between batches bills at least ${SNOWFLAKE_MINIMUM_SECONDS} s each time it resumes`,
      );
      return {
        summary: `${input.costs.length} statements, ${seconds.toFixed(1)} s a batch; at ${input.batchesPerDay} batches a day ~${((billedSeconds * input.batchesPerDay) / 3600).toFixed(1)} warehouse-hours (an XS warehouse: that many credits)`,
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
