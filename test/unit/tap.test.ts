import { describe, expect, test } from '@jest/globals';
import { check } from '../../src/cli/tap-args.js';
import { parseTapConfig } from '../../src/config/tap-config.js';
import { nearestKey } from '../../src/config/nearest-key.js';
import { toAscii } from '../../src/protocol/ascii.js';
import { addDays } from '../../src/tap/anchor.js';
import { selectionFromCatalog } from '../../src/tap/catalog.js';
import { normalizeRowInPlace } from '../../src/tap/normalize.js';
import { SequenceClock } from '../../src/stream/sequence.js';
import { pollDecision } from '../../src/tap/poll.js';
import { parseState, stateValue } from '../../src/tap/state.js';
import { StreamSchema } from '../../src/stream/schema.js';
import { toRfc3339Utc } from '../../src/tap/timestamps.js';

describe('timestamps', () => {
  test.each([
    ['2019-01-24 06:43:15 -07:00', '2019-01-24T13:43:15.000Z'],
    ['2019-01-24 06:43:15 -0700', '2019-01-24T13:43:15.000Z'],
    ['2019-01-24 06:43:15 +05:30', '2019-01-24T01:13:15.000Z'],
    ['2019-01-24T06:43:15-07:00', '2019-01-24T13:43:15.000Z'],
    ['2019-01-24T13:43:15Z', '2019-01-24T13:43:15.000Z'],
    [1548337395000, '2019-01-24T13:43:15.000Z'],
    ['1548337395000', '2019-01-24T13:43:15.000Z'],
    ['1548337395', '2019-01-24T13:43:15.000Z'],
    ['', null],
    [null, null],
    ['yesterday', null],
    ['2019-13-45 06:43:15 -07:00', null],
  ])('%p -> %p', (input, expected) => {
    expect(toRfc3339Utc(input)).toBe(expected);
  });
});

/** Normalises a copy, so a test's input row stays as written. */
const normalizeRecord = (row: Readonly<Record<string, unknown>>, schema: StreamSchema, sequence: number, dropped: ReadonlySet<string>) =>
  normalizeRowInPlace({ ...row }, schema, sequence, dropped);

describe('normalizeRecord', () => {
  const none = new Set<string>();

  test('numbers as strings become numbers where the schema says so; "" is null there and kept in strings', () => {
    const schema = new StreamSchema();
    const { record, schemaChanged } = normalizeRecord(
      {
        transaction_id: 'A-1',
        duration: '214',
        start_time_utc: '1548337395000',
        advertiser_payin_localized: '12.50',
        affiliate_payout_localized: '',
        margin_localized: 3,
        mobile: '',
        advertiser_id: 1021,
        corrects_transaction_id: null,
        corrected_at: '2019-01-25 09:00:00 -0700',
      },
      schema,
      42,
      none,
    );
    expect(schemaChanged).toBe(false);
    expect(record).toEqual({
      transaction_id: 'A-1',
      duration: 214,
      start_time_utc: 1548337395000,
      advertiser_payin_localized: 12.5,
      affiliate_payout_localized: null,
      margin_localized: 3,
      mobile: '',
      advertiser_id: '1021',
      corrects_transaction_id: null,
      corrected_at: '2019-01-25 09:00:00 -0700',
      start_time: '2019-01-24T13:43:15.000Z',
      start_date_local: null,
      corrected_at_utc: '2019-01-25T16:00:00.000Z',
      _invoca_sequence: 42,
    });
  });

  test('start_time falls back to start_time_local; derived fields for network time and signals', () => {
    const { record } = normalizeRecord(
      {
        transaction_id: 'A',
        start_time_local: '2019-01-24 06:43:15 -07:00',
        start_time_network_timezone: '2019-01-24 08:43:15 -0500',
        signal_occurred_at: '1548337395',
      },
      new StreamSchema(),
      1,
      none,
    );
    expect(record['start_time']).toBe('2019-01-24T13:43:15.000Z');
    // The day the Invoca UI shows (the token's time zone), not the UTC day.
    expect(record['start_date_local']).toBe('2019-01-24');
    expect(
      normalizeRecord({ transaction_id: 'B', start_time_local: '2019-01-24 23:30:00 -07:00' }, new StreamSchema(), 2, none).record[
        'start_date_local'
      ],
    ).toBe('2019-01-24');
    expect(
      normalizeRecord({ transaction_id: 'C', start_time_local: '' }, new StreamSchema(), 3, none).record['start_date_local'],
    ).toBeNull();
    expect(record['start_time_network_timezone_utc']).toBe('2019-01-24T13:43:15.000Z');
    expect(record['signal_occurred_at_utc']).toBe('2019-01-24T13:43:15.000Z');
  });

  test('a new field is added to the schema; custom columns hold strings', () => {
    const schema = new StreamSchema(['Purchase Made']);
    const first = normalizeRecord({ transaction_id: 'A', 'Purchase Made': 1, 'New.Column': 7, extra: { a: 1 } }, schema, 1, none);
    expect(first.schemaChanged).toBe(true);
    expect(first.record['Purchase Made']).toBe('1');
    expect(first.record['New.Column']).toBe('7');
    expect(first.record['extra']).toEqual({ a: 1 });
    expect(schema.toJSON().properties?.['New.Column']).toEqual({ type: ['null', 'string'] });
    expect(schema.toJSON().properties?.['extra']).toEqual({ type: ['null', 'object'] });
    expect(normalizeRecord({ transaction_id: 'B', 'New.Column': 'x' }, schema, 2, none).schemaChanged).toBe(false);
  });

  test('a value that does not fit its type is kept, and the type widened once', () => {
    const schema = new StreamSchema();
    const first = normalizeRecord({ transaction_id: 'A', duration: 'n/a' }, schema, 1, none);
    expect(first).toMatchObject({ schemaChanged: true, record: { duration: 'n/a' } });
    expect(schema.types('duration')).toEqual(['integer', 'string']);
    const second = normalizeRecord({ transaction_id: 'B', duration: 'unknown' }, schema, 2, none);
    expect(second).toMatchObject({ schemaChanged: false, record: { duration: 'unknown' } });
    expect(normalizeRecord({ transaction_id: 'C', duration: 12.5 }, schema, 3, none).schemaChanged).toBe(true);
    expect(schema.types('duration')).toEqual(['integer', 'string', 'number']);
  });

  test('deselected fields are dropped, derived ones included', () => {
    const { record } = normalizeRecord(
      { transaction_id: 'A', city: 'Boise', start_time_utc: 1 },
      new StreamSchema(),
      1,
      new Set(['city', 'start_time']),
    );
    expect(record).toEqual({ transaction_id: 'A', start_time_utc: 1, start_date_local: null, corrected_at_utc: null, _invoca_sequence: 1 });
  });
});

describe('state', () => {
  test('missing, empty and partial states are a first sync', () => {
    expect(parseState(undefined)).toEqual({ cursor: undefined, sequence: undefined });
    expect(parseState({})).toEqual({ cursor: undefined, sequence: undefined });
    expect(parseState({ bookmarks: {} })).toEqual({ cursor: undefined, sequence: undefined });
    expect(parseState({ bookmarks: { transactions: { replication_key_value: 'X', sequence: 5 } } })).toEqual({ cursor: 'X', sequence: 5 });
  });

  test.each([
    [[], 'state must be a JSON object'],
    [{ bookmarks: [] }, "state field 'bookmarks' must be an object"],
    [{ bookmarks: { transactions: 'x' } }, "state field 'bookmarks.transactions' must be an object"],
    [{ bookmarks: { transactions: { replication_key_value: 12 } } }, "replication_key_value' must be a transaction id string (got 12)"],
    [{ bookmarks: { transactions: { sequence: -1 } } }, "sequence' must be a non-negative integer (got -1)"],
    [
      { bookmarks: { transactions: { last_poll_started_at: 'yesterday' } } },
      'last_poll_started_at\' must be an RFC 3339 timestamp (got "yesterday")',
    ],
  ])('malformed %j', (raw, message) => {
    expect(() => parseState(raw)).toThrow(message);
  });

  test('stateValue is the design shape', () => {
    expect(stateValue({ cursor: 'C', sequence: 9 })).toEqual({
      bookmarks: { transactions: { replication_key: 'transaction_id', replication_key_value: 'C', sequence: 9 } },
    });
    const polled = { cursor: 'C', sequence: 9, lastPollStartedAt: '2026-11-30T04:00:00.000Z' };
    expect(stateValue(polled).bookmarks.transactions.last_poll_started_at).toBe('2026-11-30T04:00:00.000Z');
    expect(parseState(stateValue(polled))).toEqual(polled);
    expect(stateValue({ cursor: undefined, sequence: undefined })).toEqual({
      bookmarks: { transactions: { replication_key: 'transaction_id' } },
    });
  });
});

test('the sequence starts above the state and above the clock', () => {
  const clock = new SequenceClock(5, 1000);
  expect([clock.next(), clock.next()]).toEqual([1_000_000, 1_000_001]);
  const resumed = new SequenceClock(2_000_000, 1000);
  expect(resumed.last).toBe(2_000_000);
  expect(resumed.next()).toBe(2_000_001);
});

describe('catalog selection', () => {
  const stream = (metadata: unknown[]) => ({
    streams: [
      {
        tap_stream_id: 'transactions',
        stream: 'transactions',
        schema: { properties: { transaction_id: {}, city: {}, region: {}, x: {} } },
        metadata,
      },
    ],
  });

  test('SDK rules: automatic always, then selected, then selected-by-default, then the parent', () => {
    const selection = selectionFromCatalog(
      stream([
        { breadcrumb: [], metadata: { selected: true } },
        { breadcrumb: ['properties', 'transaction_id'], metadata: { inclusion: 'automatic', selected: false } },
        { breadcrumb: ['properties', 'city'], metadata: { inclusion: 'available', selected: false } },
        { breadcrumb: ['properties', 'region'], metadata: { 'selected-by-default': false } },
        { breadcrumb: ['properties', 'x'], metadata: { inclusion: 'unsupported', selected: true } },
      ]),
    );
    expect(selection.streamSelected).toBe(true);
    expect([...selection.deselectedFields].sort()).toEqual(['city', 'region', 'x']);
    expect(selection.catalogFields).toEqual(['transaction_id', 'city', 'region', 'x']);
  });

  test('no metadata: selected; another stream only: not selected; not a catalog: an error', () => {
    expect(selectionFromCatalog(stream([])).streamSelected).toBe(true);
    expect(selectionFromCatalog({ streams: [{ tap_stream_id: 'other' }] }).streamSelected).toBe(false);
    expect(() => selectionFromCatalog({ stream: [] })).toThrow("the catalog must be an object with a 'streams' list");
  });
});

describe('tap args check()', () => {
  test.each([
    [{ help: true }, { kind: 'help' }],
    [
      { about: true, format: 'markdown' as const },
      { kind: 'about', format: 'markdown' },
    ],
    [{ about: true }, { kind: 'about', format: 'text' }],
    [
      { config: 'c.json', discover: true },
      { kind: 'discover', configPath: 'c.json' },
    ],
    [
      { config: 'c.json', test: true },
      { kind: 'test', configPath: 'c.json' },
    ],
    // Meltano runs `--discover` with `--state`: accepted, and the state is not read.
    [
      { config: 'c.json', discover: true, state: 's.json' },
      { kind: 'discover', configPath: 'c.json' },
    ],
    [
      { config: 'c.json', catalog: 'k.json', state: 's.json' },
      { kind: 'sync', configPath: 'c.json', catalogPath: 'k.json', statePath: 's.json', follow: false },
    ],
    [
      { config: 'c.json', follow: true },
      { kind: 'sync', configPath: 'c.json', catalogPath: undefined, statePath: undefined, follow: true },
    ],
  ])('%j', (argv, mode) => {
    expect(check(argv)).toEqual(mode);
  });

  test.each([
    [{}, '--config is required'],
    [{ format: 'json' as const, config: 'c' }, '--format goes with --about'],
    [{ config: 'c', discover: true, test: true }, 'cannot be combined'],
    [{ config: 'c', _: ['sync'] }, "unexpected argument 'sync'"],
    [{ config: 'c', discover: true, follow: true }, '--follow goes with a sync, not with --discover'],
  ])('%j is a usage error', (argv, message) => {
    expect(() => check(argv)).toThrow(message);
  });
});

test('config defaults, transaction type spellings and numeric account ids', () => {
  const { config, warnings } = parseTapConfig({
    api_token: 'tok',
    account_id: 1234,
    transaction_types: ['Post Call Event', 'PostCallEvent', 'Reported Conversion'],
  });
  expect(config).toMatchObject({
    accountId: '1234',
    accountType: 'network',
    baseUrl: 'https://invoca.net',
    apiVersion: '2020-10-01',
    pageSize: 4000,
    includeColumns: ['$invoca_default_columns', '$invoca_custom_columns', 'custom_data'],
    transactionTypes: ['PostCallEvent', 'Sale'],
    requestTimeoutMs: 300_000,
    maxRetries: 5,
  });
  expect(warnings).toEqual([]);
  expect(parseTapConfig({ api_token: 't', account_id: '1', start_date: '2026-02-01T10:00:00-07:00' }).config.startDate).toBe('2026-02-01');
  expect(() => parseTapConfig({ api_token: 't', account_id: '1', start_date: '2026-02-31' })).toThrow("'start_date' is not a real date");
  expect(() => parseTapConfig({ api_token: 't', account_id: '1', start_date: '2026-99-01' })).toThrow("'start_date' is not a real date");
});

test('transaction_types: the FAQ spellings in any case; an unknown one lists the accepted ones', () => {
  const types = (values: string[]): unknown =>
    parseTapConfig({ api_token: 't', account_id: '1', transaction_types: values }).config.transactionTypes;
  expect(types(['call', 'Call', 'CALL'])).toEqual(['Call']);
  expect(types(['post call event', 'post_call_event', 'PostCallEvent', 'Post Call Event'])).toEqual(['PostCallEvent']);
  expect(types(['sale', 'reported conversion', 'Reported_Conversion'])).toEqual(['Sale']);
  expect(types(['signal'])).toEqual(['Signal']);
  expect(() => types(['Refund'])).toThrow(
    /config field 'transaction_types' has "Refund", which is no transaction type; use Call, PostCallEvent .*Signal; in any case/,
  );
});

test('min_poll_interval_seconds: 300 by default, at least 300 against invoca.net, any value from 0 elsewhere', () => {
  const parse = (extra: Record<string, unknown>): number =>
    parseTapConfig({ api_token: 't', account_id: '1', ...extra }).config.minPollIntervalSeconds;
  expect(parse({})).toBe(300);
  expect(parse({ base_url: 'https://acme.invoca.net', min_poll_interval_seconds: 600 })).toBe(600);
  expect(() => parse({ min_poll_interval_seconds: 60 })).toThrow(
    /config field 'min_poll_interval_seconds' is 60, below Invoca's floor of 300 seconds for https:\/\/invoca.net/,
  );
  expect(() => parse({ base_url: 'https://ACME.Invoca.net/', min_poll_interval_seconds: 299 })).toThrow(
    "'min_poll_interval_seconds' is 299",
  );
  expect(parse({ base_url: 'http://127.0.0.1:8080', min_poll_interval_seconds: 0 })).toBe(0);
  expect(parse({ base_url: 'https://notinvoca.net.example', min_poll_interval_seconds: 5 })).toBe(5);
  expect(() => parse({ base_url: 'http://127.0.0.1:8080', min_poll_interval_seconds: -1 })).toThrow("'min_poll_interval_seconds'");
});

describe('the polling floor', () => {
  const at = '2026-11-30T04:00:00.000Z';
  const last = Date.parse(at);
  const bookmark = { cursor: 'C', sequence: 1, lastPollStartedAt: at };
  test.each([
    ['a first sync', { ...bookmark, cursor: undefined }, last + 1000, { kind: 'poll' }],
    ['no last poll in the state', { ...bookmark, lastPollStartedAt: undefined }, last + 1000, { kind: 'poll' }],
    ['the interval has passed', bookmark, last + 300_000, { kind: 'poll' }],
    ['a few seconds short: wait', bookmark, last + 295_000, { kind: 'wait', ms: 5000 }],
    ['exactly a minute short: wait', bookmark, last + 240_000, { kind: 'wait', ms: 60_000 }],
    ['more than a minute short: skip', bookmark, last + 60_000, { kind: 'skip', nextPollAt: '2026-11-30T04:05:00.000Z' }],
    ['a last poll in the future (clock set back): poll', bookmark, last - 1000, { kind: 'poll' }],
  ] as const)('%s', (_name, state, now, expected) => {
    expect(pollDecision(state, 300, now)).toEqual(expected);
  });
});

test('nearestKey suggests only close keys', () => {
  expect(nearestKey('page_sise', ['page_size', 'api_token'])).toBe('page_size');
  expect(nearestKey('apitoken', ['page_size', 'api_token'])).toBe('api_token');
  expect(nearestKey('colour', ['page_size', 'api_token'])).toBeUndefined();
});

test('toAscii escapes everything above U+007E, astral characters as surrogate pairs', () => {
  const json = JSON.stringify({ name: 'Zürich 🦷 \u007f ok' });
  expect(toAscii(json)).toBe('{"name":"Z\\u00fcrich \\ud83e\\uddb7 \\u007f ok"}');
  expect(JSON.parse(toAscii(json))).toEqual(JSON.parse(json));
  expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
});
