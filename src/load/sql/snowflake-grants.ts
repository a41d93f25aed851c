/**
 * What to grant when Snowflake refuses a statement for want of a privilege. Adding a column (a
 * new custom field) is ALTER TABLE, which Snowflake allows only to the table's owner: a role
 * granted SELECT, INSERT, UPDATE and DELETE loads every batch until the first new field.
 */
export function privilegeHint(sql: string, errorText: string, role: string | undefined): string {
  if (!/insufficient privileges/i.test(errorText)) return '';
  const table = /^ALTER TABLE (\S+) ADD COLUMN/.exec(sql)?.[1];
  const grantee = role ? `ROLE ${role}` : "ROLE <the loader's role>";
  if (table) {
    return `; adding a column for a new custom field needs OWNERSHIP of the table: GRANT OWNERSHIP ON TABLE ${table} TO ${grantee} COPY CURRENT GRANTS (README, "Minimum grants for the loader")`;
  }
  return `; see the grants the loader needs in the README, "Minimum grants for the loader", for ${grantee}`;
}

/**
 * The setting to look at when one of the session's guards stopped a statement: Snowflake cancels
 * one past STATEMENT_TIMEOUT_IN_SECONDS ("reached its statement or warehouse timeout") and aborts
 * one whose lock wait passed LOCK_TIMEOUT (an error that speaks of the lock and of a timeout).
 */
export function timeoutHint(errorText: string): string {
  if (/statement or warehouse timeout/i.test(errorText)) {
    return "; the statement ran longer than snowflake.statement_timeout_seconds (or the warehouse's own timeout): raise it, or look for what slowed it";
  }
  if (/lock/i.test(errorText) && /timeout|timed out|exceed/i.test(errorText)) {
    return '; another loader held the lock longer than snowflake.lock_timeout_seconds: its run has not ended (README, "Two loaders at once")';
  }
  return '';
}
