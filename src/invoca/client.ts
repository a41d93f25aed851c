/**
 * The Invoca Transactions API client: one request with retries (`fetchPage`), and cursor paging
 * as an async generator of pages (`pages`). Knows HTTP and Invoca; knows nothing of Singer.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { ApiBodyError, ApiNetworkError, ApiStatusError, ApiTimeoutError, errorCode, TapInvocaError } from '../errors.js';
import type { Logger } from '../log.js';
import { resolveColumns, type AccountType } from './columns.js';
import { createRedactor, type Redactor } from '../config/redact.js';
import { readBounded, readPrefix } from './body.js';
import { ERROR_BODY_BYTES, htmlPageError, parseRows, statusError, type InvocaRow } from './responses.js';
import { backoffDelayMs, MAX_RETRY_AFTER_MS, parseRetryAfterSeconds } from '../retry.js';
import type { TransactionTypeFilter } from '../stream/transaction-types.js';
import { clampPageSize, transactionsUrl, type TransactionsQuery } from './url.js';

export interface InvocaClientOptions {
  baseUrl: string;
  apiVersion: string;
  accountType: AccountType;
  accountId: string;
  apiToken: string;
  pageSize: number;
  includeColumns: readonly string[];
  excludeColumns: readonly string[];
  transactionTypes: readonly TransactionTypeFilter[];
  requestTimeoutMs: number;
  /** The most one response body may hold; past it the request ends with an error. */
  maxResponseBytes: number;
  maxRetries: number;
  /** First backoff step; each retry doubles it, up to `retryMaxDelayMs`. */
  retryInitialDelayMs: number;
  retryMaxDelayMs?: number;
  logger: Logger;
  /** Aborts in-flight requests and retry waits (a shutdown on SIGTERM). */
  signal?: AbortSignal | undefined;
  /** Source of jitter; Math.random unless a test wants fixed delays. */
  random?: () => number;
  /** Told of every request and retry (the metrics of `--follow`). */
  observer?: RequestObserver | undefined;
}

/** What the client reports as it works: each request's duration and outcome, each retry. */
export interface RequestObserver {
  /** `outcome`: the HTTP status, or the error's code for a request that got no answer. */
  request(seconds: number, outcome: string): void;
  /** `reason`: the HTTP status or the error's code; `delaySeconds`: the wait before the retry. */
  retry(reason: string, delaySeconds: number): void;
}

export interface PageRequest {
  startAfterTransactionId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  limit?: number | undefined;
  /** Overrides the configured `transaction_types` filter for this request. */
  transactionTypes?: readonly TransactionTypeFilter[] | undefined;
}

export interface TransactionsPage {
  rows: InvocaRow[];
  /** `GET <url>`, safe to log: the URL never holds the token. */
  request: string;
  bytes: number;
  /** The cursor for the next page: the last row's `transaction_id`. */
  lastTransactionId: string | undefined;
  /** True when the page is shorter than the limit: the feed has no more rows now. */
  isLast: boolean;
}

const DEFAULT_RETRY_MAX_DELAY_MS = 60_000;

export class InvocaClient {
  readonly #options: InvocaClientOptions;
  readonly #agent: Agent;
  readonly #include: string[];
  readonly #exclude: string[];
  /** Hides the token in what a server says back, before the text is cut to one line. */
  readonly #redact: Redactor;
  #requests = 0;

  constructor(options: InvocaClientOptions) {
    this.#options = options;
    this.#redact = createRedactor([options.apiToken]);
    this.#agent = new Agent({ keepAliveTimeout: 30_000, connections: 16 });
    const columns = resolveColumns(options.includeColumns, options.excludeColumns, options.accountType);
    for (const warning of columns.warnings) options.logger.warn(warning);
    this.#include = columns.include;
    this.#exclude = columns.exclude;
  }

  /** HTTP requests sent so far, retries included. */
  get requestCount(): number {
    return this.#requests;
  }

  get pageSize(): number {
    return clampPageSize(this.#options.pageSize);
  }

  /** One page, retried on 429, 5xx, timeouts, resets and unreadable bodies up to `maxRetries`. */
  async fetchPage(page: PageRequest = {}): Promise<TransactionsPage> {
    const limit = clampPageSize(page.limit ?? this.#options.pageSize);
    const query: TransactionsQuery = {
      limit,
      startAfterTransactionId: page.startAfterTransactionId,
      from: page.from,
      to: page.to,
      includeColumns: this.#include,
      excludeColumns: this.#exclude,
      transactionTypes: page.transactionTypes ?? this.#options.transactionTypes,
    };
    const url = transactionsUrl(this.#options, query);
    const description = `GET ${url}`;
    const { maxRetries, logger } = this.#options;
    for (let attempt = 0; ; attempt++) {
      try {
        const { rows, bytes } = await this.#requestOnce(url, description);
        const last = rows.at(-1)?.['transaction_id'];
        if (
          page.startAfterTransactionId !== undefined &&
          last !== undefined &&
          last !== null &&
          String(last) === page.startAfterTransactionId
        ) {
          // The page before the cursor again (a proxy cache, a replayed answer): its rows were
          // already delivered, and taking its cursor would ask for the same page for ever.
          throw new ApiBodyError(`Invoca sent the previous page again (its last row is the cursor ${String(last)}) for ${description}`);
        }
        return {
          rows,
          request: description,
          bytes,
          lastTransactionId: last === undefined || last === null ? undefined : String(last),
          isLast: rows.length < limit,
        };
      } catch (error) {
        if (!(error instanceof TapInvocaError) || !error.retryable) throw error;
        if (attempt >= maxRetries) {
          error.message = `${error.message} (gave up after ${maxRetries} ${maxRetries === 1 ? 'retry' : 'retries'})`;
          throw error;
        }
        const delayMs = this.#retryDelayMs(error, attempt);
        this.#options.observer?.retry(error instanceof ApiStatusError ? String(error.status) : error.code, delayMs / 1000);
        logger.warn(`${error.message}; retry ${attempt + 1}/${maxRetries} in ${(delayMs / 1000).toFixed(2)}s`);
        await sleep(delayMs, undefined, this.#options.signal ? { signal: this.#options.signal } : {});
      }
    }
  }

  /**
   * Pages from the cursor on, oldest first, until a short or empty page. While the caller works
   * on one page the next is already being fetched: its cursor is known once a page is parsed.
   */
  async *pages(start: Omit<PageRequest, 'limit'> = {}): AsyncGenerator<TransactionsPage> {
    let next: Promise<TransactionsPage> | undefined = this.fetchPage(start);
    try {
      while (next) {
        const page: TransactionsPage = await next;
        next = undefined;
        if (!page.isLast) {
          if (page.lastTransactionId === undefined) {
            throw new ApiBodyError(`Invoca sent a full page without a transaction_id on its last row for ${page.request}`);
          }
          next = this.fetchPage({ ...start, startAfterTransactionId: page.lastTransactionId });
          // If the consumer stops early, this request's failure must not surface as unhandled.
          next.catch(() => undefined);
        }
        yield page;
      }
    } finally {
      if (next) await next.catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }

  async #requestOnce(url: string, description: string): Promise<{ rows: InvocaRow[]; bytes: number }> {
    const { requestTimeoutMs, apiToken, signal } = this.#options;
    const timeout = AbortSignal.timeout(requestTimeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    this.#requests++;
    const startedMs = performance.now();
    let outcome = 'ERR_UNKNOWN';
    try {
      const response = await request(url, {
        method: 'GET',
        dispatcher: this.#agent,
        signal: combined,
        headersTimeout: requestTimeoutMs,
        bodyTimeout: requestTimeoutMs,
        // Invoca wants the raw token, without a "Bearer" scheme (docs/design.md, "Invoca's Transactions API").
        headers: { authorization: apiToken, accept: 'application/json', 'user-agent': 'tap-invoca' },
      });
      const contentType = header(response.headers['content-type']);
      outcome = String(response.statusCode);
      if (response.statusCode !== 200) {
        const retryAfter = parseRetryAfterSeconds(header(response.headers['retry-after']), Date.now());
        throw statusError(description, response.statusCode, await readPrefix(response.body, ERROR_BODY_BYTES), retryAfter, this.#redact);
      }
      // An error page sent with a 200 (a proxy's): its start says all there is to say.
      if (contentType?.includes('html')) {
        throw htmlPageError(description, await readPrefix(response.body, ERROR_BODY_BYTES), this.#redact);
      }
      const { text, bytes } = await readBounded(response.body, this.#options.maxResponseBytes, description);
      return { rows: parseRows(description, text, contentType, this.#redact), bytes };
    } catch (error) {
      if (error instanceof TapInvocaError) {
        if (outcome === 'ERR_UNKNOWN' || outcome === '200') outcome = error.code;
        throw error;
      }
      if (signal?.aborted) throw signal.reason ?? error;
      const typed = transportError(error, description, timeout.aborted, requestTimeoutMs);
      outcome = typed.code;
      throw typed;
    } finally {
      this.#options.observer?.request((performance.now() - startedMs) / 1000, outcome);
    }
  }

  #retryDelayMs(error: TapInvocaError, attempt: number): number {
    const retryAfterSeconds = error instanceof ApiStatusError ? error.retryAfterSeconds : undefined;
    if (retryAfterSeconds !== undefined) {
      const requested = retryAfterSeconds * 1000;
      if (requested > MAX_RETRY_AFTER_MS) {
        this.#options.logger.warn(`Retry-After of ${retryAfterSeconds}s is capped at ${MAX_RETRY_AFTER_MS / 1000}s`);
      }
      return Math.min(requested, MAX_RETRY_AFTER_MS);
    }
    const { retryInitialDelayMs, retryMaxDelayMs = DEFAULT_RETRY_MAX_DELAY_MS, random = Math.random } = this.#options;
    return backoffDelayMs(attempt, retryInitialDelayMs, retryMaxDelayMs, random);
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** undici and socket errors as our typed errors (exported for its unit test); undici's own `code` is kept in the message. */
export function transportError(error: unknown, description: string, timedOut: boolean, timeoutMs: number): TapInvocaError {
  const code = errorCode(error);
  if (timedOut || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new ApiTimeoutError(`Invoca did not answer within request_timeout_seconds (${timeoutMs / 1000}s) for ${description}`, {
      cause: error,
    });
  }
  const reason = error instanceof Error ? error.message : String(error);
  if (code === 'ENOTFOUND') {
    // A name that does not resolve is a typo in base_url far more often than a passing DNS fault
    // (that is EAI_AGAIN, which is retried): retrying only delays the answer.
    return new ApiNetworkError(`the host of base_url does not resolve (ENOTFOUND) for ${description}; check base_url`, {
      cause: error,
      retryable: false,
    });
  }
  return new ApiNetworkError(`Connection to Invoca failed for ${description}: ${reason}${code ? ` (${code})` : ''}`, {
    cause: error,
  });
}
