/** The model of the merge semantics and the read-back live in src/check (target-invoca check uses them too). */
import type { StagedRow, Warehouse } from '../../src/load/warehouse.js';
import type { Expected, FeedRecord } from '../../src/check/expected.js';
import { readBack } from '../../src/check/read-back.js';

export { fromNanos, MergeOracle, toNanos, type Expected } from '../../src/check/expected.js';
export type TestRecord = FeedRecord;

/** What the warehouse holds, in the oracle's shape. */
export function actual(warehouse: Warehouse): Promise<Expected> {
  return readBack(warehouse);
}

export function staged(records: readonly TestRecord[]): StagedRow[] {
  return records.map((record) => ({
    transactionId: record.transaction_id,
    sequence: record._invoca_sequence,
    raw: JSON.stringify(record),
  }));
}
