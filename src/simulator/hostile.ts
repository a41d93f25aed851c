/**
 * `--hostile`: rows that do not look like the docs, mixed into the feed at fixed positions, for
 * the reliability suite. Every 40 rows one of each: missing fields, numbers as strings and as
 * floats, a huge string, unicode (emoji, NUL, a lone surrogate), custom columns whose names are
 * SQL, a field whose type changes, a duplicate of an earlier row, a correction of a transaction
 * that never existed, an unknown transaction type.
 */
import type { SimRow } from './feed.js';

export const HOSTILE_PERIOD = 40;

/** Custom column names that must be quoted, never spliced: spaces, dots, quotes, keywords, SQL. */
export const HOSTILE_COLUMNS = [
  'has space',
  'dot.name',
  'double"quote',
  "single'quote",
  'back`tick',
  'semi;colon',
  'select',
  'Robert"); DROP TABLE transactions; --',
  `long_${'x'.repeat(120)}`,
] as const;

export const HUGE_STRING_LENGTH = 200_000;

/** The row at `index` as the hostile feed serves it; `earlier` gives an earlier row (for duplicates). */
export function hostileRow(row: SimRow, index: number, earlier: (index: number) => SimRow): SimRow {
  const changed: SimRow = { ...row };
  switch (index % HOSTILE_PERIOD) {
    case 1:
      for (const field of ['duration', 'advertiser_name', 'start_time_local', 'city', 'complete_call_id']) delete changed[field];
      return changed;
    case 2:
      return { ...changed, duration: '42', advertiser_payin_localized: '12.50', start_time_utc: String(changed['start_time_utc'] ?? '') };
    case 3:
      return { ...changed, duration: 42.75, advertiser_payin_localized: 12.345678901, affiliate_payout_localized: -0.000001 };
    case 4:
      return { ...changed, advertiser_campaign_name: 'A'.repeat(HUGE_STRING_LENGTH) };
    case 5:
      return { ...changed, advertiser_name: 'Z\u00fcrich \ud83e\uddb7 Dental \u2014 "Q" \\ \u0000 end', city: '\ud800 lone surrogate' };
    case 6:
      return { ...changed, ...Object.fromEntries(HOSTILE_COLUMNS.map((name, position) => [name, `value ${position} of ${name}`])) };
    case 7:
      // The same custom column as a number here and as text on other pages; an integer as text.
      return { ...changed, 'Lead Score': Math.floor(index / HOSTILE_PERIOD) % 2 === 0 ? 97 : 'ninety-seven', duration: 'n/a' };
    case 8:
      return index > HOSTILE_PERIOD ? { ...earlier(index - 9) } : changed;
    case 9:
      return {
        ...changed,
        transaction_type: 'Call',
        corrects_transaction_id: `NEVER-SEEN-${index}`,
        corrected_at: '2026-01-02 03:04:05 -07:00',
      };
    case 10:
      return { ...changed, transaction_type: 'Refund' };
    case 11:
      return { ...changed, duration: true, advertiser_name: { nested: ['object'] }, custom_data: 'not a list' };
    case 12:
      return { ...changed, duration: '', advertiser_payin_localized: '', advertiser_name: '' };
    default:
      return changed;
  }
}
