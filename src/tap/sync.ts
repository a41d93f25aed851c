/**
 * The sync of the `transactions` stream as an async generator of protocol-neutral events; the
 * Singer and Airbyte encoders turn them into their wire messages. Per page: the records
 * (normalised and stamped with `_invoca_sequence`), a SCHEMA first whenever a record grew the
 * schema, then the STATE that points after the page. A STATE is yielded only after the page's
 * records, so a consumer that writes events in order never emits a state ahead of its records.
 */
import { setImmediate } from 'node:timers/promises';
import type { InvocaClient, TransactionsPage } from '../invoca/client.js';
import { cursorError } from '../invoca/responses.js';
import type { Logger } from '../log.js';
import { findAnchor } from './anchor.js';
import { dateWindows, windowPages } from './backfill.js';
import { normalizeRowInPlace, type TapRecord } from './normalize.js';
import type { Protector } from './protect.js';
import { Progress } from './progress.js';
import { SequenceClock } from '../stream/sequence.js';
import { TRANSACTION_TYPES } from '../stream/transaction-types.js';
import { stateValue, type StateValue, type TapBookmark } from './state.js';
import type { StreamSchema } from '../stream/schema.js';

export type TapEvent =
  | { type: 'schema'; schema: StreamSchema }
  | { type: 'records'; records: TapRecord[] }
  | { type: 'state'; value: StateValue; recordCount: number; bookmark: TapBookmark };

export interface SyncOptions {
  client: InvocaClient;
  schema: StreamSchema;
  bookmark: TapBookmark;
  startDate: string | undefined;
  /** Parallel date windows for a first sync with `startDate` (backfill.ts); undefined: the cursor walk. */
  backfillConcurrency?: number | undefined;
  deselectedFields: ReadonlySet<string>;
  /** Hashes the personal data of each row, and drops excluded custom_data entries, before it is normalised (protect.ts). */
  protect?: Protector | undefined;
  logger: Logger;
  /** Stops the sync after the page being written (SIGTERM, SIGINT). */
  signal?: AbortSignal | undefined;
  /** Stop after this many records (`--test`). */
  maxRecords?: number | undefined;
  /** When this poll started, in ms since the epoch: its day is where a backfill ends. */
  nowMs: number;
  /** When this poll started (RFC 3339, UTC): written into every state as `last_poll_started_at`. */
  pollStartedAt?: string | undefined;
  /**
   * A later poll of `--follow`: its SCHEMA was sent already (again only when it changes), and
   * its cursor came from Invoca a poll ago, not from a state file.
   */
  laterPollOfFollow?: boolean;
}

/** Where a sync starts reading: date windows up to an anchor (a backfill), or the cursor. */
type SyncStart =
  | { kind: 'windows'; windows: ReturnType<typeof dateWindows>; concurrency: number; anchor: string }
  | { kind: 'cursor'; cursor: string | undefined };

/**
 * Where this sync starts. With a cursor: there. A first sync with `startDate`: with
 * `concurrency`, the date windows from `startDate` to today and then the cursor from the last
 * call before today (the anchor); without it, or when there is no call to anchor on, the cursor
 * from the first call of `startDate`. Else the whole history.
 */
async function syncStart(options: SyncOptions): Promise<SyncStart> {
  const { client, logger, startDate, backfillConcurrency: concurrency } = options;
  const cursor = options.bookmark.cursor;
  if (cursor !== undefined) {
    logger.info(`resuming after transaction ${cursor}`);
    return { kind: 'cursor', cursor };
  }
  if (startDate === undefined) return { kind: 'cursor', cursor: undefined };
  const today = new Date(options.nowMs).toISOString().slice(0, 10);
  const anchor = concurrency === undefined ? undefined : await findAnchor(client, today, logger);
  if (concurrency !== undefined && anchor !== undefined) {
    const windows = dateWindows(startDate, today, concurrency);
    logger.info(
      `backfill: ${windows.length} date windows from ${startDate} to ${today}, ${concurrency} at a time; then the cursor from ${anchor}`,
    );
    return { kind: 'windows', windows, concurrency, anchor };
  }
  if (concurrency !== undefined)
    logger.warn('backfill: no call in the days before today to continue the cursor from; walking the cursor from start_date instead');
  return { kind: 'cursor', cursor: await findAnchor(client, startDate, logger) };
}

/**
 * Records are handed on in chunks of this many, with a turn of the event loop in between, so the
 * prefetched next page keeps arriving while a 4,000-row page is normalised and written.
 */
const CHUNK_ROWS = 500;

const KNOWN_TYPES: ReadonlySet<string> = new Set(TRANSACTION_TYPES);

export async function* syncTransactions(options: SyncOptions): AsyncGenerator<TapEvent> {
  const { client, schema, logger, signal } = options;
  const clock = new SequenceClock(options.bookmark.sequence, options.nowMs);
  const progress = new Progress(logger);
  const unknownTypes = new Set<string>();
  let cursor = options.bookmark.cursor;
  let recordCount = 0;
  const reachedLimit = (): boolean => options.maxRecords !== undefined && recordCount >= options.maxRecords;
  const lastPollStartedAt = options.pollStartedAt ?? options.bookmark.lastPollStartedAt;
  const state = (): TapEvent => {
    const bookmark = { cursor, sequence: clock.last, lastPollStartedAt };
    return { type: 'state', value: stateValue(bookmark), recordCount, bookmark };
  };
  if (!options.laterPollOfFollow) yield { type: 'schema', schema };

  /** One page's records in chunks, a SCHEMA before any record that changed the schema. */
  async function* pageEvents(page: TransactionsPage): AsyncGenerator<TapEvent> {
    let batch: TapRecord[] = [];
    for (const row of page.rows) {
      if (reachedLimit()) break;
      options.protect?.apply(row);
      const { record, schemaChanged } = normalizeRowInPlace(row, schema, clock.next(), options.deselectedFields);
      if (schemaChanged) {
        // The target must know a new column before the first record that carries it.
        if (batch.length > 0) yield { type: 'records', records: batch };
        batch = [];
        logger.info(`schema changed at transaction ${String(record['transaction_id'])}: emitting the updated SCHEMA`);
        yield { type: 'schema', schema };
      }
      const type = record['transaction_type'];
      if (typeof type === 'string' && !KNOWN_TYPES.has(type) && !unknownTypes.has(type)) {
        unknownTypes.add(type);
        logger.warn(`unknown transaction_type '${type}' (first at ${String(record['transaction_id'])}): passed through`);
      }
      batch.push(record);
      recordCount++;
      if (batch.length >= CHUNK_ROWS) {
        yield { type: 'records', records: batch };
        batch = [];
        // Let the event loop read the next page's body off the socket while this one is written.
        await setImmediate();
      }
    }
    if (batch.length > 0) yield { type: 'records', records: batch };
    progress.page(page.rows.length, page.bytes);
  }

  const start = await syncStart(options);
  if (start.kind === 'windows') {
    try {
      for await (const page of windowPages(client, start.windows, start.concurrency)) {
        yield* pageEvents(page);
        if (reachedLimit() || signal?.aborted) break;
      }
    } catch (error) {
      if (!signal?.aborted) throw error;
    }
    // No cursor before this point: a backfill cut short starts again, as a first sync.
    if (reachedLimit() || signal?.aborted) {
      progress.done(client.requestCount);
      yield state();
      return;
    }
    cursor = start.anchor;
    yield state();
  } else {
    cursor = start.cursor;
  }

  const stateCursor = !options.laterPollOfFollow && cursor === options.bookmark.cursor ? cursor : undefined;
  const pages = client.pages({ startAfterTransactionId: cursor });
  try {
    for (let first = true; ; first = false) {
      let page: TransactionsPage;
      try {
        const next = await pages.next();
        if (next.done) break;
        page = next.value;
      } catch (error) {
        if (signal?.aborted) break;
        throw first && stateCursor !== undefined ? cursorError(error, stateCursor) : error;
      }
      yield* pageEvents(page);
      if (!reachedLimit()) cursor = page.lastTransactionId ?? cursor;
      if (page.rows.length > 0) yield state();
      if (reachedLimit() || signal?.aborted) break;
    }
  } finally {
    await pages.return(undefined);
  }
  progress.done(client.requestCount);
  // Once per run (the first poll of --follow): a custom column's name must match exactly.
  if (recordCount > 0 && !options.laterPollOfFollow) {
    for (const name of options.protect?.unseen() ?? [])
      logger.warn(
        `hash_columns names '${name}', which no row of this run carried: nothing was hashed under that name (names are exact, as Invoca sends them, e.g. 'Purchase Made')`,
      );
  }
  yield state();
}
