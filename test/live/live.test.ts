/**
 * Live smoke tests against the real services. Each runs only when its credentials are in the
 * environment, and otherwise is skipped with the reason printed:
 *
 *   Invoca:    LIVE_INVOCA_API_TOKEN, LIVE_INVOCA_ACCOUNT_ID [, LIVE_INVOCA_ACCOUNT_TYPE, LIVE_INVOCA_BASE_URL]
 *   BigQuery:  LIVE_BIGQUERY_PROJECT, LIVE_BIGQUERY_DATASET [, GOOGLE_APPLICATION_CREDENTIALS]
 *   Snowflake: LIVE_SNOWFLAKE_ACCOUNT, LIVE_SNOWFLAKE_USER, LIVE_SNOWFLAKE_PRIVATE_KEY_PATH,
 *              LIVE_SNOWFLAKE_DATABASE, LIVE_SNOWFLAKE_SCHEMA [, LIVE_SNOWFLAKE_WAREHOUSE]
 */
import { expect, test } from '@jest/globals';
import { run } from '../../src/cli/tap.js';
import { Loader } from '../../src/load/loader.js';
import type { Warehouse } from '../../src/load/warehouse.js';
import { createMemoryLogger } from '../helpers/logger.js';
import { StreamSchema } from '../../src/stream/schema.js';
import { actual, MergeOracle, staged, type TestRecord } from '../helpers/merge-oracle.js';
import { jsonFile } from '../helpers/tap.js';

const env = process.env;

function liveTest(name: string, required: string[], body: () => Promise<void>): void {
  const missing = required.filter((key) => !env[key]);
  if (missing.length > 0) {
    test.skip(`${name} (skipped: set ${missing.join(', ')} to run it)`, () => undefined);
    console.warn(`live test skipped: ${name}: ${missing.join(', ')} not set`);
    return;
  }
  test(name, body, 300_000);
}

liveTest('Invoca: --test reads one transaction', ['LIVE_INVOCA_API_TOKEN', 'LIVE_INVOCA_ACCOUNT_ID'], async () => {
  const config = await jsonFile({
    api_token: env['LIVE_INVOCA_API_TOKEN'],
    account_id: env['LIVE_INVOCA_ACCOUNT_ID'],
    account_type: env['LIVE_INVOCA_ACCOUNT_TYPE'] ?? 'network',
    ...(env['LIVE_INVOCA_BASE_URL'] ? { base_url: env['LIVE_INVOCA_BASE_URL'] } : {}),
  });
  const lines: string[] = [];
  const { Writable } = await import('node:stream');
  const stdout = new Writable({
    write: (chunk: Buffer, _encoding, callback) => {
      lines.push(chunk.toString());
      callback();
    },
  });
  const code = await run(['--config', config, '--test'], { stdout, stderr: (line) => lines.push(line) });
  expect(code).toBe(0);
  expect(lines.join('\n')).not.toContain(env['LIVE_INVOCA_API_TOKEN'] ?? 'unset');
});

async function mergeRoundTrip(warehouse: Warehouse): Promise<void> {
  const loader = new Loader(warehouse, createMemoryLogger());
  const suffix = Date.now().toString(36);
  const original: TestRecord = {
    transaction_id: `LIVE-${suffix}`,
    transaction_type: 'Call',
    complete_call_id: `LIVE-CALL-${suffix}`,
    advertiser_payin_localized: '10.00',
    start_time: new Date().toISOString(),
    _invoca_sequence: 1,
  };
  const fix: TestRecord = {
    ...original,
    transaction_id: `LIVE-${suffix}-C`,
    corrects_transaction_id: original.transaction_id,
    corrected_at_utc: new Date().toISOString(),
    advertiser_payin_localized: '4.00',
    _invoca_sequence: 2,
  };
  await loader.loadBatch(new StreamSchema().toJSON(), staged([original, fix, fix]));
  const oracle = new MergeOracle();
  oracle.load([original, fix]);
  const got = await actual(warehouse);
  expect(got.calls.get(`LIVE-CALL-${suffix}`)).toEqual(oracle.expected().calls.get(`LIVE-CALL-${suffix}`));
}

liveTest(
  'BigQuery: one batch with a correction merges to the corrected call',
  ['LIVE_BIGQUERY_PROJECT', 'LIVE_BIGQUERY_DATASET'],
  async () => {
    const { openBigQuery } = await import('../../src/load/bigquery-warehouse.js');
    const warehouse = await openBigQuery({ project_id: env['LIVE_BIGQUERY_PROJECT'] ?? '', dataset: env['LIVE_BIGQUERY_DATASET'] ?? '' });
    await mergeRoundTrip(warehouse);
  },
);

liveTest(
  'Snowflake: one batch with a correction merges to the corrected call',
  ['LIVE_SNOWFLAKE_ACCOUNT', 'LIVE_SNOWFLAKE_USER', 'LIVE_SNOWFLAKE_PRIVATE_KEY_PATH', 'LIVE_SNOWFLAKE_DATABASE', 'LIVE_SNOWFLAKE_SCHEMA'],
  async () => {
    const { openSnowflake } = await import('../../src/load/snowflake-warehouse.js');
    const warehouse = await openSnowflake({
      account: env['LIVE_SNOWFLAKE_ACCOUNT'] ?? '',
      user: env['LIVE_SNOWFLAKE_USER'] ?? '',
      private_key_path: env['LIVE_SNOWFLAKE_PRIVATE_KEY_PATH'],
      database: env['LIVE_SNOWFLAKE_DATABASE'] ?? '',
      schema: env['LIVE_SNOWFLAKE_SCHEMA'] ?? '',
      warehouse: env['LIVE_SNOWFLAKE_WAREHOUSE'],
    });
    try {
      await mergeRoundTrip(warehouse);
    } finally {
      await warehouse.close();
    }
  },
);

/**
 * `target-invoca check --format json` on the real warehouse, its report kept as an artifact in
 * live-reports/ (LIVE_REPORT_DIR overrides): what the offline engines cannot show (the merge in
 * the real transaction, the grants of the real role, bytes billed and query history) is in it.
 */
async function liveCheck(engine: 'bigquery' | 'snowflake', settings: Record<string, unknown>): Promise<void> {
  const { run: runTarget } = await import('../../src/cli/target.js');
  const { Writable } = await import('node:stream');
  const { mkdir, writeFile } = await import('node:fs/promises');
  const chunks: string[] = [];
  const stdout = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const config = await jsonFile({ engine, [engine]: settings }, 'loader.json');
  const code = await runTarget(['check', '--config', config, '--format', 'json'], {
    stdin: process.stdin,
    stdout,
    stderr: () => undefined,
  });
  const directory = env['LIVE_REPORT_DIR'] ?? 'live-reports';
  await mkdir(directory, { recursive: true });
  await writeFile(`${directory}/check-${engine}.json`, chunks.join(''));
  const report = JSON.parse(chunks.join('')) as { steps: { name: string; status: string; detail: string }[] };
  expect(report.steps.filter((step) => step.status !== 'passed')).toEqual([]);
  expect(code).toBe(0);
}

liveTest('BigQuery: target-invoca check passes every step', ['LIVE_BIGQUERY_PROJECT', 'LIVE_BIGQUERY_DATASET'], () =>
  liveCheck('bigquery', { project_id: env['LIVE_BIGQUERY_PROJECT'], dataset: env['LIVE_BIGQUERY_DATASET'] }),
);

liveTest(
  'Snowflake: target-invoca check passes every step',
  ['LIVE_SNOWFLAKE_ACCOUNT', 'LIVE_SNOWFLAKE_USER', 'LIVE_SNOWFLAKE_PRIVATE_KEY_PATH', 'LIVE_SNOWFLAKE_DATABASE', 'LIVE_SNOWFLAKE_SCHEMA'],
  () =>
    liveCheck('snowflake', {
      account: env['LIVE_SNOWFLAKE_ACCOUNT'],
      user: env['LIVE_SNOWFLAKE_USER'],
      private_key_path: env['LIVE_SNOWFLAKE_PRIVATE_KEY_PATH'],
      database: env['LIVE_SNOWFLAKE_DATABASE'],
      schema: env['LIVE_SNOWFLAKE_SCHEMA'],
      ...(env['LIVE_SNOWFLAKE_WAREHOUSE'] ? { warehouse: env['LIVE_SNOWFLAKE_WAREHOUSE'] } : {}),
    }),
);
