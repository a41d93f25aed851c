/**
 * `transaction_type` filter values. The API returns `Post Call Event` and `Reported Conversion`
 * (or `Sale`) but filters on `PostCallEvent` and `Sale` (reference §2, §4.3); users may write
 * either spelling in `transaction_types`.
 */
export const TRANSACTION_TYPE_FILTERS = ['Call', 'PostCallEvent', 'Sale', 'Signal'] as const;
export type TransactionTypeFilter = (typeof TRANSACTION_TYPE_FILTERS)[number];

const FILTER_BY_SPELLING: Readonly<Record<string, TransactionTypeFilter>> = {
  call: 'Call',
  postcallevent: 'PostCallEvent',
  'post call event': 'PostCallEvent',
  sale: 'Sale',
  'reported conversion': 'Sale',
  signal: 'Signal',
};

/** The filter value for a spelling, or undefined when it names no transaction type. */
export function toTransactionTypeFilter(spelling: string): TransactionTypeFilter | undefined {
  return FILTER_BY_SPELLING[spelling.trim().toLowerCase()];
}

