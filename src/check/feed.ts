/**
 * The synthetic feed `target-invoca check` loads into scratch tables: two batches that exercise
 * every rule of the merge on the user's own warehouse. Custom fields with hostile names (quotes,
 * backslashes, case twins, unicode, 300-character names) carry hostile values.
 */
import type { JsonSchema } from '../config/validate.js';
import type { StagedRow } from '../load/warehouse.js';
import { StreamSchema } from '../stream/schema.js';
import type { FeedRecord } from './expected.js';
import { HOSTILE_FIELDS } from './hostile-fields.js';

export interface CheckFeed {
  schema: JsonSchema;
  batches: FeedRecord[][];
}

const DAY_MS = 86_400_000;

/**
 * Calls of yesterday, corrected since: recent dates, so that a dataset's default partition
 * expiration cannot expire the rows under the check (`now` for the tests).
 */
export function checkFeed(now: number = Date.now()): CheckFeed {
  const START_MS = Math.floor(now / DAY_MS) * DAY_MS - DAY_MS + 8 * 3_600_000;
  const at = (hours: number): string => new Date(START_MS + hours * 3_600_000).toISOString();
  let sequence = 1;
  const values = (id: string): Record<string, unknown> =>
    Object.fromEntries(HOSTILE_FIELDS.map((field, index) => [field, index % 5 === 4 ? null : `${id} it's "${index}" \\ ünï 📞`]));
  const row = (id: string, type: string, callId: string | null, payin: string | null, minute = 0): FeedRecord => ({
    transaction_id: id,
    transaction_type: type,
    complete_call_id: callId,
    corrects_transaction_id: null,
    corrected_at_utc: null,
    advertiser_payin_localized: payin,
    start_time_utc: START_MS + minute * 60_000,
    start_time: new Date(START_MS + minute * 60_000).toISOString(),
    ...values(id),
    _invoca_sequence: sequence++,
  });
  const fix = (of: FeedRecord, id: string, correctedAt: string, payin: string | null): FeedRecord => ({
    ...of,
    transaction_id: id,
    corrects_transaction_id: of.transaction_id,
    corrected_at_utc: correctedAt,
    advertiser_payin_localized: payin,
    ...values(id),
    _invoca_sequence: sequence++,
  });
  const again = (record: FeedRecord): FeedRecord => ({ ...record, _invoca_sequence: sequence++ });

  const a = row('CHK-A', 'Call', 'CALL-A', '10.00');
  const legs = [row('CHK-L1', 'Call', 'CALL-L', '1.25', 1), row('CHK-L2', 'Call', 'CALL-L', '2.50', 2)];
  const b = row('CHK-B', 'Call', 'CALL-B', '3.333333333', 3);
  const x = row('CHK-X', 'Call', 'CALL-X', '5.00', 4);
  const x1 = fix(x, 'CHK-X1', at(4), '4.00');
  const x2 = fix(x1, 'CHK-X2', at(8), '3.50');
  const first: FeedRecord[] = [
    a,
    // Corrections out of order: the later one arrives first and still wins.
    fix(a, 'CHK-A2', at(6), '7.00'),
    fix(a, 'CHK-A1', at(4), '9.00'),
    ...legs,
    b,
    // A correction of a correction, before the two it follows (re-rooted in the second batch).
    x2,
    row('CHK-P', 'Post Call Event', 'CALL-A', '0.00', 5),
    row('CHK-S', 'Sale', 'CALL-B', '120.50', 6),
    row('CHK-G', 'Signal', 'CALL-L', null, 7),
  ];
  const second: FeedRecord[] = [
    fix(legs[0] as FeedRecord, 'CHK-L1x', at(8), '0.75'),
    fix(b, 'CHK-B1', at(10), '-1.10'),
    x1,
    x,
    // A batch re-delivered (a resumed run): nothing changes.
    ...first.map(again),
  ];
  return { schema: new StreamSchema(HOSTILE_FIELDS).toJSON(), batches: [first, second] };
}

/** Records as the target stages them. */
export function stagedRows(records: readonly FeedRecord[]): StagedRow[] {
  return records.map((record) => ({
    transactionId: record.transaction_id,
    sequence: record._invoca_sequence,
    raw: JSON.stringify(record),
  }));
}
