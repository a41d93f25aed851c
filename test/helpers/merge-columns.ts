/**
 * The API columns the correction merge needs, written out here as the tests' own expectation
 * (not read from src/stream/merge-fields.ts, so a change there must change this too).
 */
export const EXPECTED_MERGE_COLUMNS = [
  'transaction_id',
  'corrects_transaction_id',
  'corrected_at',
  'complete_call_id',
  'transaction_type',
  'start_time_utc',
] as const;
