import type { Warehouse } from '../load/warehouse.js';
import { fromNanos, toNanos, type Expected } from './expected.js';

/**
 * What the three tables hold, in the shape of the model's expectation (expected.ts). A table
 * with two rows for one key is an error: the merge must never leave one.
 */
export async function readBack(warehouse: Warehouse): Promise<Expected> {
  const { dialect } = warehouse;
  const q = dialect.quote;
  const t = (name: string): string => dialect.table(name);
  const c = (field: string): string => q(dialect.columnName(field));
  // Aliases are read back under the name the engine stores for them (Snowflake: upper case).
  const get = (row: Record<string, unknown>, alias: string): unknown => row[dialect.storedName(alias)];
  const current = await warehouse.query(
    `SELECT ${q('root_transaction_id')} AS ${q('r')}, ${c('transaction_id')} AS ${q('id')} FROM ${t('transactions_current')}`,
  );
  const calls = await warehouse.query(
    `SELECT ${c('complete_call_id')} AS ${q('call_id')}, ${q('call_leg_count')} AS ${q('legs')}, ` +
      `CAST(${c('advertiser_payin_localized')} AS ${dialect.type('string')}) AS ${q('payin')}, ${c('transaction_id')} AS ${q('id')} FROM ${t('calls')}`,
  );
  const count = await warehouse.query(`SELECT COUNT(*) AS ${q('n')} FROM ${t('transactions')}`);
  const currentMap = new Map<string, string>();
  for (const row of current) {
    const root = String(get(row, 'r'));
    if (currentMap.has(root)) throw new Error(`transactions_current has two rows for root ${root}`);
    currentMap.set(root, String(get(row, 'id')));
  }
  const callMap = new Map<string, { legs: number; payin: string | null; transactionId: string }>();
  for (const row of calls) {
    const callId = String(get(row, 'call_id'));
    if (callMap.has(callId)) throw new Error(`calls has two rows for ${callId}`);
    const payin = get(row, 'payin');
    callMap.set(callId, {
      legs: Number(get(row, 'legs')),
      payin: payin === null || payin === undefined ? null : fromNanos(toNanos(payin)),
      transactionId: String(get(row, 'id')),
    });
  }
  return { current: currentMap, calls: callMap, transactions: Number(get(count[0] ?? {}, 'n')) };
}
