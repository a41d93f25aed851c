/**
 * What the Singer tap and the Airbyte source share: the client built from config, discovery,
 * and the sync as events. The two bins only encode these events for their protocol.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { TapConfig } from '../config/tap-config.js';
import { ApiNetworkError, FollowGaveUpError, TapInvocaError } from '../errors.js';
import { InvocaClient, type RequestObserver } from '../invoca/client.js';
import type { Logger } from '../log.js';
import type { Selection } from './catalog.js';
import { discoverSchema } from './discover.js';
import { pollDecision } from './poll.js';
import { stateValue, type TapBookmark } from './state.js';
import { BASE_SCHEMA, DERIVED_FIELDS, StreamSchema } from '../stream/schema.js';
import { syncTransactions, type SyncOptions, type TapEvent } from './sync.js';
import { createProtector, type HashSettings, type Protector } from './protect.js';

const BASE_FIELDS = new Set(Object.keys(BASE_SCHEMA.properties ?? {}));

export function newClient(
  config: TapConfig,
  logger: Logger,
  signal: AbortSignal | undefined,
  deselected: readonly string[] = [],
  observer?: RequestObserver,
): InvocaClient {
  return new InvocaClient({
    baseUrl: config.baseUrl,
    apiVersion: config.apiVersion,
    accountType: config.accountType,
    accountId: config.accountId,
    apiToken: config.apiToken,
    pageSize: config.pageSize,
    includeColumns: config.includeColumns,
    // Fields the catalog deselects are not even requested (derived fields are not Invoca's).
    excludeColumns: [...config.excludeColumns, ...deselected.filter((field) => !(DERIVED_FIELDS as readonly string[]).includes(field))],
    transactionTypes: config.transactionTypes,
    requestTimeoutMs: config.requestTimeoutMs,
    maxResponseBytes: config.maxResponseBytes,
    maxRetries: config.maxRetries,
    retryInitialDelayMs: config.retryInitialDelayMs,
    logger,
    signal,
    observer,
  });
}

/** The account's stream schema (documented fields plus its custom columns). */
export async function discover(config: TapConfig, logger: Logger, signal?: AbortSignal): Promise<StreamSchema> {
  const client = newClient(config, logger, signal);
  try {
    return hashedAsText(await discoverSchema(client), config.hash);
  } finally {
    await client.close();
  }
}

export interface SessionOptions {
  config: TapConfig;
  logger: Logger;
  signal?: AbortSignal | undefined;
  selection: Selection;
  bookmark: TapBookmark;
  maxRecords?: number | undefined;
  nowMs?: () => number;
  /** Told of each poll and request of `--follow` (its metrics). */
  metrics?: (PollObserver & RequestObserver) | undefined;
}

/** The catalog's custom columns are known up front: no SCHEMA change at the first record. */
function initialSchema(selection: Selection, hash: HashSettings | undefined): StreamSchema {
  return hashedAsText(
    new StreamSchema(selection.catalogFields.filter((field) => !BASE_FIELDS.has(field) && !selection.deselectedFields.has(field))),
    hash,
  );
}

/** A hashed field holds the hash's hex text, whatever the field held before. */
function hashedAsText(schema: StreamSchema, hash: HashSettings | undefined): StreamSchema {
  for (const field of hash?.columns ?? []) if (schema.has(field)) schema.add(field, 'string');
  return schema;
}

/**
 * One run: the sync of the selected stream as events, with its own client, after Invoca's
 * polling floor (poll.ts). Too soon after the last poll it waits for the rest (at most a minute)
 * or makes no request and yields the state unchanged.
 */
export async function* syncEvents(options: SessionOptions): AsyncGenerator<TapEvent> {
  const { config, logger, signal, selection, bookmark } = options;
  const now = options.nowMs ?? Date.now;
  const unchanged: TapEvent = { type: 'state', value: stateValue(bookmark), recordCount: 0, bookmark };
  const floor =
    options.maxRecords === undefined
      ? pollDecision(bookmark, config.minPollIntervalSeconds, now(), bookmark.cursor === undefined)
      : ({ kind: 'poll' } as const);
  if (floor.kind === 'skip') {
    logger.info(
      `the last poll started at ${bookmark.lastPollStartedAt ?? ''}, less than min_poll_interval_seconds (${config.minPollIntervalSeconds}) ago: no request now; the next poll is allowed at ${floor.nextPollAt}`,
    );
    yield unchanged;
    return;
  }
  if (floor.kind === 'wait') {
    logger.info(
      `the last poll started at ${bookmark.lastPollStartedAt ?? ''}: waiting ${(floor.ms / 1000).toFixed(1)} s for min_poll_interval_seconds (${config.minPollIntervalSeconds})`,
    );
    if (!(await pause(floor.ms, signal))) {
      yield unchanged;
      return;
    }
  }
  const client = newClient(config, logger, signal, [...selection.deselectedFields]);
  try {
    yield* syncTransactions({
      ...pollOptions(options, client, initialSchema(selection, config.hash), bookmark, now()),
      maxRecords: options.maxRecords,
    });
  } finally {
    await client.close();
  }
}

/**
 * `tap-invoca --follow`: poll, then poll again once `min_poll_interval_seconds` have passed since
 * the last poll started, until the signal. Each poll yields its records and states and logs one
 * line (rows, lag of the newest call). A poll that fails with a recoverable error (past
 * max_retries) is logged and tried again at the next poll; any other error ends the follow.
 * Once a poll has succeeded, base_url is proven, so a host that stops resolving is a DNS outage
 * to wait out, not a typo to report. After max_consecutive_failed_polls failures in a row it
 * gives up (FollowGaveUpError, exit 1), so a supervisor restarts it and alerts. Ends with a
 * final STATE.
 */
export async function* followEvents(options: SessionOptions): AsyncGenerator<TapEvent> {
  const { config, logger, signal, selection, metrics } = options;
  const now = options.nowMs ?? Date.now;
  const client = newClient(config, logger, signal, [...selection.deselectedFields], metrics);
  const schema = initialSchema(selection, config.hash);
  // At least a second between polls, even against the simulator with 0.
  const interval = Math.max(1, config.minPollIntervalSeconds);
  let bookmark = options.bookmark;
  let lastWasState = false;
  let hadGoodPoll = false;
  let failedInARow = 0;
  try {
    for (let poll = 1; !signal?.aborted; poll++) {
      // A first sync starts at once; after it, the floor holds even while the feed is empty (no cursor).
      const decision = pollDecision(bookmark, interval, now(), poll === 1 && bookmark.cursor === undefined);
      if (decision.kind !== 'poll') {
        const waitMs = decision.kind === 'wait' ? decision.ms : Date.parse(decision.nextPollAt) - now();
        if (poll === 1)
          logger.info(
            `the last poll started at ${bookmark.lastPollStartedAt ?? ''}: the first poll waits ${(waitMs / 1000).toFixed(1)} s for min_poll_interval_seconds (${interval})`,
          );
        if (!(await pause(waitMs, signal))) break;
      }
      const startedMs = now();
      let rows = 0;
      let newestCallMs: number | undefined;
      try {
        const events = syncTransactions({
          ...pollOptions(options, client, schema, bookmark, startedMs),
          laterPollOfFollow: poll > 1,
        });
        for await (const event of events) {
          if (event.type === 'records') {
            rows += event.records.length;
            metrics?.records(event.records);
            for (const record of event.records) {
              const started = typeof record['start_time'] === 'string' ? Date.parse(record['start_time']) : Number.NaN;
              if (!Number.isNaN(started) && (newestCallMs === undefined || started > newestCallMs)) newestCallMs = started;
            }
          }
          if (event.type === 'state') bookmark = event.bookmark;
          lastWasState = event.type === 'state';
          yield event;
        }
        if (signal?.aborted) break;
        hadGoodPoll = true;
        failedInARow = 0;
        metrics?.pollSucceeded(now(), newestCallMs);
        const lag = newestCallMs === undefined ? '' : `, newest call started ${formatSeconds((now() - newestCallMs) / 1000)} ago`;
        logger.info(`poll ${poll}: ${rows} rows${lag}; next poll in ${interval} s`);
      } catch (error) {
        if (signal?.aborted) break;
        metrics?.pollFailed(error instanceof Error ? error.message : String(error));
        if (!recoverableInFollow(error, hadGoodPoll)) throw error;
        failedInARow++;
        if (failedInARow >= config.maxConsecutiveFailedPolls) throw new FollowGaveUpError(failedInARow, error);
        logger.error(
          `poll ${poll} failed (${failedInARow} of ${config.maxConsecutiveFailedPolls} in a row): ${error.message}; polling again in ${interval} s`,
        );
        bookmark = { ...bookmark, lastPollStartedAt: new Date(startedMs).toISOString() };
      }
    }
  } finally {
    await client.close();
  }
  if (!lastWasState) yield { type: 'state', value: stateValue(bookmark), recordCount: 0, bookmark };
}

/** What a follow session reports as it goes (the metrics of `--follow`). */
export interface PollObserver {
  records(records: readonly Record<string, unknown>[]): void;
  pollSucceeded(atMs: number, newestCallMs: number | undefined): void;
  /** The reason, already redacted (an error's message). */
  pollFailed(message: string): void;
}

/** Whether a failed poll of `--follow` is tried again at the next poll rather than ending it. */
export function recoverableInFollow(error: unknown, hadGoodPoll: boolean): error is TapInvocaError {
  if (!(error instanceof TapInvocaError)) return false;
  return error.retryable || (hadGoodPoll && error instanceof ApiNetworkError);
}

/** What one poll of the session passes to syncTransactions. */
function pollOptions(
  options: SessionOptions,
  client: InvocaClient,
  schema: StreamSchema,
  bookmark: TapBookmark,
  startedMs: number,
): SyncOptions {
  const { config, logger, signal, selection } = options;
  return {
    client,
    schema,
    bookmark,
    startDate: config.startDate,
    backfillConcurrency: config.backfillConcurrency,
    deselectedFields: selection.deselectedFields,
    protect: protectorFor(config, selection),
    logger,
    signal,
    nowMs: startedMs,
    pollStartedAt: new Date(startedMs).toISOString(),
  };
}

/** What is hashed or dropped from each row before it is normalised (protect.ts); undefined: nothing. */
function protectorFor(config: TapConfig, selection: Selection): Protector | undefined {
  const dropped = new Set([...config.excludeColumns.filter((column) => !column.startsWith('$')), ...selection.deselectedFields]);
  return config.hash || dropped.size > 0 ? createProtector(config.hash, dropped) : undefined;
}

/** Sleeps `ms`; false when the signal ended the wait. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return false;
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
    return true;
  } catch (error) {
    if (signal?.aborted) return false;
    throw error;
  }
}

function formatSeconds(seconds: number): string {
  if (seconds < 120) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export const SELECT_ALL: Selection = { streamSelected: true, catalogFields: [], deselectedFields: new Set() };
