/**
 * The tap's STATE value:
 * {"bookmarks":{"transactions":{"replication_key":"transaction_id","replication_key_value":"<last id>","sequence":<n>,
 *   "last_poll_started_at":"<RFC 3339, UTC>"}}}
 * A missing or empty state is a first sync; a malformed one is a StateError naming the field.
 */
import { StateError } from '../errors.js';
import { validated } from '../config/validate.js';
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

/** A state value: every level may be missing or null (a first sync). */
const STATE_SCHEMA = {
  type: ['object', 'null'],
  mustBe: 'a JSON object',
  properties: {
    bookmarks: {
      type: ['object', 'null'],
      mustBe: 'an object',
      properties: {
        [STREAM]: {
          type: ['object', 'null'],
          mustBe: 'an object',
          properties: {
            replication_key_value: { type: ['string', 'null'], pattern: '\\S', mustBe: 'a transaction id string' },
            sequence: { type: ['integer', 'null'], minimum: 0, maximum: Number.MAX_SAFE_INTEGER, mustBe: 'a non-negative integer' },
            last_poll_started_at: { type: ['string', 'null'], format: 'timestamp', mustBe: 'an RFC 3339 timestamp' },
          },
        },
      },
    },
  },
} as const;

interface StateFile {
  bookmarks?: {
    [STREAM]?: { replication_key_value?: string | null; sequence?: number | null; last_poll_started_at?: string | null } | null;
  } | null;
}

export function parseState(raw: unknown): TapBookmark {
  if (raw === undefined) return { cursor: undefined, sequence: undefined };
  const result = validated<StateFile | null | undefined>(STATE_SCHEMA, raw, 'state');
  if ('problem' in result) throw new StateError(`${result.problem}; fix or remove the state file`);
  const bookmark = result.value?.bookmarks?.[STREAM];
  return {
    cursor: bookmark?.replication_key_value ?? undefined,
    sequence: bookmark?.sequence ?? undefined,
    ...(bookmark?.last_poll_started_at ? { lastPollStartedAt: bookmark.last_poll_started_at } : {}),
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
