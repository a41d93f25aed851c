import { describe, expect, test } from '@jest/globals';
import { resolveColumns } from '../../src/invoca/columns.js';
import { parseRows, serverMessage, statusError } from '../../src/invoca/responses.js';
import { backoffDelayMs, parseRetryAfterSeconds } from '../../src/retry.js';
import { toTransactionTypeFilter } from '../../src/stream/transaction-types.js';
import { clampPageSize, transactionsUrl } from '../../src/invoca/url.js';
import { EXPECTED_MERGE_COLUMNS } from '../helpers/merge-columns.js';

const endpoint = { baseUrl: 'https://acme.invoca.net/', apiVersion: '2020-10-01', accountType: 'network' as const, accountId: '1234' };
const noColumns = { includeColumns: [], excludeColumns: [], transactionTypes: [] };

describe('transactionsUrl', () => {
  test.each([
    ['network', 'networks'],
    ['advertiser', 'advertisers'],
    ['affiliate', 'affiliates'],
  ] as const)('%s accounts read /%s/transactions', (accountType, segment) => {
    expect(transactionsUrl({ ...endpoint, accountType }, { limit: 10, ...noColumns })).toBe(
      `https://acme.invoca.net/api/2020-10-01/${segment}/transactions/1234.json?limit=10`,
    );
  });

  test('cursor, window, columns and type filters', () => {
    const url = transactionsUrl(
      { ...endpoint, baseUrl: 'http://127.0.0.1:9/proxy' },
      {
        limit: 4000,
        startAfterTransactionId: 'C624DA2C-CF3367C3',
        from: '2026-01-01',
        to: '2026-01-02',
        includeColumns: ['$invoca_default_columns', 'Purchase Made', 'a.b'],
        excludeColumns: ['recording'],
        transactionTypes: ['Call', 'PostCallEvent'],
      },
    );
    expect(url).toBe(
      'http://127.0.0.1:9/proxy/api/2020-10-01/networks/transactions/1234.json?limit=4000' +
        '&start_after_transaction_id=C624DA2C-CF3367C3&from=2026-01-01&to=2026-01-02' +
        '&include_columns=$invoca_default_columns,Purchase%20Made,a.b&exclude_columns=recording' +
        '&transaction_type[]=Call&transaction_type[]=PostCallEvent',
    );
  });

  test('one end of a window alone is not sent (Invoca would ignore it)', () => {
    expect(transactionsUrl(endpoint, { limit: 1, from: '2026-01-01', ...noColumns })).not.toContain('from=');
  });

  test.each([
    [0, 1],
    [-5, 1],
    [1, 1],
    [4000, 4000],
    [4001, 4000],
    [Number.NaN, 4000],
    [12.7, 12],
  ])('clampPageSize(%p) = %p', (input, expected) => {
    expect(clampPageSize(input)).toBe(expected);
  });
});

describe('resolveColumns', () => {
  test('the defaults constant already carries the merge columns', () => {
    expect(resolveColumns(['$invoca_default_columns', 'custom_data'], [], 'network')).toEqual({
      include: ['$invoca_default_columns', 'custom_data'],
      exclude: [],
      warnings: [],
    });
  });

  test('without the defaults, or with them excluded, the merge columns are named', () => {
    const result = resolveColumns(['city'], ['$invoca_default_columns'], 'network');
    expect(result.include).toEqual(['city', ...EXPECTED_MERGE_COLUMNS]);
  });

  test('excluding a merge column is refused with a warning', () => {
    const result = resolveColumns(['$invoca_default_columns'], ['corrected_at', 'recording'], 'network');
    expect(result.exclude).toEqual(['recording']);
    expect(result.warnings).toEqual(["exclude_columns: 'corrected_at' is needed by the correction merge and is requested anyway"]);
  });

  test('affiliates drop custom data requests', () => {
    const result = resolveColumns(['$invoca_default_columns', '$invoca_custom_columns', 'custom_data'], [], 'affiliate');
    expect(result.include).toEqual(['$invoca_default_columns']);
    expect(result.warnings[0]).toContain('affiliate accounts have no custom data');
  });

  test('duplicates and blanks are removed', () => {
    expect(resolveColumns(['$invoca_default_columns', ' city ', 'city', ''], [], 'network').include).toEqual([
      '$invoca_default_columns',
      'city',
    ]);
  });
});

describe('retry timing', () => {
  test('backoff doubles from the base, with jitter in the upper half, capped', () => {
    expect(backoffDelayMs(0, 1000, 60_000, () => 0)).toBe(500);
    expect(backoffDelayMs(0, 1000, 60_000, () => 0.999999)).toBe(1000);
    expect(backoffDelayMs(3, 1000, 60_000, () => 0)).toBe(4000);
    expect(backoffDelayMs(20, 1000, 60_000, () => 0.999999)).toBe(60_000);
  });

  test('Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-27T00:00:00Z');
    expect(parseRetryAfterSeconds('7', now)).toBe(7);
    expect(parseRetryAfterSeconds(' 0 ', now)).toBe(0);
    expect(parseRetryAfterSeconds('Fri, 27 Nov 2026 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfterSeconds('Thu, 26 Nov 2026 00:00:30 GMT', now)).toBe(0);
    expect(parseRetryAfterSeconds('soon', now)).toBeUndefined();
    expect(parseRetryAfterSeconds(undefined, now)).toBeUndefined();
  });
});

describe('responses', () => {
  test('serverMessage reads the Invoca envelope, validation errors, HTML titles and text', () => {
    expect(serverMessage('{"errors":{"class":"Unauthorized","invalid_data":"bad token"}}')).toBe('Unauthorized: bad token');
    expect(serverMessage('{"errors":{"limit":["must be positive"]}}')).toBe('limit must be positive');
    expect(serverMessage('<html><title>502 Bad Gateway</title></html>')).toBe('502 Bad Gateway');
    expect(serverMessage('plain\n text')).toBe('plain text');
    expect(serverMessage('x'.repeat(500))).toHaveLength(203);
    expect(serverMessage('<html><TITLE class="x">Gateway Timeout</TITLE>')).toBe('Gateway Timeout');
    expect(serverMessage('<p>one</p><p>two')).toBe('one two');
    expect(serverMessage('text <unclosed')).toBe('text');
  });

  test('serverMessage is linear: a hostile page 4x as long costs about 4x, not 16x', () => {
    // The old regular expressions backtracked over these (0.76 s for 40 KB of '<'): quadratic.
    // Time grows with size as a ratio, each the best of several runs of several calls.
    const timeOf = (body: string): number => {
      let best = Infinity;
      for (let run = 0; run < 11; run++) {
        const started = process.hrtime.bigint();
        for (let call = 0; call < 10; call++) serverMessage(body);
        best = Math.min(best, Number(process.hrtime.bigint() - started));
      }
      return best;
    };
    for (const unit of ['<', '<title', '<a', '<title>', '<a>x']) {
      const page = (bytes: number): string => unit.repeat(Math.floor(bytes / unit.length));
      timeOf(page(64 * 1024)); // warm-up
      const growth = timeOf(page(64 * 1024)) / timeOf(page(16 * 1024));
      expect([unit, growth < 10]).toEqual([unit, true]);
    }
  });

  test('statusError marks what may be retried', () => {
    expect(statusError('GET u', 429, '', 3)).toMatchObject({ status: 429, retryable: true, retryAfterSeconds: 3 });
    expect(statusError('GET u', 504, '', undefined).retryable).toBe(true);
    expect(statusError('GET u', 401, '', undefined).retryable).toBe(false);
  });

  test('parseRows accepts an array of objects only', () => {
    expect(parseRows('GET u', '[{"a":1}]', 'application/json')).toEqual([{ a: 1 }]);
    expect(parseRows('GET u', '[]', undefined)).toEqual([]);
    expect(() => parseRows('GET u', '[{"a":1}', 'application/json')).toThrow(/not valid JSON \(8 bytes, likely truncated\) for GET u/);
    expect(() => parseRows('GET u', '<html><title>Down</title></html>', 'text/html')).toThrow(/HTML page instead of JSON for GET u: Down/);
    expect(() => parseRows('GET u', '{"errors":{}}', 'application/json')).toThrow(/not an array/);
    expect(() => parseRows('GET u', '[1]', 'application/json')).toThrow(/row 0/);
  });

  test("a body that is not JSON is reported by position, never with V8's excerpt of it (a caller's data)", () => {
    const bodies = [
      '[{"name": "Anaïs Smithers", "x": NaN}]',
      '[{"calling_phone_number": "805-555-0142"',
      '[{"email": "ana@example.com",,}]',
    ];
    for (const body of bodies) {
      let message = '';
      try {
        parseRows('GET u', body, 'application/json');
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/^Invoca sent a body that is not valid JSON \(\d+ bytes, likely truncated\) for GET u: /);
      for (const piece of ['Smithers', '805-555', 'example.com', 'NaN']) expect(message).not.toContain(piece);
    }
  });
});

test('transaction type spellings map to the filter values', () => {
  expect(toTransactionTypeFilter('Post Call Event')).toBe('PostCallEvent');
  expect(toTransactionTypeFilter('Reported Conversion')).toBe('Sale');
  expect(toTransactionTypeFilter('call')).toBe('Call');
  expect(toTransactionTypeFilter('Transfer')).toBeUndefined();
});
