/**
 * The Invoca client against the simulator over loopback: no mocked HTTP anywhere.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { ApiStatusError, TapInvocaError } from '../../src/errors.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { clientFor, readAll, simulator, TEST_TOKEN } from '../helpers/simulator.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function failure(promise: Promise<unknown>): Promise<TapInvocaError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TapInvocaError) return error;
    throw error;
  }
  throw new Error('expected the request to fail');
}

describe('paging', () => {
  test.each([
    { rows: 0, pageSize: 10, requests: 1 },
    { rows: 1, pageSize: 10, requests: 1 },
    { rows: 10, pageSize: 10, requests: 2 },
    { rows: 25, pageSize: 10, requests: 3 },
    { rows: 30, pageSize: 10, requests: 4 },
  ])('$rows rows with limit $pageSize: every row once, $requests requests', async ({ rows, pageSize, requests }) => {
    sim = await simulator({ rows });
    const { client } = clientFor(sim, { pageSize });
    const result = await readAll(client);
    expect(result.rows.map((row) => row['transaction_id'])).toEqual(
      Array.from({ length: rows }, (_, index) => sim?.feed.transactionId(index)),
    );
    expect(client.requestCount).toBe(requests);
    expect(sim.stats().recentUrls[0]).toContain(`limit=${pageSize}`);
    await client.close();
  });

  test('a 100,000-row feed yields every row once, in feed order', async () => {
    sim = await simulator({ rows: 100_000, seed: 11 });
    const { client } = clientFor(sim);
    const ids: string[] = [];
    for await (const page of client.pages()) for (const row of page.rows) ids.push(String(row['transaction_id']));
    expect(ids.length).toBe(100_000);
    expect(new Set(ids).size).toBe(100_000);
    for (let index = 0; index < ids.length; index++) {
      if (ids[index] !== sim.feed.transactionId(index)) throw new Error(`row ${index} out of order`);
    }
    // Ids are opaque: their string order is not the feed order.
    expect([...ids].sort()).not.toEqual(ids);
    expect(client.requestCount).toBe(26);
    await client.close();
  }, 120_000);

  test('resumes after a cursor and clamps limit to 1..4000', async () => {
    sim = await simulator({ rows: 50 });
    const { client } = clientFor(sim, { pageSize: 99_999 });
    const cursor = sim.feed.transactionId(19);
    const { rows } = await readAll(client, { startAfterTransactionId: cursor });
    expect(rows[0]?.['transaction_id']).toBe(sim.feed.transactionId(20));
    expect(rows).toHaveLength(30);
    expect(sim.stats().recentUrls[0]).toContain('limit=4000');
    const small = clientFor(sim, { pageSize: 0 }).client;
    await small.fetchPage();
    expect(sim.stats().recentUrls.at(-1)).toContain('limit=1&');
    await Promise.all([client.close(), small.close()]);
  });

  test('rows appended while the simulator runs are read from the cursor on', async () => {
    sim = await simulator({ rows: 40 });
    const { client } = clientFor(sim);
    const first = await readAll(client);
    sim.append(15);
    const cursor = String(first.rows.at(-1)?.['transaction_id']);
    const second = await readAll(client, { startAfterTransactionId: cursor });
    expect(second.rows.map((row) => row['transaction_id'])).toEqual(
      Array.from({ length: 15 }, (_, index) => sim?.feed.transactionId(40 + index)),
    );
    await client.close();
  });

  test('a date window returns the calls that started on those local dates, in call start order', async () => {
    sim = await simulator({ rows: 5000, rowsPerDay: 1000 });
    const { client } = clientFor(sim, { pageSize: 300 });
    const { rows } = await readAll(client, { from: '2026-01-02', to: '2026-01-02' });
    expect(rows.length).toBeGreaterThan(900);
    const starts = rows.map((row) => Number(row['start_time_utc']));
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    for (const row of rows) expect(String(row['start_time_local']).slice(0, 10)).toBe('2026-01-02');
    expect(sim.stats().recentUrls[0]).toContain('from=2026-01-02&to=2026-01-02');
    await client.close();
  });
});

describe('filters and columns', () => {
  test.each([
    { filter: 'Call' as const, types: ['Call'] },
    { filter: 'PostCallEvent' as const, types: ['Post Call Event'] },
    { filter: 'Sale' as const, types: ['Sale', 'Reported Conversion'] },
  ])('transaction_type[]=$filter', async ({ filter, types }) => {
    sim = await simulator({ rows: 2000 });
    const { client } = clientFor(sim, { transactionTypes: [filter], pageSize: 500 });
    const { rows } = await readAll(client);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(types).toContain(row['transaction_type']);
    const everything = await readAll(clientFor(sim).client);
    expect(rows.length).toBe(everything.rows.filter((row) => types.includes(String(row['transaction_type']))).length);
    expect(sim.stats().recentUrls[0]).toContain(`transaction_type[]=${filter}`);
    await client.close();
  });

  test('include_columns names with spaces are URL-encoded; the merge columns always come back', async () => {
    sim = await simulator({ rows: 20 });
    const { client, logger } = clientFor(sim, {
      includeColumns: ['Purchase Made', 'city'],
      excludeColumns: ['transaction_id', 'complete_call_id'],
    });
    const page = await client.fetchPage();
    const keys = Object.keys(page.rows[0] ?? {}).sort();
    expect(keys).toEqual(
      [
        'Purchase Made',
        'city',
        'complete_call_id',
        'corrected_at',
        'corrects_transaction_id',
        'start_time_utc',
        'transaction_id',
        'transaction_type',
      ].sort(),
    );
    expect(sim.stats().recentUrls[0]).toContain('include_columns=Purchase%20Made,city,transaction_id');
    expect(sim.stats().recentUrls[0]).not.toContain('exclude_columns');
    expect(logger.lines.join('\n')).toContain("'transaction_id' is needed by the correction merge");
    await client.close();
  });

  test('exclude_columns and the $invoca_* constants', async () => {
    sim = await simulator({ rows: 20 });
    const { client } = clientFor(sim, {
      includeColumns: ['$invoca_custom_columns', '$invoca_custom_source_columns'],
      excludeColumns: ['$invoca_default_columns', 'Lead Score'],
    });
    const row = (await client.fetchPage()).rows[0] ?? {};
    expect(row).toHaveProperty(['Purchase Made']);
    expect(row).toHaveProperty(['Purchase Made.source']);
    expect(row).not.toHaveProperty(['Lead Score']);
    expect(row).not.toHaveProperty(['city']);
    expect(row).toHaveProperty(['transaction_id']);
    expect(row).toHaveProperty(['start_time_utc']);
    expect(sim.stats().recentUrls[0]).toContain('exclude_columns=$invoca_default_columns,Lead%20Score');
    await client.close();
  });

  test('affiliate accounts do not ask for custom data, which their role cannot see', async () => {
    sim = await simulator({ rows: 20, accountType: 'affiliate' });
    const { client, logger } = clientFor(sim, { accountType: 'affiliate' });
    const page = await client.fetchPage();
    expect(page.rows).toHaveLength(20);
    expect(page.rows[0]).not.toHaveProperty('custom_data');
    expect(sim.stats().recentUrls[0]).toMatch(/\/affiliates\/transactions\/4321\.json\?/);
    expect(logger.lines.join('\n')).toContain('affiliate accounts have no custom data');
    await client.close();
  });
});

describe('faults that a retry recovers', () => {
  test.each([
    { name: '429 with Retry-After', fault: { kind: 'status' as const, status: 429, retryAfter: '0', times: 2 } },
    { name: '429 without Retry-After', fault: { kind: 'status' as const, status: 429, times: 2 } },
    { name: '500', fault: { kind: 'status' as const, status: 500 } },
    { name: '502 with an HTML body', fault: { kind: 'status' as const, status: 502 } },
    { name: '503', fault: { kind: 'status' as const, status: 503, retryAfter: '0' } },
    { name: '504 with an HTML body', fault: { kind: 'status' as const, status: 504 } },
    { name: 'an HTML page with status 200', fault: { kind: 'html' as const } },
    { name: 'truncated JSON', fault: { kind: 'truncated' as const } },
    { name: 'a JSON object instead of an array', fault: { kind: 'not-array' as const } },
    { name: 'a connection reset mid-body', fault: { kind: 'reset' as const } },
    { name: 'an answer slower than the timeout', fault: { kind: 'latency' as const, delayMs: 1500 } },
  ])('$name', async ({ fault }) => {
    sim = await simulator({ rows: 30, faults: [{ ...fault, after: 1 }] });
    const { client, logger } = clientFor(sim, { pageSize: 10, requestTimeoutMs: 500 });
    const { rows } = await readAll(client);
    expect(rows.map((row) => row['transaction_id'])).toEqual(Array.from({ length: 30 }, (_, index) => sim?.feed.transactionId(index)));
    const retries = logger.lines.filter((line) => line.startsWith('WARN') && line.includes('retry'));
    expect(retries).toHaveLength(fault.times ?? 1);
    expect(retries[0]).toMatch(/retry 1\/3 in \d+\.\d\ds/);
    expect(retries[0]).toContain('start_after_transaction_id=');
    expect(client.requestCount).toBe(4 + (fault.times ?? 1));
    await client.close();
  });

  test('Retry-After is honoured', async () => {
    sim = await simulator({ rows: 5, faults: [{ kind: 'status', status: 429, retryAfter: '1' }] });
    const { client, logger } = clientFor(sim);
    const started = Date.now();
    await client.fetchPage();
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(logger.lines.join('\n')).toContain('retry 1/3 in 1.00s');
    await client.close();
  });

  test('a fault that outlives the retries fails with the last error, after max_retries + 1 requests', async () => {
    sim = await simulator({ rows: 5, faults: [{ kind: 'status', status: 503, times: 10 }] });
    const { client } = clientFor(sim, { maxRetries: 2 });
    const error = await failure(client.fetchPage());
    expect(error.code).toBe('ERR_API_STATUS');
    expect(error.exitCode).toBe(1);
    expect(error.message).toMatch(
      /^Invoca answered HTTP 503 to GET http:\/\/127\.0\.0\.1:\d+\/api\/2020-10-01\/networks\/transactions\/4321\.json\?limit=4000/,
    );
    expect(error.message).toContain('(gave up after 2 retries)');
    expect(client.requestCount).toBe(3);
    await client.close();
  });

  test('a refused connection is retried, then reported', async () => {
    sim = await simulator({ rows: 1 });
    const { client } = clientFor(sim, { maxRetries: 1 });
    await sim.close();
    sim = undefined;
    const error = await failure(client.fetchPage());
    expect(error.code).toBe('ERR_API_NETWORK');
    expect(error.message).toContain('Connection to Invoca failed');
    expect(client.requestCount).toBe(2);
    await client.close();
  });

  test('a timeout that outlives the retries is ERR_API_TIMEOUT and names the setting', async () => {
    sim = await simulator({ rows: 1, faults: [{ kind: 'latency', delayMs: 1000, times: 5 }] });
    const { client } = clientFor(sim, { maxRetries: 1, requestTimeoutMs: 200 });
    const error = await failure(client.fetchPage());
    expect(error.code).toBe('ERR_API_TIMEOUT');
    expect(error.message).toContain('request_timeout_seconds (0.2s)');
    await client.close();
  });
});

describe('statuses that no retry fixes', () => {
  test.each([
    { name: '401: a wrong token', overrides: { apiToken: 'not-the-token' }, status: 401, advice: 'check api_token' },
    { name: '400: an unknown api_version', overrides: { apiVersion: '2099-01-01' }, status: 400, advice: 'check api_version' },
    {
      name: '403: a role the token does not have',
      overrides: { accountType: 'advertiser' as const },
      status: 403,
      advice: 'may read this account',
    },
    { name: '404: another account id', overrides: { accountId: '999' }, status: 404, advice: 'check account_id' },
  ])('$name fails at once', async ({ overrides, status, advice }) => {
    sim = await simulator({ rows: 5 });
    const { client, logger } = clientFor(sim, overrides);
    const error = await failure(client.fetchPage());
    expect(error).toBeInstanceOf(ApiStatusError);
    expect((error as ApiStatusError).status).toBe(status);
    expect(error.message).toContain(advice);
    expect(error.message).not.toContain('\n');
    expect(client.requestCount).toBe(1);
    expect(logger.lines).toEqual([]);
    await client.close();
  });

  test('an unknown start_after_transaction_id is a 403 that names it', async () => {
    sim = await simulator({ rows: 5 });
    const { client } = clientFor(sim);
    const error = await failure(client.fetchPage({ startAfterTransactionId: 'FFFFFFFF-FFFFFFFF' }));
    expect(error.message).toContain('start_after_transaction_id FFFFFFFF-FFFFFFFF was not found');
    await client.close();
  });
});

test('the token travels only in the Authorization header, raw, and never in a log line or error', async () => {
  sim = await simulator({
    rows: 30,
    faults: [
      { kind: 'status', status: 429, retryAfter: '0' },
      { kind: 'html' },
      { kind: 'truncated' },
      { kind: 'reset' },
      { kind: 'status', status: 500, times: 9 },
    ],
  });
  const { client, logger } = clientFor(sim, { pageSize: 10, maxRetries: 4 });
  const error = await failure(readAll(client));
  const everything = [...logger.lines, error.message, String(error.stack), ...sim.stats().recentUrls].join('\n');
  expect(logger.lines.length).toBeGreaterThanOrEqual(4);
  expect(everything).not.toContain(TEST_TOKEN);
  expect(sim.stats().tokenInUrl).toBe(0);
  await client.close();
});
