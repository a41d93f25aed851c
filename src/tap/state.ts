/**
 * The tap's STATE value:
 * {"bookmarks":{"transactions":{"replication_key":"transaction_id","replication_key_value":"<last id>","sequence":<n>,
 *   "last_poll_started_at":"<RFC 3339, UTC>"}}}
 * A missing or empty state is a first sync; a malformed one is a StateError naming the field.
 */
import { StateError } from '../errors.js';
import { REPLICATION_KEY, STREAM } from '../stream/contract.js';

export interface TapBookmark {
  /** The last transaction id read: the next run starts after it. */
  cursor: string | undefined;
  /** The last `_invoca_sequence` emitted. */
  sequence: number | undefined;
  /** When the last poll of the API started (RFC 3339, UTC): Invoca's polling floor counts from it. */
  lastPollStartedAt?: string | undefined;
}

export interface StateValue {
  bookmarks: {
    [STREAM]: { replication_key: typeof REPLICATION_KEY; replication_key_value?: string; sequence?: number; last_poll_started_at?: string };
  };
}

export function parseState(raw: unknown): TapBookmark {
  if (raw === undefined || raw === null) return { cursor: undefined, sequence: undefined };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new StateError('state must be a JSON object; fix or remove the state file');
  const bookmarks = (raw as Record<string, unknown>)['bookmarks'];
  if (bookmarks === undefined || bookmarks === null) return { cursor: undefined, sequence: undefined };
  if (typeof bookmarks !== 'object' || Array.isArray(bookmarks)) {
    throw new StateError("state field 'bookmarks' must be an object; fix or remove the state file");
  }
  const bookmark = (bookmarks as Record<string, unknown>)[STREAM];
  if (bookmark === undefined || bookmark === null) return { cursor: undefined, sequence: undefined };
  if (typeof bookmark !== 'object' || Array.isArray(bookmark)) {
    throw new StateError(`state field 'bookmarks.${STREAM}' must be an object; fix or remove the state file`);
  }
  const { replication_key_value: cursor, sequence, last_poll_started_at: lastPoll } = bookmark as Record<string, unknown>;
  if (cursor !== undefined && cursor !== null && (typeof cursor !== 'string' || cursor.trim() === '')) {
    throw new StateError(
      `state field 'bookmarks.${STREAM}.replication_key_value' must be a transaction id string (got ${JSON.stringify(cursor)}); fix or remove the state file`,
    );
  }
  if (sequence !== undefined && sequence !== null && (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence < 0)) {
    throw new StateError(
      `state field 'bookmarks.${STREAM}.sequence' must be a non-negative integer (got ${JSON.stringify(sequence)}); fix or remove the state file`,
    );
  }
  if (lastPoll !== undefined && lastPoll !== null && (typeof lastPoll !== 'string' || Number.isNaN(Date.parse(lastPoll)))) {
    throw new StateError(
      `state field 'bookmarks.${STREAM}.last_poll_started_at' must be an RFC 3339 timestamp (got ${JSON.stringify(lastPoll)}); fix or remove the state file`,
    );
  }
  return {
    cursor: (cursor as string | null) ?? undefined,
    sequence: (sequence as number | null) ?? undefined,
    lastPollStartedAt: (lastPoll as string | null) ?? undefined,
  };
}

export function stateValue(bookmark: TapBookmark): StateValue {
  return {
    bookmarks: {
      [STREAM]: {
        replication_key: REPLICATION_KEY,
        ...(bookmark.cursor !== undefined ? { replication_key_value: bookmark.cursor } : {}),
        ...(bookmark.sequence !== undefined ? { sequence: bookmark.sequence } : {}),
        ...(bookmark.lastPollStartedAt !== undefined ? { last_poll_started_at: bookmark.lastPollStartedAt } : {}),
      },
    },
  };
}

/**
 * An Airbyte state file: per-stream state messages (`[{"type": "STREAM", "stream":
 * {"stream_descriptor": {"name": "transactions"}, "stream_state": {...}}}]`), or a legacy object
 * (`{"transactions": {...}}`, or the Singer shape with `bookmarks`).
 */
export function parseAirbyteState(raw: unknown): TapBookmark {
  if (raw === undefined || raw === null) return parseState(undefined);
  if (Array.isArray(raw)) {
    for (const message of raw) {
      if (!message || typeof message !== 'object')
        throw new StateError('state: every entry of the list must be an Airbyte state message object');
      const { type, stream, data } = message as {
        type?: unknown;
        stream?: { stream_descriptor?: { name?: unknown }; stream_state?: unknown };
        data?: unknown;
      };
      if (type === 'STREAM' && stream?.stream_descriptor?.name === STREAM)
        return parseState({ bookmarks: { [STREAM]: stream.stream_state ?? {} } });
      if ((type === 'LEGACY' || type === undefined) && data !== undefined) return parseAirbyteState(data);
    }
    return parseState(undefined);
  }
  if (typeof raw === 'object' && !('bookmarks' in raw) && STREAM in raw) {
    return parseState({ bookmarks: { [STREAM]: (raw as Record<string, unknown>)[STREAM] } });
  }
  return parseState(raw);
}
