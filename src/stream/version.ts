/**
 * `_invoca_version`: which version of a transaction is the latest, as one string that sorts in
 * that order, so the same `>` and `MAX` work in every warehouse. In order of precedence:
 *   1. a correction is later than any original: '1' for a correction, '0' for an original;
 *   2. among corrections, the one corrected later: `corrected_at` in epoch ms (UTC), 15 digits;
 *   3. then the one the tap delivered later: its first-seen `_invoca_sequence`, 16 digits;
 *   4. then the transaction id, a last and arbitrary tie-break that makes every version unique.
 * docs/design.md ("Which version wins") says why this order.
 */
export const VERSION_FIELD = '_invoca_version';
export const CORRECTED_AT_DIGITS = 15;
export const SEQUENCE_DIGITS = 16;

/** The SQL a warehouse dialect gives for the encoding's parts (src/load/sql/dialect.ts has them). */
export interface VersionSql {
  concat(parts: string[]): string;
  zeroPad(integerExpression: string, width: number): string;
  epochMillis(timestampExpression: string): string;
}

/** A correction has a non-empty `corrects_transaction_id`: as SQL over that expression. */
export function isCorrectionSql(correctsExpression: string): string {
  return `(${correctsExpression} IS NOT NULL AND ${correctsExpression} <> '')`;
}

/** The version of one row, as SQL, from the expressions of its columns. */
export function versionSql(sql: VersionSql, row: { corrects: string; correctedAt: string; sequence: string; id: string }): string {
  return sql.concat([
    `CASE WHEN ${isCorrectionSql(row.corrects)} THEN '1' ELSE '0' END`,
    sql.zeroPad(`COALESCE(${sql.epochMillis(row.correctedAt)}, 0)`, CORRECTED_AT_DIGITS),
    sql.zeroPad(row.sequence, SEQUENCE_DIGITS),
    row.id,
  ]);
}
