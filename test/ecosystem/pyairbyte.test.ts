/**
 * source-invoca as Airbyte's own Python client runs it: PyAirbyte (PyPI `airbyte`, in
 * .venv-pyairbyte) with the bin as a local executable, against the simulator: check, discover, a
 * full read and then an incremental one into PyAirbyte's DuckDB cache, whose final table
 * `transactions` has an Airbyte destination's layout. `target-invoca merge` over that table
 * (qualified: it lives in the schema our output tables would use) must equal a direct
 * `tap-invoca | target-invoca` load of the same feed. Offline: AIRBYTE_OFFLINE_MODE and
 * DO_NOT_TRACK keep PyAirbyte's telemetry and registry look-ups off the network.
 */
import { chmod, copyFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { openDuckDb } from '../../src/load/duckdb-warehouse.js';
import type { Warehouse } from '../../src/load/warehouse.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { pipeline } from '../reliability/harness.js';
import { simulator } from '../helpers/simulator.js';
import { jsonFile, tapConfig, tempDir } from '../helpers/tap.js';
import { requireTools, runProcess } from '../helpers/tools.js';

const PYTHON = resolve('.venv-pyairbyte/bin/python');
requireTools([PYTHON], 'the PyAirbyte test');

let sim: RunningSimulator;
let dir: string;
let executable: string;

beforeAll(async () => {
  sim = await simulator({ rows: 400, seed: 12 });
  dir = await tempDir();
  // The bin as an executable of its own, on the Node the tests run on.
  executable = join(dir, 'source-invoca');
  await writeFile(executable, `#!/bin/sh\nexec "${process.execPath}" "${resolve('dist/src/bin/source-invoca.js')}" "$@"\n`);
  await chmod(executable, 0o755);
});
afterAll(async () => {
  await sim?.close();
});

interface SyncResult {
  check: string;
  streams: string[];
  records: Record<string, number>;
  cache: string;
}

async function pyairbyteSync(config: string): Promise<SyncResult> {
  const env = {
    ...process.env,
    AIRBYTE_OFFLINE_MODE: '1',
    DO_NOT_TRACK: '1',
    AIRBYTE_LOGGING_ROOT: join(dir, 'logs'),
    PATH: `${resolve('.venv-pyairbyte/bin')}:${process.env['PATH'] ?? ''}`,
  };
  const result = await runProcess(PYTHON, ['test/airbyte/pyairbyte_sync.py', executable, config, join(dir, 'cache')], { env });
  if (result.code !== 0) throw new Error(`PyAirbyte failed (${result.code}):\n${result.stderr.slice(-3000)}`);
  const last = result.stdout.trim().split('\n').at(-1) ?? '{}';
  return JSON.parse(last) as SyncResult;
}

/**
 * The merged tables' content, order-free: id -> root, root -> current id, call -> legs, payin, id.
 * (Not the versions: each run numbers its deliveries, and these are two runs.)
 */
async function merged(warehouse: Warehouse): Promise<{ history: string[]; current: string[]; calls: string[] }> {
  const history = await warehouse.query(
    `SELECT transaction_id || ' ' || root_transaction_id AS v FROM ${warehouse.dialect.table('transactions')} ORDER BY 1`,
  );
  const current = await warehouse.query(
    `SELECT root_transaction_id || ' ' || transaction_id AS v FROM ${warehouse.dialect.table('transactions_current')} ORDER BY 1`,
  );
  const calls = await warehouse.query(
    `SELECT complete_call_id || ' ' || call_leg_count || ' ' || CAST(advertiser_payin_localized AS VARCHAR) || ' ' || transaction_id AS v FROM ${warehouse.dialect.table('calls')} ORDER BY 1`,
  );
  const values = (rows: Record<string, unknown>[]): string[] => rows.map((row) => String(row['v']));
  return { history: values(history), current: values(current), calls: values(calls) };
}

test('PyAirbyte: check, discover, a full and an incremental read into its cache; target-invoca merge over its final table equals a direct load', async () => {
  const config = await jsonFile(tapConfig(sim, { page_size: 150 }), 'config.json');
  const first = await pyairbyteSync(config);
  expect(first).toMatchObject({ check: 'SUCCEEDED', streams: ['transactions'], records: { transactions: 400 } });

  sim.append(60);
  const before = sim.stats().transactionRequests;
  const second = await pyairbyteSync(config);
  // Incremental: the state PyAirbyte kept in its cache resumes after the cursor.
  const resumed = sim.stats().recentUrls.slice(-(sim.stats().transactionRequests - before));
  expect(resumed.filter((url) => url.includes('limit=150')).every((url) => url.includes('start_after_transaction_id='))).toBe(true);
  expect(second.records['transactions']).toBeGreaterThanOrEqual(460);

  // The cache's final table, as an Airbyte destination writes it: typed columns and _airbyte_*.
  const viaAirbyte = join(dir, 'airbyte.duckdb');
  await copyFile(second.cache, viaAirbyte);
  const layout = await openDuckDb({ path: viaAirbyte, schema: 'main' });
  try {
    const columns = await layout.columns('transactions');
    expect([...(columns ?? [])]).toEqual(
      expect.arrayContaining(['transaction_id', '_invoca_sequence', '_airbyte_raw_id', '_airbyte_extracted_at', '_airbyte_meta']),
    );
  } finally {
    await layout.close();
  }
  const loader = await jsonFile({ duckdb: { path: viaAirbyte, schema: 'invoca' }, source_table: 'main.transactions' }, 'loader.json');
  const merge = await runProcess(process.execPath, ['dist/src/bin/target-invoca.js', 'merge', '--config', loader]);
  expect([merge.code, merge.stderr]).toEqual([0, expect.stringContaining('merged 460 new transactions from main.transactions')]);

  const direct = join(dir, 'direct.duckdb');
  const run = await pipeline(['--config', config], await jsonFile({ duckdb: { path: direct } }, 'direct.json'));
  expect([run.tapCode, run.targetCode]).toEqual([0, 0]);
  const [fromAirbyte, fromTap] = await Promise.all(
    [
      { path: viaAirbyte, schema: 'invoca' },
      { path: direct, schema: 'main' },
    ].map(async (settings) => {
      const warehouse = await openDuckDb(settings);
      try {
        return await merged(warehouse);
      } finally {
        await warehouse.close();
      }
    }),
  );
  expect(fromAirbyte?.current.length).toBeGreaterThan(300);
  expect(fromAirbyte?.history.length).toBe(460);
  expect(fromAirbyte).toEqual(fromTap);
}, 240_000);
