/**
 * The steps of one batch's correction merge, in the order they run in its one transaction
 * (src/load/plan.ts writes each one's SQL; docs/design.md says what each does and why this
 * order). Every list of steps, the loader's and the tests', is built from this one.
 */
export const MERGE_STEPS = [
  /** Update the one row of `_invoca_lock`: a second loader on the same tables waits here. */
  'lock',
  /** Insert the staged transactions not yet in `transactions`, with their root and version. */
  'insert',
  /** Give a correction rooted at a transaction that has since arrived that transaction's root. */
  'reroot',
  /** The roots and calls the batch touched, once, into temporary tables (not on Snowflake, where DDL commits). */
  'affected',
  /** Where tables are partitioned by call date (BigQuery): the bounds of the dates steps below touch. */
  'bounds',
  /**
   * The latest version of every lineage the batch touched into `transactions_current` (its typed
   * row read from the stage or from the current rows, a re-rooted provisional root's included).
   */
  'current',
  /** Then delete the `transactions_current` rows of provisional roots that are no one's root any more. */
  'stale',
  /** Every call the batch touched, from its current legs, into `calls`. */
  'calls',
  /** Delete the touched calls left without a Call leg. */
  'empty',
  /** `target-invoca merge` only: the highest sequence merged, in `_invoca_merge_state`. */
  'watermark',
] as const;

export type MergeStepName = (typeof MERGE_STEPS)[number];
