/**
 * The simulator itself: the feed has the shape Invoca's documentation describes (docs/design.md), the CLI starts as the
 * README says, and the control routes work over HTTP.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, test } from '@jest/globals';
import { Feed } from '../../src/simulator/feed.js';
import { PACKAGE_VERSION } from '../../src/paths.js';
import { NARROW_FIELDS } from '../../src/simulator/server.js';
import { simulator, TEST_ACCOUNT, TEST_TOKEN } from '../helpers/simulator.js';
import { runProcess } from '../helpers/tools.js';

const feed = new Feed({
  seed: 3,
  rows: 20_000,
  rowsPerDay: 1000,
  startMs: Date.parse('2026-01-01T08:00:00Z'),
  utcOffsetMinutes: -420,
  emptyDays: ['2026-01-05'],
  lateColumnAt: 15_000,
  correctionTarget: 'root',
});
const rows = Array.from({ length: feed.count }, (_, index) => feed.row(index));

describe('the simulated feed', () => {
  test('ids are unique, opaque and map back to their row', () => {
    const ids = rows.map((row) => String(row['transaction_id']));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[0-9A-F]{8}-[0-9A-F]{8}$/);
    expect([...ids].sort()).not.toEqual(ids);
    expect(ids.every((id, index) => feed.indexOf(id) === index)).toBe(true);
    expect(feed.indexOf('00000000-00000000')).toBeUndefined();
  });

  test('corrections come pages after their original, some twice, some within one second', () => {
    const corrections = rows.filter((row) => typeof row['corrects_transaction_id'] === 'string' && row['corrects_transaction_id'] !== '');
    expect(corrections.length).toBeGreaterThan(feed.count * 0.15);
    const distances = corrections.map(
      (row) => (feed.indexOf(String(row['transaction_id'])) ?? 0) - (feed.indexOf(String(row['corrects_transaction_id'])) ?? 0),
    );
    expect(distances.every((distance) => distance > 0)).toBe(true);
    expect(distances.filter((distance) => distance > 4000).length).toBeGreaterThan(0);
    const byOriginal = new Map<unknown, Record<string, unknown>[]>();
    for (const row of corrections)
      byOriginal.set(row['corrects_transaction_id'], [...(byOriginal.get(row['corrects_transaction_id']) ?? []), row]);
    const twice = [...byOriginal.values()].filter((list) => list.length >= 2);
    expect(twice.length).toBeGreaterThan(100);
    expect(twice.some((list) => list[0]?.['corrected_at'] === list[1]?.['corrected_at'])).toBe(true);
    // A correction names an original, keeps its call and type.
    for (const row of corrections.slice(0, 500)) {
      const original = rows[feed.indexOf(String(row['corrects_transaction_id'])) ?? -1] ?? {};
      expect(original['corrects_transaction_id'] ?? '').toBe('');
      expect(row['complete_call_id']).toBe(original['complete_call_id']);
      expect(row['transaction_type']).toBe(original['transaction_type']);
    }
  });

  test('two-leg calls, post call events, Sale and Reported Conversion rows', () => {
    const callLegs = new Map<unknown, number>();
    for (const row of rows) {
      if (row['transaction_type'] === 'Call' && !row['corrects_transaction_id']) {
        callLegs.set(row['complete_call_id'], (callLegs.get(row['complete_call_id']) ?? 0) + 1);
      }
    }
    expect([...callLegs.values()].filter((legs) => legs === 2).length).toBeGreaterThan(500);
    expect(Math.max(...callLegs.values())).toBe(2);
    const types = new Set(rows.map((row) => row['transaction_type']));
    expect([...types].sort()).toEqual(['Call', 'Post Call Event', 'Reported Conversion', 'Sale']);
    // Every non-call row belongs to a call that came before it.
    for (const row of rows) expect(callLegs.has(row['complete_call_id'])).toBe(true);
  });

  test('numbers as strings, "" and null, custom columns with spaces, a column new mid-feed', () => {
    expect(rows.some((row) => typeof row['duration'] === 'string')).toBe(true);
    expect(rows.some((row) => typeof row['start_time_utc'] === 'string')).toBe(true);
    expect(rows.some((row) => typeof row['advertiser_payin_localized'] === 'number')).toBe(true);
    expect(rows.some((row) => row['affiliate_name'] === '')).toBe(true);
    expect(rows.some((row) => row['affiliate_name'] === null)).toBe(true);
    expect(rows[0]).toHaveProperty(['Purchase Made']);
    expect(rows.findIndex((row) => 'Coupon Code' in row)).toBe(15_000);
  });

  test('call start times increase and skip the empty day', () => {
    let previous = 0;
    for (let index = 0; index < feed.count; index++) {
      const start = feed.callStartMs(index);
      expect(start).toBeGreaterThan(previous);
      previous = start;
    }
    expect(rows.some((row) => String(row['start_time_local']).startsWith('2026-01-05'))).toBe(false);
    expect(rows.some((row) => String(row['start_time_local']).startsWith('2026-01-06'))).toBe(true);
  });

  test('appending never changes the rows already served', () => {
    const longer = new Feed({ ...feed.options, rows: 100 });
    const before = JSON.stringify(longer.row(99));
    longer.append(50);
    expect(JSON.stringify(longer.row(99))).toBe(before);
    expect(longer.count).toBe(150);
  });

  test('with correctionTarget "previous", a second correction names the first', () => {
    const chained = new Feed({ ...feed.options, correctionTarget: 'previous' });
    const chains = rows.filter((_, index) => {
      if (chained.kind(index) !== 'correction') return false;
      return chained.kind(chained.correctedIndex(index)) === 'correction';
    });
    expect(chains.length).toBeGreaterThan(100);
  });
});

describe('the simulator over HTTP', () => {
  test('control routes: append, faults, stats; pre-2020 versions return Signal rows', async () => {
    const sim = await simulator({ rows: 200 });
    try {
      const base = `${sim.url}`;
      expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok');
      await fetch(`${base}/_sim/append`, { method: 'POST', body: JSON.stringify({ rows: 5 }) });
      expect(sim.feed.count).toBe(205);
      const bad = await fetch(`${base}/_sim/faults`, { method: 'POST', body: JSON.stringify([{ kind: 'nope' }]) });
      expect(bad.status).toBe(400);
      await fetch(`${base}/_sim/faults`, { method: 'POST', body: JSON.stringify([{ kind: 'status', status: 503 }]) });
      const path = `/api/2019-05-01/networks/transactions/${TEST_ACCOUNT}.json?limit=4000`;
      expect((await fetch(`${base}${path}`, { headers: { authorization: TEST_TOKEN } })).status).toBe(503);
      const old = (await (await fetch(`${base}${path}`, { headers: { authorization: TEST_TOKEN } })).json()) as Record<string, unknown>[];
      expect(old).toHaveLength(205);
      expect(old.some((row) => row['transaction_type'] === 'Signal')).toBe(true);
      expect(old.some((row) => row['transaction_type'] === 'Post Call Event')).toBe(false);
      const bearer = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
      expect(bearer.status).toBe(401);
      const stats = (await (await fetch(`${base}/_sim/stats`)).json()) as Record<string, unknown>;
      expect(stats).toMatchObject({ transactionRequests: 3, faultsServed: 1, feedRows: 205, tokenInUrl: 0 });
    } finally {
      await sim.close();
    }
  });

  test('--narrow rows carry the narrow fields only, with the same values as the full feed', async () => {
    const full = await simulator({ rows: 300, seed: 4 });
    const narrow = await simulator({ rows: 300, seed: 4, narrow: true });
    try {
      const path = `/api/2020-10-01/networks/transactions/${TEST_ACCOUNT}.json?limit=4000`;
      const read = async (url: string): Promise<Record<string, unknown>[]> =>
        (await (await fetch(`${url}${path}`, { headers: { authorization: TEST_TOKEN } })).json()) as Record<string, unknown>[];
      const [wide, slim] = [await read(full.url), await read(narrow.url)];
      expect(slim).toHaveLength(wide.length);
      for (const [index, row] of slim.entries()) {
        expect(Object.keys(row).every((key) => NARROW_FIELDS.includes(key))).toBe(true);
        expect(row).toEqual(Object.fromEntries(Object.entries(wide[index] ?? {}).filter(([key]) => NARROW_FIELDS.includes(key))));
      }
      expect(Math.max(...slim.map((row) => Object.keys(row).length))).toBe(NARROW_FIELDS.length);
      expect(Math.min(...wide.map((row) => Object.keys(row).length))).toBeGreaterThan(2 * NARROW_FIELDS.length);
    } finally {
      await full.close();
      await narrow.close();
    }
  });

  test('the CLI prints "listening on <url>" and serves the feed', async () => {
    const child = spawn(process.execPath, [
      'dist/src/bin/invoca-simulator.js',
      '--port',
      '0',
      '--rows',
      '3',
      '--seed',
      '5',
      '--token',
      TEST_TOKEN,
      '--account-id',
      TEST_ACCOUNT,
    ]);
    const exited = once(child, 'exit');
    try {
      const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
      const match = /^listening on (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(chunk.toString());
      expect(match).not.toBeNull();
      const response = await fetch(`${match?.[1]}/api/2020-10-01/networks/transactions/${TEST_ACCOUNT}.json`, {
        headers: { authorization: TEST_TOKEN },
      });
      expect(((await response.json()) as unknown[]).length).toBe(3);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
  });

  test('the CLI rejects a bad flag with one line and exit 2', async () => {
    const child = spawn(process.execPath, ['dist/src/bin/invoca-simulator.js', '--token', 't', '--account-id', '1', '--utc-offset', 'PST']);
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(stderr).toBe('CRITICAL invoca-simulator: --utc-offset must look like -07:00 [ERR_USAGE]\n');
  });

  test('the CLI answers --version and --help like the other bins', async () => {
    const version = await runProcess(process.execPath, ['dist/src/bin/invoca-simulator.js', '--version']);
    expect([version.code, version.stdout]).toEqual([0, `invoca-simulator ${PACKAGE_VERSION}\n`]);
    const help = await runProcess(process.execPath, ['dist/src/bin/invoca-simulator.js', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--version +Print the version/);
  });
});
