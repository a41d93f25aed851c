import { doubleQuote } from './dialect.js';

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

/**
 * The loader's tables that already exist, with whether the session's roles own them (bind the
 * schema, then the tables, as stored): adding a column needs OWNERSHIP, which scratch tables the check creates
 * itself cannot show. IS_ROLE_IN_SESSION follows the role hierarchy.
 */
export function ownershipQuery(databaseSql: string, tableCount: number): string {
  const binds = Array.from({ length: tableCount }, () => '?').join(', ');
  return (
    'SELECT TABLE_NAME AS "T", TABLE_OWNER AS "OWNER", IS_ROLE_IN_SESSION(TABLE_OWNER) AS "OWNED" ' +
    `FROM ${databaseSql}.INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (${binds}) ORDER BY 1`
  );
}

/** One line per existing table the session's roles do not own: the GRANT that lets a new custom field in. */
export function ownershipProblems(rows: readonly Record<string, unknown>[], qualifiedSchema: string, role: string | undefined): string[] {
  const grantee = role ? `ROLE ${role}` : "ROLE <the loader's role>";
  return rows
    .filter((row) => row['OWNED'] !== true && String(row['OWNED']).toLowerCase() !== 'true')
    .map(
      (row) =>
        `${qualifiedSchema}.${doubleQuote(String(row['T']))} is owned by ${String(row['OWNER'])}: a new custom field (ALTER TABLE ADD COLUMN) will fail; GRANT OWNERSHIP ON TABLE ${qualifiedSchema}.${doubleQuote(String(row['T']))} TO ${grantee} COPY CURRENT GRANTS`,
    );
}
