/**
 * Invoca's transaction types. The API returns `Call`, `Post Call Event`, `Reported Conversion` or
 * `Sale`, and, in API versions before 2020-10-01, `Signal` (a correction keeps the type of the row
 * it corrects); its `transaction_type[]` filter takes `Call`, `PostCallEvent`, `Sale` and
 * `Signal` instead (Invoca's Transactions API documentation, "Parameters"; docs/design.md). Users
 * may write either spelling in `transaction_types`.
 */
export const TRANSACTION_TYPES = ['Call', 'Post Call Event', 'Reported Conversion', 'Sale', 'Signal'] as const;

/** The type of a call leg: the rows `calls` is built from. */
export const CALL_TYPE = 'Call';

export const TRANSACTION_TYPE_FILTERS = ['Call', 'PostCallEvent', 'Sale', 'Signal'] as const;
export type TransactionTypeFilter = (typeof TRANSACTION_TYPE_FILTERS)[number];

/** By the spelling folded to lower case without spaces and underscores (`Post Call Event`, `post_call_event`). */
const FILTER_BY_SPELLING: Readonly<Record<string, TransactionTypeFilter>> = {
  call: 'Call',
  postcallevent: 'PostCallEvent',
  sale: 'Sale',
  reportedconversion: 'Sale',
  signal: 'Signal',
};

/** What an error message lists as accepted. */
export const ACCEPTED_SPELLINGS =
  'Call, PostCallEvent (also "post call event", post_call_event), Sale (also "reported conversion"), Signal; in any case';

/** The filter value for a spelling, or undefined when it names no transaction type. */
export function toTransactionTypeFilter(spelling: string): TransactionTypeFilter | undefined {
  return FILTER_BY_SPELLING[spelling.toLowerCase().replace(/[\s_]+/g, '')];
}
