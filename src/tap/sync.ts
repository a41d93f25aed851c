/**
 * The sync of the `transactions` stream as an async generator of protocol-neutral events; the
 * Singer and Airbyte encoders turn them into their wire messages. Per page: the records
 * (normalised and stamped with `_invoca_sequence`), a SCHEMA first whenever a record grew the
 * schema, then the STATE that points after the page. A STATE is yielded only after the page's
 * records, so a consumer that writes events in order never emits a state ahead of its records.
 */
import type { InvocaClient, TransactionsPage } from '../invoca/client.js';
import type { Logger } from '../log.js';
import { findAnchor } from './anchor.js';
import { normalizeRecord, type TapRecord } from './normalize.js';
import { Progress } from './progress.js';
import { SequenceClock } from './sequence.js';
import { stateValue, type StateValue, type TapBookmark } from './state.js';
import type { StreamSchema } from './stream-schema.js';

export type TapEvent =
  | { type: 'schema'; schema: StreamSchema }
  | { type: 'records'; records: TapRecord[] }
  | { type: 'state'; value: StateValue; recordCount: number };

export interface SyncOptions {
  client: InvocaClient;
  schema: StreamSchema;
  bookmark: TapBookmark;
  startDate: string | undefined;
  deselectedFields: ReadonlySet<string>;
  logger: Logger;
  /** Stops the sync after the page being written (SIGTERM, SIGINT). */
  signal?: AbortSignal | undefined;
  /** Stop after this many records (`--test`). */
  maxRecords?: number | undefined;
  nowMs?: number;
}

const KNOWN_TYPES = new Set(['Call', 'Post Call Event', 'Reported Conversion', 'Sale', 'Signal']);

export async function* syncTransactions(options: SyncOptions): AsyncGenerator<TapEvent> {
  const { client, schema, logger, signal } = options;
  const clock = new SequenceClock(options.bookmark.sequence, options.nowMs ?? Date.now());
  const progress = new Progress(logger);
  const unknownTypes = new Set<string>();
  let cursor = options.bookmark.cursor;
  let recordCount = 0;
  yield { type: 'schema', schema };

  if (cursor === undefined && options.startDate !== undefined) {
    cursor = await findAnchor(client, options.startDate, logger);
  } else if (cursor !== undefined) {
    logger.info(`resuming after transaction ${cursor}`);
  }

  const pages = client.pages({ startAfterTransactionId: cursor });
  try {
    for (;;) {
      let page: TransactionsPage;
      try {
        const next = await pages.next();
        if (next.done) break;
        page = next.value;
      } catch (error) {
        if (signal?.aborted) break;
        throw error;
      }
      let batch: TapRecord[] = [];
      for (const row of page.rows) {
        if (options.maxRecords !== undefined && recordCount >= options.maxRecords) break;
        const { record, schemaChanged } = normalizeRecord(row, schema, clock.next(), options.deselectedFields);
        if (schemaChanged) {
          // The target must know a new column before the first record that carries it.
          if (batch.length > 0) yield { type: 'records', records: batch };
          batch = [];
          logger.info(`schema changed at transaction ${String(row['transaction_id'])}: emitting the updated SCHEMA`);
          yield { type: 'schema', schema };
        }
        const type = row['transaction_type'];
        if (typeof type === 'string' && !KNOWN_TYPES.has(type) && !unknownTypes.has(type)) {
          unknownTypes.add(type);
          logger.warn(`unknown transaction_type '${type}' (first at ${String(row['transaction_id'])}): passed through`);
        }
        batch.push(record);
        recordCount++;
      }
      if (batch.length > 0) yield { type: 'records', records: batch };
      const reachedLimit = options.maxRecords !== undefined && recordCount >= options.maxRecords;
      if (!reachedLimit) cursor = page.lastTransactionId ?? cursor;
      progress.page(page.rows.length, page.bytes);
      if (page.rows.length > 0) yield { type: 'state', value: stateValue({ cursor, sequence: clock.last }), recordCount };
      if (reachedLimit || signal?.aborted) break;
    }
  } finally {
    await pages.return(undefined);
  }
  progress.done(client.requestCount);
  yield { type: 'state', value: stateValue({ cursor, sequence: clock.last }), recordCount };
}
