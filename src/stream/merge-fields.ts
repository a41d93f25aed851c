/**
 * The fields the correction merge reads, one table: each record field the loader gives a typed
 * column whatever the schema says, its kind, and the Invoca API column it comes from (the tap
 * derives `corrected_at_utc` from `corrected_at` and `start_time` from `start_time_utc`). The tap
 * always requests these API columns and marks them `automatic` in the catalog; the loader always
 * creates their columns.
 */
export const MERGE_FIELDS = [
  { field: 'transaction_id', kind: 'string', apiColumn: 'transaction_id' },
  { field: 'corrects_transaction_id', kind: 'string', apiColumn: 'corrects_transaction_id' },
  { field: 'corrected_at_utc', kind: 'timestamp', apiColumn: 'corrected_at' },
  { field: 'complete_call_id', kind: 'string', apiColumn: 'complete_call_id' },
  { field: 'transaction_type', kind: 'string', apiColumn: 'transaction_type' },
  { field: 'start_time_utc', kind: 'integer', apiColumn: 'start_time_utc' },
  { field: 'start_time', kind: 'timestamp', apiColumn: 'start_time_utc' },
] as const;

/** The API columns behind the merge fields, each once: what the tap always requests. */
export const MERGE_API_COLUMNS: readonly string[] = [...new Set(MERGE_FIELDS.map((item) => item.apiColumn))];
