/**
 * Every kind of invalid config and state file, in every bin (as processes): one line naming the
 * field and the fix, exit 2; the Airbyte source's `check` answers FAILED with exit 0 instead. An
 * unknown key is a warning that suggests the nearest known key.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { simulator, TEST_ACCOUNT, TEST_TOKEN } from '../helpers/simulator.js';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseLoaderConfig } from '../../src/config/loader-config.js';
import { jsonFile, runTap, tapConfig, tempDir } from '../helpers/tap.js';
import { runProcess } from '../helpers/tools.js';
import { secretLeaks, TEST_PASSWORD } from './harness.js';

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await simulator({ rows: 50 });
});
afterAll(async () => {
  await sim.close();
});

const bin = (name: string, args: string[], input = '') => runProcess(process.execPath, [`dist/src/bin/${name}.js`, ...args], { input });
const lines = (text: string): string[] => text.split('\n').filter(Boolean);

/** A config file's text: an object is written as JSON, a string as is (for broken JSON). */
type ConfigText = Record<string, unknown> | string;
const good = (): Record<string, unknown> => ({ api_token: TEST_TOKEN, account_id: TEST_ACCOUNT, base_url: sim.url });

const TAP_CONFIGS: readonly [string, () => ConfigText, RegExp][] = [
  ['api_token missing', () => ({ account_id: TEST_ACCOUNT }), /config field 'api_token' is required/],
  ['account_id missing', () => ({ api_token: TEST_TOKEN }), /config field 'account_id' is required/],
  ['account_id a list', () => ({ ...good(), account_id: [1] }), /config field 'account_id' must be/],
  [
    'account_type unknown',
    () => ({ ...good(), account_type: 'admin' }),
    /config field 'account_type' must be one of network, advertiser, affiliate/,
  ],
  ['page_size too big', () => ({ ...good(), page_size: 5000 }), /config field 'page_size' must be <= 4000/],
  ['page_size a string', () => ({ ...good(), page_size: 'many' }), /config field 'page_size' must be an integer/],
  ['start_date not a date', () => ({ ...good(), start_date: 'yesterday' }), /config field 'start_date'/],
  ['start_date not a real day', () => ({ ...good(), start_date: '2026-02-31' }), /config field 'start_date' is not a real date/],
  ['include_columns a string', () => ({ ...good(), include_columns: 'a,b' }), /config field 'include_columns' must be an array/],
  [
    'request_timeout_seconds negative',
    () => ({ ...good(), request_timeout_seconds: -1 }),
    /config field 'request_timeout_seconds' must be > 0/,
  ],
  ['max_retries fractional', () => ({ ...good(), max_retries: 1.5 }), /config field 'max_retries' must be an integer/],
  ['backfill_concurrency zero', () => ({ ...good(), backfill_concurrency: 0 }), /config field 'backfill_concurrency' must be >= 1/],
  ['transaction_types unknown', () => ({ ...good(), transaction_types: ['Refund'] }), /config field 'transaction_types/],
  ['a list instead of an object', () => '[]', /config root must be an object/],
  ['not JSON', () => '{"api_token": "x",', /the config file \S+ is not valid JSON: syntax error at line 1, column 19; fix it/],
  [
    'base_url over http to a remote host',
    () => ({ ...good(), base_url: 'http://yourcompany.invoca.net' }),
    /config field 'base_url' must use https:\/\/ for yourcompany\.invoca\.net: over http the API token would travel in cleartext/,
  ],
  [
    'base_url with the API path',
    () => ({ ...good(), base_url: 'https://invoca.net/api/2020-10-01' }),
    /config field 'base_url' must be a scheme and host \(and port\) only, such as https:\/\/invoca\.net/,
  ],
  [
    'base_url with a user',
    () => ({ ...good(), base_url: 'https://me:hunter22@invoca.net' }),
    /config field 'base_url' must not hold a user/,
  ],
  ['max_response_mb zero', () => ({ ...good(), max_response_mb: 0 }), /config field 'max_response_mb' must be >= 1/],
  ['empty', () => '', /is empty; it needs at least api_token and account_id/],
];

const STATES: readonly [string, string, RegExp][] = [
  ['not JSON', '{"bookmarks":', /the state file \S+ is not valid JSON: syntax error at line 1, column 14/],
  ['another shape', '{"cursor": "X-1"}', /state\.json has the key 'cursor', not the shape of a tap-invoca state: expected \{"bookmarks"/],
  [
    'another tap',
    '{"bookmarks": {"calls": {"replication_key_value": "X-1"}}}',
    /has bookmarks for the key 'calls', not for 'transactions'/,
  ],
  [
    'another stream beside ours',
    '{"bookmarks": {"transactions": {"replication_key_value": "X-1"}, "calls": {}}}',
    /has bookmarks for the key 'calls' beside 'transactions': it is not a tap-invoca state \(one stream\)/,
  ],
  [
    'an unknown bookmark key',
    '{"bookmarks": {"transactions": {"cursor": "X-1"}}}',
    /state field 'bookmarks\.transactions\.cursor' is not a setting of 'bookmarks\.transactions'/,
  ],
  ['bookmarks a list', '{"bookmarks": []}', /state/],
  ['cursor a number', '{"bookmarks": {"transactions": {"replication_key_value": 12}}}', /replication_key_value/],
  ['sequence text', '{"bookmarks": {"transactions": {"replication_key_value": "A-1", "sequence": "x"}}}', /sequence/],
];

const TARGET_CONFIGS: readonly [string, ConfigText, RegExp][] = [
  ['engine unknown', { engine: 'oracle' }, /config field 'engine' must be one of duckdb, bigquery, snowflake/],
  ['duckdb.path empty', { duckdb: { path: '' } }, /config field 'duckdb.path'/],
  ['batch_size_rows zero', { batch_size_rows: 0 }, /config field 'batch_size_rows' must be >= 1/],
  ['batch_max_seconds text', { batch_max_seconds: 'soon' }, /config field 'batch_max_seconds' must be a number/],
  ['memory_limit unreadable', { duckdb: { memory_limit: 'lots' } }, /config field 'duckdb.memory_limit'/],
  ['bigquery without project_id', { engine: 'bigquery', bigquery: { dataset: 'd' } }, /project_id/],
  [
    'snowflake without account',
    { engine: 'snowflake', snowflake: { user: 'u', password: TEST_PASSWORD, database: 'D', warehouse: 'W' } },
    /account/,
  ],
  ['not JSON', '{"engine": ', /the config file \S+ is not valid JSON: syntax error at line 1, column 12/],
  [
    'bigquery settings without engine',
    { bigquery: { project_id: 'p', dataset: 'd' } },
    /config has 'bigquery' settings but no 'engine', which would load into a local DuckDB file; set "engine": "bigquery"/,
  ],
  [
    'engine bigquery with snowflake settings only',
    { engine: 'bigquery', snowflake: { account: 'a', user: 'u', password: TEST_PASSWORD, database: 'D', schema: 'S' } },
    /config field 'engine' is 'bigquery' but the config has 'snowflake' settings and no 'bigquery' ones; set "engine": "snowflake"/,
  ],
  [
    'a nested unknown key',
    { engine: 'snowflake', snowflake: { acount: 'ab12345', user: 'LOADER', password: TEST_PASSWORD, database: 'D', schema: 'S' } },
    /config field 'snowflake\.acount' is not a setting of 'snowflake'; did you mean 'snowflake\.account'\?/,
  ],
  [
    'snowflake over http to a remote host',
    { engine: 'snowflake', snowflake: { account: 'a', user: 'u', password: TEST_PASSWORD, database: 'D', schema: 'S', protocol: 'http' } },
    /config field 'snowflake\.protocol' is http, which would send the credentials in cleartext/,
  ],
  [
    'snowflake account as a URL',
    {
      engine: 'snowflake',
      snowflake: { account: 'https://myorg-acct.snowflakecomputing.com', user: 'u', password: TEST_PASSWORD, database: 'D', schema: 'S' },
    },
    /config field 'snowflake\.account' must be an account identifier, not a URL: use "myorg-acct"/,
  ],
  [
    'snowflake without password or key',
    { engine: 'snowflake', snowflake: { account: 'a', user: 'u', database: 'D', schema: 'S' } },
    /config field 'snowflake\.private_key_path' \(key-pair auth\) or 'snowflake\.password' is required/,
  ],
  [
    'a source_table longer than a table name',
    { source_table: 'x'.repeat(5000) },
    /config field 'source_table' must be a table name or schema\.table of at most 1,024 characters \(got "x{40,60}\.\.\.\); fix it in/,
  ],
  [
    'bigquery api_endpoint over http to a remote host',
    { engine: 'bigquery', bigquery: { project_id: 'p', dataset: 'd', api_endpoint: 'http://bigquery.example.com' } },
    /config field 'bigquery\.api_endpoint' must use https:\/\/ for bigquery\.example\.com/,
  ],
  [
    'bigquery dataset of another project',
    { engine: 'bigquery', bigquery: { project_id: 'p', dataset: 'other-project.invoca' } },
    /config field 'bigquery\.dataset' names project 'other-project' but project_id is 'p'/,
  ],
  [
    'bigquery dataset with a space',
    { engine: 'bigquery', bigquery: { project_id: 'p', dataset: 'my dataset' } },
    /config field 'bigquery\.dataset' must be a dataset id \(letters, digits and underscores, up to 1,024\) or project\.dataset/,
  ],
];

async function fileFor(config: ConfigText, name = 'config.json'): Promise<string> {
  return jsonFile(typeof config === 'string' ? config : JSON.stringify(config), name);
}

/** One CRITICAL line naming the problem, exit 2, no secret. */
function expectConfigError(result: { code: number | null; stdout: string; stderr: string }, message: RegExp): void {
  expect(result.code).toBe(2);
  const critical = lines(result.stderr).filter((line) => line.startsWith('CRITICAL'));
  expect(critical).toHaveLength(1);
  expect(critical[0]).toMatch(message);
  expect(secretLeaks({ stdout: result.stdout, stderr: result.stderr })).toEqual([]);
}

describe('tap-invoca: invalid config', () => {
  test.each(TAP_CONFIGS)('%s', async (_name, config, message) => {
    expectConfigError(await bin('tap-invoca', ['--config', await fileFor(config())]), message);
  });

  test('a missing config file', async () => {
    expectConfigError(
      await bin('tap-invoca', ['--config', '/nonexistent/tap.json']),
      /cannot read the config file \/nonexistent\/tap\.json \(ENOENT\); check the path/,
    );
  });

  test('an unknown key warns with the nearest key and the run goes on', async () => {
    const result = await bin('tap-invoca', ['--config', await fileFor({ ...good(), page_sise: 10 }), '--test']);
    expect(result.code).toBe(0);
    expect(lines(result.stderr)[0]).toBe("WARN config has an unknown key 'page_sise' (ignored); did you mean 'page_size'?");
  });
});

describe('tap-invoca and source-invoca read: invalid state', () => {
  test.each(STATES)('%s', async (_name, state, message) => {
    const stateFile = await jsonFile(state, 'state.json');
    const config = await fileFor(good());
    expectConfigError(await bin('tap-invoca', ['--config', config, '--state', stateFile]), message);
    const catalog = await jsonFile({
      streams: [
        {
          stream: { name: 'transactions', json_schema: {}, supported_sync_modes: ['incremental'] },
          sync_mode: 'incremental',
          destination_sync_mode: 'append',
        },
      ],
    });
    const read = await bin('source-invoca', ['read', '--config', config, '--catalog', catalog, '--state', stateFile]);
    expect(read.code).toBe(2);
    const trace = lines(read.stdout).map((line) => JSON.parse(line) as { type: string; trace?: { error?: { failure_type?: string } } });
    expect(trace.at(-1)?.trace?.error?.failure_type).toBe('config_error');
  });
});

describe('Meltano\'s state: `meltano state get` prints {"singer_state": ...}', () => {
  test('the tap resumes from the wrapped state instead of reading the whole history again', async () => {
    const config = await fileFor(tapConfig(sim));
    const first = await runTap(['--config', config]);
    expect(first.records.length).toBe(50);
    const wrapped = await jsonFile({ singer_state: first.states.at(-1) }, 'state.json');
    const again = await runTap(['--config', config, '--state', wrapped]);
    expect(again.code).toBe(0);
    expect(again.records).toEqual([]);
  });
});

describe('every bin answers --help on stdout with exit 0', () => {
  test.each(['tap-invoca', 'target-invoca', 'source-invoca', 'invoca-simulator'])('%s --help', async (name) => {
    const result = await bin(name, ['--help']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(new RegExp(`^${name} `));
    expect(result.stdout).toMatch(/--help/);
  });
});

describe('target-invoca: invalid config', () => {
  test.each(TARGET_CONFIGS)('%s', async (_name, config, message) => {
    const file = await fileFor(config);
    expectConfigError(await bin('target-invoca', ['--config', file], ''), message);
    // merge and sql read the config the same way.
    expectConfigError(await bin('target-invoca', ['sql', '--config', file]), message);
    expectConfigError(await bin('target-invoca', ['merge', '--config', file]), message);
  });

  test('a warehouse config without engine writes no DuckDB file and echoes no state', async () => {
    const dir = await tempDir();
    const state = JSON.stringify({ type: 'STATE', value: { bookmarks: { transactions: { replication_key_value: 'A-1' } } } });
    const result = await runProcess(
      process.execPath,
      [join(process.cwd(), 'dist/src/bin/target-invoca.js'), '--config', await fileFor({ bigquery: { project_id: 'p', dataset: 'd' } })],
      { input: `${state}\n`, cwd: dir },
    );
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(readdirSync(dir)).toEqual([]);
  });

  test('bigquery dataset as project.dataset is split', () => {
    const { config } = parseLoaderConfig({ engine: 'bigquery', bigquery: { dataset: 'my-project.invoca' } });
    expect(config.bigquery).toMatchObject({ project_id: 'my-project', dataset: 'invoca' });
  });

  test('an unknown key warns with the nearest key', async () => {
    const result = await bin('target-invoca', ['--config', await fileFor({ batch_size_row: 5, duckdb: { path: ':memory:' } })], '');
    expect(result.code).toBe(0);
    expect(lines(result.stderr)[0]).toBe("WARN config has an unknown key 'batch_size_row' (ignored); did you mean 'batch_size_rows'?");
  });
});

describe('source-invoca check: invalid config is a FAILED connection status, exit 0', () => {
  test.each(TAP_CONFIGS)('%s', async (_name, config, message) => {
    const result = await bin('source-invoca', ['check', '--config', await fileFor(config())]);
    expect(result.code).toBe(0);
    const status = lines(result.stdout).map(
      (line) => JSON.parse(line) as { type: string; connectionStatus?: { status: string; message?: string } },
    );
    expect(status.at(-1)?.connectionStatus?.status).toBe('FAILED');
    expect(status.at(-1)?.connectionStatus?.message).toMatch(message);
    expect(secretLeaks({ stdout: result.stdout, stderr: result.stderr })).toEqual([]);
  });

  test('source-invoca discover and read with an invalid config: TRACE config_error, exit 2', async () => {
    const config = await fileFor({ account_id: TEST_ACCOUNT });
    for (const args of [
      ['discover', '--config', config],
      ['read', '--config', config, '--catalog', config],
    ]) {
      const result = await bin('source-invoca', args);
      expect(result.code).toBe(2);
      const last = JSON.parse(lines(result.stdout).at(-1) ?? '{}') as { trace?: { error?: { failure_type?: string; message?: string } } };
      expect(last.trace?.error).toMatchObject({ failure_type: 'config_error' });
      expect(last.trace?.error?.message).toMatch(/api_token/);
    }
  });
});

describe('a good config with a secret that must never be printed', () => {
  test('a wrong token: the 401 is reported without the token, in all three bins', async () => {
    const config = await fileFor({ ...tapConfig(sim), api_token: `${TEST_TOKEN}_wrong` });
    const tap = await bin('tap-invoca', ['--config', config]);
    const check = await bin('source-invoca', ['check', '--config', config]);
    expect(tap.code).toBe(1);
    expect(tap.stderr).toMatch(/HTTP 401/);
    expect(check.stdout).toMatch(/"status":"FAILED"/);
    expect(secretLeaks({ tap: tap.stdout + tap.stderr, check: check.stdout + check.stderr })).toEqual([]);
  });
});
