/**
 * tap-invoca end to end against the simulator over loopback: `run` in-process for most cases,
 * the real bin as a child process for exit codes and signals.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, test } from '@jest/globals';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { simulator, TEST_TOKEN } from '../helpers/simulator.js';
import { bookmarkOf, jsonFile, lastState, parseLines, runTap, tapConfig } from '../helpers/tap.js';
import { EXPECTED_MERGE_COLUMNS } from '../helpers/merge-columns.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

function feedIds(from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, offset) => sim?.feed.transactionId(from + offset) ?? '');
}

const ids = (records: Record<string, unknown>[]): unknown[] => records.map((record) => record['transaction_id']);

describe('sync', () => {
  test('100,000 rows: every row once, in feed order; the next run emits only the rows appended since', async () => {
    sim = await simulator({ rows: 100_000, seed: 21 });
    const config = await jsonFile(tapConfig(sim));
    const first = await runTap(['--config', config]);
    expect(first.code).toBe(0);
    expect(first.records).toHaveLength(100_000);
    const firstIds = ids(first.records);
    for (let index = 0; index < firstIds.length; index++) {
      if (firstIds[index] !== sim.feed.transactionId(index)) throw new Error(`record ${index} is not feed row ${index}`);
    }
    // One STATE per page and a final one; each after the records it covers.
    expect(first.states).toHaveLength(26);
    expect(first.messages.at(-1)?.['type']).toBe('STATE');
    expect(bookmarkOf(lastState(first)).replication_key_value).toBe(sim.feed.transactionId(99_999));

    sim.append(1234);
    const second = await runTap(['--config', config, '--state', await jsonFile(lastState(first))]);
    expect(ids(second.records)).toEqual(feedIds(100_000, 101_234));
    const third = await runTap(['--config', config, '--state', await jsonFile(lastState(second))]);
    expect(third.records).toHaveLength(0);
    // The same cursor and sequence; only the time of the poll moves on.
    expect(bookmarkOf(lastState(third))).toEqual({ ...bookmarkOf(lastState(second)), last_poll_started_at: expect.any(String) });
  }, 120_000);

  test('a STATE follows the records of its page, and points at the last of them', async () => {
    sim = await simulator({ rows: 250 });
    const output = await runTap(['--config', await jsonFile(tapConfig(sim, { page_size: 100 }))]);
    let lastRecordId: unknown;
    for (const message of output.messages) {
      if (message['type'] === 'RECORD') lastRecordId = (message['record'] as Record<string, unknown>)['transaction_id'];
      if (message['type'] === 'STATE')
        expect(bookmarkOf(message['value'] as Record<string, unknown>).replication_key_value).toBe(lastRecordId);
    }
    expect(output.states).toHaveLength(4);
  });

  test('_invoca_sequence increases within a run, across runs, and after a lost state', async () => {
    sim = await simulator({ rows: 300 });
    const config = await jsonFile(tapConfig(sim, { page_size: 100 }));
    const first = await runTap(['--config', config]);
    sim.append(50);
    const resumed = await runTap(['--config', config, '--state', await jsonFile(lastState(first))]);
    const lost = await runTap(['--config', config]);
    const sequences = [...first.records, ...resumed.records, ...lost.records].map((record) => record['_invoca_sequence'] as number);
    for (let index = 1; index < sequences.length; index++) expect(sequences[index]).toBeGreaterThan(sequences[index - 1] as number);
    expect(bookmarkOf(lastState(first)).sequence).toBe(first.records.at(-1)?.['_invoca_sequence']);
    expect(Math.max(...sequences)).toBeLessThan(2 ** 53);
  });

  test('a state with only a sequence (no cursor) continues the sequence', async () => {
    sim = await simulator({ rows: 5 });
    const future = Date.now() * 1000 + 10 ** 12;
    const output = await runTap([
      '--config',
      await jsonFile(tapConfig(sim)),
      '--state',
      await jsonFile({ bookmarks: { transactions: { sequence: future } } }),
    ]);
    expect(output.records[0]?.['_invoca_sequence']).toBe(future + 1);
    expect(output.records).toHaveLength(5);
  });

  test('records are normalised: numbers, empty values, UTC timestamps, custom columns as strings', async () => {
    sim = await simulator({ rows: 400 });
    const { records } = await runTap(['--config', await jsonFile(tapConfig(sim))]);
    for (const record of records) {
      expect(typeof record['duration']).toBe('number');
      expect(typeof record['start_time_utc']).toBe('number');
      expect(record['start_time']).toBe(new Date(record['start_time_utc'] as number).toISOString());
      const payin = record['advertiser_payin_localized'];
      expect(payin === null || typeof payin === 'number').toBe(true);
      for (const custom of ['Purchase Made', 'Lead Score', 'Appointment Booked', 'utm_source']) {
        expect(record[custom] === null || typeof record[custom] === 'string').toBe(true);
      }
      if (record['corrected_at']) {
        expect(record['corrected_at_utc']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/);
      } else {
        expect(record['corrected_at_utc']).toBeNull();
      }
    }
    expect(records.some((record) => record['Purchase Made'] === '1')).toBe(true);
    expect(records.some((record) => record['affiliate_payout_localized'] === null)).toBe(true);
    expect(records.some((record) => record['affiliate_name'] === '')).toBe(true);
    expect(records.some((record) => Array.isArray(record['custom_data']))).toBe(true);
  });

  test('stdout is ASCII-only JSON: unicode arrives escaped and decodes to the original', async () => {
    sim = await simulator({ rows: 200 });
    const output = await runTap(['--config', await jsonFile(tapConfig(sim))]);
    expect(/^[\x00-\x7f]*$/.test(output.stdout)).toBe(true);
    expect(output.stdout).toContain('Z\\u00fcrich Dental \\ud83e\\uddb7');
    expect(output.records.some((record) => record['advertiser_name'] === 'Zürich Dental 🦷')).toBe(true);
  });

  test('a custom column that appears mid-feed: an updated SCHEMA right before its first record', async () => {
    sim = await simulator({ rows: 600, lateColumnAt: 350 });
    const catalog = await runTap(['--config', await jsonFile(tapConfig(sim)), '--discover']);
    const output = await runTap([
      '--config',
      await jsonFile(tapConfig(sim, { page_size: 100 })),
      '--catalog',
      await jsonFile(JSON.parse(catalog.stdout)),
    ]);
    const schemas = output.messages.map((message, index) => [message, index] as const).filter(([message]) => message['type'] === 'SCHEMA');
    expect(schemas).toHaveLength(2);
    const [, changeAt] = schemas[1] ?? [];
    const next = output.messages[(changeAt ?? 0) + 1]?.['record'] as Record<string, unknown>;
    expect(next['transaction_id']).toBe(sim.feed.transactionId(350));
    expect(next['Coupon Code']).toMatch(/^SAVE\d+$/);
    const schema = schemas[1]?.[0]['schema'] as { properties: Record<string, unknown> };
    expect(schema.properties['Coupon Code']).toEqual({ type: ['null', 'string'] });
    expect((schemas[0]?.[0]['schema'] as { properties: Record<string, unknown> } | undefined)?.properties).not.toHaveProperty([
      'Coupon Code',
    ]);
  });
});

describe('discovery and selection', () => {
  test('--discover lists the custom columns; catalog.json equals the output for an account without them', async () => {
    sim = await simulator({ rows: 0 });
    const empty = await runTap(['--config', await jsonFile(tapConfig(sim)), '--discover']);
    expect(empty.code).toBe(0);
    expect(JSON.parse(empty.stdout)).toEqual(JSON.parse(await readFile('catalog.json', 'utf8')));
    await sim.close();

    sim = await simulator({ rows: 10 });
    const discovered = JSON.parse((await runTap(['--config', await jsonFile(tapConfig(sim)), '--discover'])).stdout) as {
      streams: {
        schema: { properties: Record<string, unknown> };
        metadata: { breadcrumb: string[]; metadata: Record<string, unknown> }[];
      }[];
    };
    const stream = discovered.streams[0];
    expect(stream?.schema.properties['Purchase Made']).toEqual({ type: ['null', 'string'] });
    const inclusion = (field: string): unknown => stream?.metadata.find((entry) => entry.breadcrumb[1] === field)?.metadata['inclusion'];
    for (const field of EXPECTED_MERGE_COLUMNS) {
      expect(inclusion(field)).toBe('automatic');
    }
    expect(inclusion('city')).toBe('available');
    expect(sim.stats().recentUrls[0]).toContain('limit=1&');
  });

  test('the discovered catalog round-trips as --catalog; deselected fields are neither requested nor emitted', async () => {
    sim = await simulator({ rows: 30 });
    const config = await jsonFile(tapConfig(sim));
    const catalog = JSON.parse((await runTap(['--config', config, '--discover'])).stdout) as {
      streams: { metadata: { breadcrumb: string[]; metadata: Record<string, unknown> }[] }[];
    };
    for (const entry of catalog.streams[0]?.metadata ?? []) {
      if (['city', 'Lead Score', 'start_time', 'transaction_type'].includes(entry.breadcrumb[1] ?? '')) entry.metadata['selected'] = false;
    }
    const output = await runTap(['--config', config, '--catalog', await jsonFile(catalog)]);
    expect(output.records).toHaveLength(30);
    for (const record of output.records) {
      expect(record).not.toHaveProperty('city');
      expect(record).not.toHaveProperty(['Lead Score']);
      expect(record).not.toHaveProperty('start_time');
      expect(record).toHaveProperty('transaction_type');
      expect(record).toHaveProperty(['Purchase Made']);
    }
    expect(output.messages.filter((message) => message['type'] === 'SCHEMA')).toHaveLength(1);
    expect(sim.stats().recentUrls.at(-1)).toMatch(/&exclude_columns=city,Lead%20Score$/);
  });

  test('an unselected stream emits nothing', async () => {
    sim = await simulator({ rows: 30 });
    const config = await jsonFile(tapConfig(sim));
    const catalog = JSON.parse((await runTap(['--config', config, '--discover'])).stdout) as {
      streams: { metadata: { breadcrumb: string[]; metadata: Record<string, unknown> }[] }[];
    };
    const streamEntry = catalog.streams[0]?.metadata.find((entry) => entry.breadcrumb.length === 0);
    if (streamEntry) streamEntry.metadata['selected'] = false;
    const output = await runTap(['--config', config, '--properties', await jsonFile(catalog)]);
    expect(output.code).toBe(0);
    expect(output.stdout).toBe('');
    expect(sim.stats().transactionRequests).toBe(1);
  });
});

describe('start_date', () => {
  function firstIndexOfDay(day: string): number {
    const feed = sim?.feed;
    if (!feed) throw new Error('no simulator');
    return feed.firstIndexStartingAt(feed.localDayStartMs(day));
  }

  test('a first sync starts after the first call of the day before, and holds every transaction of later calls', async () => {
    sim = await simulator({ rows: 8000, rowsPerDay: 1000 });
    const output = await runTap(['--config', await jsonFile(tapConfig(sim, { start_date: '2026-01-05' }))]);
    const anchor = firstIndexOfDay('2026-01-04');
    expect(sim.feed.kind(anchor)).toBe('call');
    expect(ids(output.records)).toEqual(feedIds(anchor + 1, 8000));
    const emitted = new Set(ids(output.records));
    const startOfDay = sim.feed.localDayStartMs('2026-01-05');
    for (let index = 0; index < 8000; index++) {
      if (sim.feed.callStartMs(sim.feed.callIndex(index)) >= startOfDay) expect(emitted.has(sim.feed.transactionId(index))).toBe(true);
    }
    expect(output.stderr.join('\n')).toContain('start_date 2026-01-05: starting after');
  });

  test('an empty day before start_date: the anchor comes from the day before that', async () => {
    sim = await simulator({ rows: 8000, rowsPerDay: 1000, emptyDays: ['2026-01-04'] });
    const output = await runTap(['--config', await jsonFile(tapConfig(sim, { start_date: '2026-01-05T00:00:00Z' }))]);
    const anchor = firstIndexOfDay('2026-01-03');
    expect(output.records[0]?.['transaction_id']).toBe(sim.feed.transactionId(anchor + 1));
    expect(output.stderr.join('\n')).toContain('no call on 2026-01-04, looking one day earlier');
  });

  test('a start_date before the first call reads from the beginning; a later sync resumes from the state alone', async () => {
    sim = await simulator({ rows: 500 });
    const config = await jsonFile(tapConfig(sim, { start_date: '2025-12-30' }));
    const output = await runTap(['--config', config]);
    expect(ids(output.records)).toEqual(feedIds(0, 500));
    expect(sim.stats().recentUrls.filter((url) => url.includes('from=')).length).toBe(31);
    sim.append(100);
    const later = await runTap(['--config', config, '--state', await jsonFile(lastState(output))]);
    expect(ids(later.records)).toEqual(feedIds(500, 600));
    expect(sim.stats().recentUrls.filter((url) => url.includes('from=')).length).toBe(31);
    // The late rows include corrections and events of calls from the first run.
    expect(later.records.some((record) => record['corrects_transaction_id'])).toBe(true);
  });
});

describe('modes and errors', () => {
  test('--about as JSON and Markdown, --version, --help', async () => {
    const about = await runTap(['--about', '--format', 'json']);
    const parsed = JSON.parse(about.stdout) as {
      name: string;
      capabilities: string[];
      settings: { properties: Record<string, { secret?: boolean }> };
    };
    expect(parsed.name).toBe('tap-invoca');
    expect(parsed.capabilities).toEqual(['catalog', 'discover', 'state', 'about', 'test']);
    expect(parsed.settings.properties['api_token']?.secret).toBe(true);
    const markdown = await runTap(['--about', '--format', 'markdown']);
    expect(markdown.stdout).toContain('| page_size | False | 4000 |');
    expect((await runTap(['--version'])).stdout).toMatch(/^tap-invoca \d+\.\d+\.\d+\n$/);
    expect((await runTap(['--help'])).stdout).toContain('--discover');
  });

  test('--test reads one record and exits 0; with a wrong token it exits 1 with the reason', async () => {
    sim = await simulator({ rows: 50 });
    const ok = await runTap(['--config', await jsonFile(tapConfig(sim)), '--test']);
    expect(ok.code).toBe(0);
    expect(ok.records).toHaveLength(1);
    expect(ok.states).toHaveLength(0);
    const bad = await runTap(['--config', await jsonFile(tapConfig(sim, { api_token: 'wrong-token-123' })), '--test']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.at(-1)).toMatch(/^CRITICAL tap-invoca: Invoca answered HTTP 401 .*check api_token.* \[ERR_API_STATUS\]$/);
    expect(bad.stderr.join('\n')).not.toContain('wrong-token-123');
  });

  test.each([
    [{}, "config field 'api_token' is required"],
    [{ api_token: 'x' }, "config field 'account_id' is required"],
    [{ api_token: 'x', account_id: '1', page_size: 5000 }, "config field 'page_size' must be <= 4000 (got 5000)"],
    [{ api_token: 'x', account_id: '1', page_size: '100' }, 'config field \'page_size\' must be an integer (got "100")'],
    [
      { api_token: 'x', account_id: '1', account_type: 'publisher' },
      "config field 'account_type' must be one of network, advertiser, affiliate",
    ],
    [{ api_token: 'x', account_id: '1', start_date: '5 Jan 2026' }, "config field 'start_date' must be a date as YYYY-MM-DD or RFC 3339"],
    [
      { api_token: 'x', account_id: '1', transaction_types: ['Transfer'] },
      'config field \'transaction_types\' has "Transfer", which is no transaction type; use Call, PostCallEvent',
    ],
    [{ api_token: 'x', account_id: '1', include_columns: 'city' }, "config field 'include_columns' must be an array"],
  ])('config %j: exit 2 and one line naming the field', async (config, message) => {
    const output = await runTap(['--config', await jsonFile(config)]);
    expect(output.code).toBe(2);
    expect(output.stderr).toHaveLength(1);
    expect(output.stderr[0]).toContain(message);
    expect(output.stderr[0]).toContain('[ERR_CONFIG]');
    expect(output.stdout).toBe('');
  });

  test('unreadable files and malformed state: exit 2 naming the file or field; empty state: a first sync', async () => {
    const missing = await runTap(['--config', '/nonexistent/config.json']);
    expect([missing.code, missing.stderr[0]]).toEqual([
      2,
      expect.stringContaining('cannot read the config file /nonexistent/config.json (ENOENT)'),
    ]);
    const broken = await runTap(['--config', await jsonFile('{"api_token": ', 'broken.json')]);
    expect([broken.code, broken.stderr[0]]).toEqual([2, expect.stringContaining('the config file broken.json is not valid JSON')]);
    sim = await simulator({ rows: 3 });
    const config = await jsonFile(tapConfig(sim));
    const badState = await runTap(['--config', config, '--state', await jsonFile({ bookmarks: { transactions: { sequence: 'x' } } })]);
    expect(badState.code).toBe(2);
    expect(badState.stderr[0]).toContain("state field 'bookmarks.transactions.sequence' must be a non-negative integer");
    expect(badState.stderr[0]).toContain('[ERR_STATE]');
    const emptyState = await runTap(['--config', config, '--state', await jsonFile('', 'state.json')]);
    expect(emptyState.records).toHaveLength(3);
    const emptyObject = await runTap(['--config', config, '--state', await jsonFile({})]);
    expect(emptyObject.records).toHaveLength(3);
    const unknownFlag = await runTap(['--config', config, '--catalogue', 'x.json']);
    expect([unknownFlag.code, unknownFlag.stderr[0]]).toEqual([2, expect.stringContaining('Unknown argument')]);
  });

  test('an unknown config key is a warning that suggests the nearest key', async () => {
    sim = await simulator({ rows: 2 });
    const output = await runTap(['--config', await jsonFile(tapConfig(sim, { page_sise: 10 }))]);
    expect(output.code).toBe(0);
    expect(output.stderr[0]).toBe("WARN config has an unknown key 'page_sise' (ignored); did you mean 'page_size'?");
  });

  test('a fault that outlives the retries: exit 1, one line, the last good page already in the state', async () => {
    sim = await simulator({ rows: 300, faults: [{ kind: 'status', status: 500, times: 10, after: 2 }] });
    const output = await runTap(['--config', await jsonFile(tapConfig(sim, { page_size: 100 }))]);
    expect(output.code).toBe(1);
    expect(output.stderr.at(-1)).toMatch(
      /^CRITICAL tap-invoca: Invoca answered HTTP 500 .*\(gave up after 2 retries\) \[ERR_API_STATUS\]$/,
    );
    expect(bookmarkOf(lastState(output)).replication_key_value).toBe(sim.feed.transactionId(199));
    expect(output.records).toHaveLength(200);
    const joined = [output.stdout, ...output.stderr].join('\n');
    expect(joined).not.toContain(TEST_TOKEN);
  });

  test('a slow reader: the tap waits for it instead of reading ahead', async () => {
    sim = await simulator({ rows: 3000 });
    let received = 0;
    let statesSeen = 0;
    let maxAhead = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        statesSeen += (chunk.toString().match(/"type":"STATE"/g) ?? []).length;
        maxAhead = Math.max(maxAhead, (sim?.stats().transactionRequests ?? 0) - statesSeen);
        setTimeout(callback, 20);
      },
    });
    const output = await runTap(['--config', await jsonFile(tapConfig(sim, { page_size: 100 }))], { stdout: slow });
    expect(output.code).toBe(0);
    expect(received).toBeGreaterThan(1_000_000);
    // At most the page being written and the one prefetched behind it.
    expect(maxAhead).toBeLessThanOrEqual(2);
  });
});

describe('the bin', () => {
  test('SIGTERM mid-run: the state of the last complete page is out, then the tap ends by SIGTERM; a resume completes', async () => {
    sim = await simulator({ rows: 3000, latencyMs: 150 });
    const config = await jsonFile(tapConfig(sim, { page_size: 100 }));
    const child = spawn(process.execPath, ['dist/src/bin/tap-invoca.js', '--config', config]);
    let stdout = '';
    child.stdout.on('data', (data: Buffer) => {
      stdout += data.toString();
      if ((stdout.match(/"type":"STATE"/g) ?? []).length === 3) child.kill('SIGTERM');
    });
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    expect([code, signal]).toEqual([null, 'SIGTERM']);
    const messages = parseLines(stdout);
    expect(messages.at(-1)?.['type']).toBe('STATE');
    const records = messages.filter((message) => message['type'] === 'RECORD');
    expect(records.length).toBeGreaterThanOrEqual(300);
    expect(records.length).toBeLessThan(3000);
    const state = messages.at(-1)?.['value'] as Record<string, unknown>;
    expect(bookmarkOf(state).replication_key_value).toBe(sim.feed.transactionId(records.length - 1));
    const resumed = await runTap(['--config', config, '--state', await jsonFile(state)]);
    expect(ids(resumed.records)).toEqual(feedIds(records.length, 3000));
  });

  test('a config error exits 2 with one CRITICAL line', async () => {
    const child = spawn(process.execPath, ['dist/src/bin/tap-invoca.js', '--config', await jsonFile({ account_id: '1' })]);
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });
});
