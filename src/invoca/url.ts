import { encodeColumnList, type AccountType } from './columns.js';
import type { TransactionTypeFilter } from '../stream/transaction-types.js';

/** Invoca's hard maximum for `limit` (docs/design.md, "Invoca's Transactions API"). */
export const MAX_PAGE_SIZE = 4000;

export interface TransactionsEndpoint {
  baseUrl: string;
  apiVersion: string;
  accountType: AccountType;
  accountId: string;
}

export interface TransactionsQuery {
  limit: number;
  startAfterTransactionId?: string | undefined;
  /** `YYYY-MM-DD` in the API user's time zone; Invoca filters only when both are sent. */
  from?: string | undefined;
  to?: string | undefined;
  includeColumns: readonly string[];
  excludeColumns: readonly string[];
  transactionTypes: readonly TransactionTypeFilter[];
}

const PATH_SEGMENT: Readonly<Record<AccountType, string>> = {
  network: 'networks',
  advertiser: 'advertisers',
  affiliate: 'affiliates',
};

export function clampPageSize(limit: number): number {
  if (!Number.isFinite(limit)) return MAX_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(1, Math.trunc(limit)));
}

/**
 * `GET {base_url}/api/{version}/{role}s/transactions/{account_id}.json?...`. The token is never
 * part of the URL: it travels in the Authorization header only.
 */
export function transactionsUrl(endpoint: TransactionsEndpoint, query: TransactionsQuery): string {
  const base = endpoint.baseUrl.replace(/\/+$/, '');
  const path =
    `/api/${encodeURIComponent(endpoint.apiVersion)}/${PATH_SEGMENT[endpoint.accountType]}` +
    `/transactions/${encodeURIComponent(endpoint.accountId)}.json`;
  const params: string[] = [`limit=${clampPageSize(query.limit)}`];
  if (query.startAfterTransactionId) {
    params.push(`start_after_transaction_id=${encodeURIComponent(query.startAfterTransactionId)}`);
  }
  if (query.from !== undefined && query.to !== undefined) {
    params.push(`from=${encodeURIComponent(query.from)}`, `to=${encodeURIComponent(query.to)}`);
  }
  if (query.includeColumns.length > 0) params.push(`include_columns=${encodeColumnList(query.includeColumns)}`);
  if (query.excludeColumns.length > 0) params.push(`exclude_columns=${encodeColumnList(query.excludeColumns)}`);
  for (const type of query.transactionTypes) params.push(`transaction_type[]=${encodeURIComponent(type)}`);
  return `${base}${path}?${params.join('&')}`;
}
