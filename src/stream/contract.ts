/**
 * What the tap emits and the loader reads, in one place: the one stream, its key, the cursor,
 * the sequence field, and the shape of a RECORD line. The tap (src/tap, src/protocol) and the
 * loader (src/load) both import these; neither defines its own.
 */

/** The only stream: every transaction, corrections and events included. */
export const STREAM = 'transactions';
/** Its primary key: one row per transaction in `transactions`. */
export const KEY_PROPERTIES = ['transaction_id'] as const;
/** The cursor: Invoca's `start_after_transaction_id` takes the last id read. */
export const REPLICATION_KEY = 'transaction_id';
/** The field the tap stamps on every record, strictly increasing in emission order (sequence.ts). */
export const SEQUENCE_FIELD = '_invoca_sequence';

/**
 * How tap-invoca writes a RECORD line: this prefix, the record's JSON, then
 * `,"time_extracted":"..."}`. The target cuts the record's text out of lines of this shape
 * instead of serialising the parsed record again.
 */
export const RECORD_LINE_PREFIX = `{"type":"RECORD","stream":"${STREAM}","record":`;
