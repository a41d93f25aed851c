import type { TestRecord } from './merge-oracle.js';

/** A correction of `of`: a new transaction that names it, corrected at `correctedAt` (UTC). */
export function correctionOf(
  of: TestRecord,
  id: string,
  correctedAt: string,
  payin: string | number | null,
  sequence: number,
  extra: Record<string, unknown> = {},
): TestRecord {
  return {
    ...of,
    transaction_id: id,
    corrects_transaction_id: of.transaction_id,
    corrected_at_utc: correctedAt,
    advertiser_payin_localized: payin,
    _invoca_sequence: sequence,
    ...extra,
  };
}

/**
 * Tap-like records for the loader tests: `call` makes an original Call row, `fix` a correction of
 * a row; every record gets the next `_invoca_sequence`, as the tap would number them.
 */
export function recordMaker(custom: (id: string) => Record<string, unknown> = () => ({})) {
  let sequence = 1;
  const call = (id: string, callId: string, payin: string, extra: Record<string, unknown> = {}): TestRecord => ({
    transaction_id: id,
    transaction_type: 'Call',
    complete_call_id: callId,
    corrects_transaction_id: null,
    corrected_at_utc: null,
    advertiser_payin_localized: payin,
    start_time_utc: 1_767_254_400_000,
    start_time: '2026-01-01T08:00:00.000Z',
    ...custom(id),
    _invoca_sequence: sequence++,
    ...extra,
  });
  const fix = (of: TestRecord, id: string, correctedAt: string, payin: string): TestRecord =>
    correctionOf(of, id, correctedAt, payin, sequence++);
  /** A record delivered again, later (a resumed run or a lost state). */
  const again = (record: TestRecord): TestRecord => ({ ...record, _invoca_sequence: sequence++ });
  return { call, fix, again };
}
