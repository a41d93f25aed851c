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

/**
 * A state value: every level may be missing or null (a first sync), but no level may hold a key
 * this tap does not write: a state of another tap or in another shape must not turn into a
 * silent first sync, which reads the whole history again.
 */
const STATE_SCHEMA = {
  type: ['object', 'null'],
  mustBe: 'a JSON object',
  additionalProperties: false,
  properties: {
    // The Singer SDK writes which stream it was syncing next to the bookmarks.
    currently_syncing: { type: ['string', 'null'], mustBe: 'a stream name' },
    bookmarks: {
      type: ['object', 'null'],
      mustBe: 'an object',
      additionalProperties: false,
      properties: {
        [STREAM]: {
          type: ['object', 'null'],
          mustBe: 'an object',
          additionalProperties: false,
          properties: {
            replication_key: { type: ['string', 'null'], enum: [REPLICATION_KEY, null], mustBe: `"${REPLICATION_KEY}"` },
            replication_key_value: { type: ['string', 'null'], pattern: '\\S', maxLength: 1000, mustBe: 'a transaction id string' },
            sequence: { type: ['integer', 'null'], minimum: 0, maximum: Number.MAX_SAFE_INTEGER, mustBe: 'a non-negative integer' },
            last_poll_started_at: { type: ['string', 'null'], format: 'timestamp', mustBe: 'an RFC 3339 timestamp' },
          },
        },
      },
    },
  },
} as const;

/** What a state file must look like, for the message when it does not. */
const EXPECTED_SHAPE =
  `{"bookmarks":{"${STREAM}":{"replication_key_value":"<transaction id>","sequence":<n>}}} as tap-invoca writes it, ` +
  `or Meltano's {"singer_state":{...}} around it`;

interface StateFile {
  bookmarks?: {
    [STREAM]?: { replication_key_value?: string | null; sequence?: number | null; last_poll_started_at?: string | null } | null;
  } | null;
}

/**
 * A Singer state, also inside Meltano's `{"singer_state": ...}` (what `meltano state get`
 * prints). `source` names the file in messages.
 */
export function parseState(raw: unknown, source = 'the state file'): TapBookmark {
  if (raw === undefined) return { cursor: undefined, sequence: undefined };
  const value = isObject(raw) && Object.keys(raw).length === 1 && 'singer_state' in raw ? raw['singer_state'] : raw;
  if (isObject(value)) {
    const unknown = Object.keys(value).filter((key) => key !== 'bookmarks' && key !== 'currently_syncing');
    if (unknown.length > 0)
      throw new StateError(`${source} has ${keyList(unknown)}, not the shape of a tap-invoca state: expected ${EXPECTED_SHAPE}`);
    const bookmarks = value['bookmarks'];
    const streams = isObject(bookmarks) ? Object.keys(bookmarks).filter((key) => key !== STREAM) : [];
    if (streams.length > 0) {
      const ours = isObject(bookmarks) && STREAM in bookmarks ? ` beside '${STREAM}'` : `, not for '${STREAM}'`;
      throw new StateError(
        `${source} has bookmarks for ${keyList(streams)}${ours}: it is not a tap-invoca state (one stream); expected ${EXPECTED_SHAPE}`,
      );
    }
  }
  const result = validated<StateFile | null | undefined>(STATE_SCHEMA, value, 'state');
  if ('problem' in result) throw new StateError(`${result.problem}; fix or remove ${source}`);
  const bookmark = result.value?.bookmarks?.[STREAM];
  return {
    cursor: bookmark?.replication_key_value ?? undefined,
    sequence: bookmark?.sequence ?? undefined,
    ...(bookmark?.last_poll_started_at ? { lastPollStartedAt: bookmark.last_poll_started_at } : {}),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** At most five key names, each cut short: a state file is untrusted input. */
function keyList(keys: string[]): string {
  const shown = keys.slice(0, 5).map((key) => `'${key.length > 40 ? `${key.slice(0, 37)}...` : key}'`);
  return `${keys.length === 1 ? 'the key' : 'the keys'} ${shown.join(', ')}${keys.length > 5 ? ` and ${keys.length - 5} more` : ''}`;
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
 * {"stream_descriptor": {"name": "transactions"}, "stream_state": {...}}}]`), a legacy message
 * (`{"type": "LEGACY", "data": ...}`), a legacy object (`{"transactions": {...}}`), or any shape
 * `parseState` reads. A list with messages for other streams only is not ours: an error.
 */
export function parseAirbyteState(raw: unknown, source = 'the state file'): TapBookmark {
  if (raw === undefined || raw === null) return parseState(undefined);
  if (Array.isArray(raw)) {
    for (const [index, message] of raw.entries()) {
      if (!isObject(message)) throw new StateError(`${source}: entry ${index} of the list must be an Airbyte state message object`);
      const { type, stream, data } = message as {
        type?: unknown;
        stream?: { stream_descriptor?: { name?: unknown }; stream_state?: unknown };
        data?: unknown;
      };
      if (type === 'STREAM' && stream?.stream_descriptor?.name === STREAM)
        return parseState({ bookmarks: { [STREAM]: stream.stream_state ?? {} } }, source);
      if ((type === 'LEGACY' || type === undefined) && data !== undefined) return parseAirbyteState(data, source);
    }
    if (raw.length > 0) {
      throw new StateError(
        `${source} has no state message for the stream '${STREAM}': expected [{"type":"STREAM","stream":{"stream_descriptor":{"name":"${STREAM}"},"stream_state":{...}}}]`,
      );
    }
    return parseState(undefined);
  }
  if (isObject(raw) && !('bookmarks' in raw) && STREAM in raw) {
    return parseState({ bookmarks: { [STREAM]: raw[STREAM] } }, source);
  }
  return parseState(raw, source);
}
