/**
 * Which columns to ask Invoca for. Pure: the client turns the result into query parameters.
 *
 * Invoca's rules (docs/design.md, "Invoca's Transactions API"): `include_columns` and `exclude_columns` are comma-separated
 * names or `$invoca_*` constants; a name listed explicitly in `include_columns` is returned even
 * when a constant in `exclude_columns` covers it. Affiliate users have no custom-data constants.
 */

import { MERGE_API_COLUMNS } from '../stream/merge-fields.js';

export type AccountType = 'network' | 'advertiser' | 'affiliate';

export const DEFAULT_COLUMNS = '$invoca_default_columns';
export const CUSTOM_COLUMNS = '$invoca_custom_columns';
export const CUSTOM_SOURCE_COLUMNS = '$invoca_custom_source_columns';

/** The columns the correction merge needs: always requested, whatever the selection says. */
export const MERGE_COLUMNS = MERGE_API_COLUMNS;

/** What only network and advertiser users may ask for. */
const CUSTOM_DATA_REQUESTS = new Set<string>([CUSTOM_COLUMNS, CUSTOM_SOURCE_COLUMNS, 'custom_data']);

export interface ColumnRequest {
  include: string[];
  exclude: string[];
  /** Requests that were dropped, and why; the caller logs them. */
  warnings: string[];
}

export function resolveColumns(include: readonly string[], exclude: readonly string[], accountType: AccountType): ColumnRequest {
  const warnings: string[] = [];
  let wanted = unique(include);
  if (accountType === 'affiliate') {
    const dropped = wanted.filter((column) => CUSTOM_DATA_REQUESTS.has(column));
    if (dropped.length > 0) {
      warnings.push(`affiliate accounts have no custom data: not requesting ${dropped.join(', ')}`);
      wanted = wanted.filter((column) => !CUSTOM_DATA_REQUESTS.has(column));
    }
  }
  const mergeColumns = new Set<string>(MERGE_COLUMNS);
  const excluded = unique(exclude).filter((column) => {
    if (mergeColumns.has(column)) {
      warnings.push(`exclude_columns: '${column}' is needed by the correction merge and is requested anyway`);
      return false;
    }
    return true;
  });
  const defaultsCoverMergeColumns = wanted.includes(DEFAULT_COLUMNS) && !excluded.includes(DEFAULT_COLUMNS);
  if (!defaultsCoverMergeColumns) {
    for (const column of MERGE_COLUMNS) if (!wanted.includes(column)) wanted.push(column);
  }
  return { include: wanted, exclude: excluded, warnings };
}

/** One column list as Invoca reads it: names URL-encoded (spaces as %20), joined by commas. */
export function encodeColumnList(columns: readonly string[]): string {
  return columns.map((column) => encodeURIComponent(column).replace(/%24/g, '$')).join(',');
}

function unique(columns: readonly string[]): string[] {
  return [...new Set(columns.map((column) => column.trim()).filter((column) => column.length > 0))];
}
