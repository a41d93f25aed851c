import { createHmac } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { parseTapConfig } from '../../src/config/tap-config.js';
import { addDays } from '../../src/tap/anchor.js';
import { selectionFromCatalog } from '../../src/tap/catalog.js';
import { normalizeRowInPlace } from '../../src/tap/normalize.js';
import { SequenceClock } from '../../src/stream/sequence.js';
import { pollDecision } from '../../src/tap/poll.js';
import { canonicalPhone, createProtector, keyedHash, PERSONAL_COLUMNS } from '../../src/tap/protect.js';
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

test('addDays steps calendar days across a month end', () => {
  expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
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
    expect(pollDecision(state, 300, now, state.cursor === undefined)).toEqual(expected);
  });
});

describe('personal data: hash_columns', () => {
  const key = 'k'.repeat(40);
  const hmac = (text: string): string => createHmac('sha256', key).update(text).digest('hex');
  const config = (extra: Record<string, unknown>): ReturnType<typeof parseTapConfig> =>
    parseTapConfig({ api_token: 'tok', account_id: '1', ...extra });
  const failure = (extra: Record<string, unknown>): string => {
    try {
      config(extra);
    } catch (error) {
      return (error as Error).message;
    }
    return '';
  };

  test('keyedHash is HMAC-SHA-256 for keys of any length and any text', () => {
    for (const hashKey of ['k', 'k'.repeat(32), 'é'.repeat(32), 'x'.repeat(64), 'y'.repeat(65), 'z'.repeat(200)])
      for (const text of ['', '18055550142', 'Anaïs Smithers 🦷', 'a'.repeat(300)])
        expect(keyedHash(hashKey)(text)).toBe(createHmac('sha256', hashKey).update(text).digest('hex'));
  });

  test('a phone number is hashed as digits with its country code, whatever the format; null and "" stay', () => {
    for (const format of [
      '805-555-0142',
      '(805) 555-0142',
      '+1 805 555 0142',
      '18055550142',
      '001 805.555.0142',
      ' 805 555 0142 x12',
      'Tel: 805-555-0142',
    ])
      expect(canonicalPhone(format, '1')).toBe('18055550142');
    for (const format of ['020 7946 0000', '+44 20 7946 0000', '+44 (0)20 7946 0000', '442079460000', '0044 20 7946 0000'])
      expect(canonicalPhone(format, '44')).toBe('442079460000');
    expect(canonicalPhone('+44 20 7946 0000', '1')).toBe('442079460000');
    expect(canonicalPhone('011 44 20 7946 0000', '1')).toBe('442079460000');
    expect(canonicalPhone('Restricted', '1')).toBe('restricted');
    const protect = createProtector(
      { columns: ['calling_phone_number', 'email_address', 'Lead Score'], named: ['Lead Score'], key, phoneCountryCode: '1' },
      new Set(),
    );
    const rows: Record<string, unknown>[] = [
      { calling_phone_number: '805-555-0142', email_address: ' Ana@Example.COM ', 'Lead Score': 7, city: 'Lyon' },
      { calling_phone_number: '+1 (805) 555-0142', email_address: 'ana@example.com', 'Lead Score': null },
      { calling_phone_number: '', email_address: null, 'Lead Score': '  ' },
    ];
    for (const row of rows) protect.apply(row);
    expect(rows[0]).toEqual({
      calling_phone_number: hmac('18055550142'),
      email_address: hmac('ana@example.com'),
      'Lead Score': hmac('7'),
      city: 'Lyon',
    });
    expect(rows[1]).toEqual({ calling_phone_number: hmac('18055550142'), email_address: hmac('ana@example.com'), 'Lead Score': null });
    expect(rows[2]).toEqual({ calling_phone_number: '', email_address: null, 'Lead Score': '' });
    expect(protect.unseen()).toEqual([]);
  });

  test('a hashed custom column hashes its custom_data entry too; other entries and a list of e-mails item by item', () => {
    const protect = createProtector(
      {
        columns: ['utm_source', 'linked_email_addresses_data_append', 'Utm Source'],
        named: ['utm_source', 'Utm Source'],
        key,
        phoneCountryCode: '1',
      },
      new Set(['Patient Name']),
    );
    const row: Record<string, unknown> = {
      utm_source: 'google',
      linked_email_addresses_data_append: ['A@x.io', ''],
      custom_data: [
        { name: 'utm_source', data_type: 'Short Text', source: 'Api', value: 'google' },
        { partner_name: 'utm_source', value: ' google ' },
        { name: 'Purchase Made', data_type: 'Signal', value: true },
        { name: 'utm_source', value: null },
        { name: 'Patient Name', data_type: 'Short Text', value: 'Anaïs Smithers' },
      ],
    };
    protect.apply(row);
    expect(row).toEqual({
      utm_source: hmac('google'),
      linked_email_addresses_data_append: [hmac('a@x.io'), ''],
      custom_data: [
        { name: 'utm_source', data_type: 'Short Text', source: 'Api', value: hmac('google') },
        { partner_name: 'utm_source', value: hmac('google') },
        { name: 'Purchase Made', data_type: 'Signal', value: true },
        { name: 'utm_source', value: null },
      ],
    });
    // An excluded column's entry is dropped; a name no row carried is reported (a misspelling).
    expect(protect.unseen()).toEqual(['Utm Source']);
  });

  test('$invoca_personal_columns works in hash_columns and exclude_columns; the key is required, 32 to 64 bytes; merge and money columns refused', () => {
    const parsed = config({
      hash_columns: ['$invoca_personal_columns', 'Lead Score'],
      hash_key: key,
      exclude_columns: ['$invoca_personal_columns'],
    });
    expect(parsed.config.hash?.columns).toEqual([...PERSONAL_COLUMNS, 'Lead Score']);
    expect(parsed.config.hash?.phoneCountryCode).toBe('1');
    expect(parsed.config.excludeColumns).toEqual(PERSONAL_COLUMNS);
    expect(PERSONAL_COLUMNS).toEqual(
      expect.arrayContaining(['calling_phone_number', 'email_address', 'address1', 'first_name_data_append']),
    );
    expect(config({}).config.hash).toBeUndefined();
    expect(failure({ hash_columns: ['name'] })).toBe(
      "config field 'hash_key' is required when hash_columns names a column; fix it in the config",
    );
    expect(failure({ hash_columns: ['name'], hash_key: 'short-key' })).toMatch(
      /^config field 'hash_key' is shorter than it may be: it must be 32 to 64 bytes/,
    );
    expect(failure({ hash_columns: ['name'], hash_key: 'x'.repeat(65) })).toMatch(/^config field 'hash_key' is longer than it may be/);
    expect(failure({ hash_columns: ['name'], hash_key: 'short-key' })).not.toMatch(/short-key/);
    expect(failure({ hash_columns: ['complete_call_id'], hash_key: key })).toBe(
      "config field 'hash_columns' names 'complete_call_id', which the correction merge reads: it cannot be hashed; fix it in the config",
    );
    expect(failure({ hash_columns: ['advertiser_payin_localized'], hash_key: key })).toMatch(/which the correction merge sums/);
    expect(failure({ hash_columns: ['name'], hash_key: key, phone_country_code: '+44' })).toMatch(
      /^config field 'phone_country_code' must be a country calling code/,
    );
    expect(config({ hash_key: key }).warnings).toContain(
      "config field 'hash_key' is set but hash_columns names no column: nothing is hashed",
    );
  });
});
