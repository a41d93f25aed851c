/**
 * `target-invoca check` on every engine that runs here: DuckDB (the real bin) and PGlite for
 * real; the BigQuery emulator and fakesnow's server for the steps they can run. What they cannot
 * show is said where it is asserted: neither records what a statement cost, the emulator does not
 * run the batch's script, fakesnow cannot MERGE inside a transaction.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { BigQuery } from '@google-cloud/bigquery';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runCheck, type CheckReport } from '../../src/check/run-check.js';
import { scratchPrefix } from '../../src/check/scratch.js';
import { run } from '../../src/cli/target.js';
import { openBigQuery } from '../../src/load/bigquery-warehouse.js';
import { openDuckDb } from '../../src/load/duckdb-warehouse.js';
import { openSnowflake } from '../../src/load/snowflake-warehouse.js';
import type { Warehouse } from '../../src/load/warehouse.js';
import { EMULATOR_BIN, startEmulator, staticAuth, type RunningEmulator } from '../helpers/bigquery-emulator.js';
import { fakesnowSettings, startFakesnowServer } from '../helpers/fakesnow-server.js';
import { lineWatcher } from '../helpers/lines.js';
import { createMemoryLogger } from '../helpers/logger.js';
import { openPglite } from '../helpers/pglite-warehouse.js';
import { jsonFile, tempDir } from '../helpers/tap.js';
import { requireTools } from '../helpers/tools.js';

requireTools([EMULATOR_BIN, '.venv/bin/python'], 'the check tests');

const stepStatus = (report: CheckReport): Record<string, string> =>
  Object.fromEntries(report.steps.map((step) => [step.name, step.status]));
const ALL_PASSED = { connect: 'passed', grants: 'passed', merge: 'passed', cost: 'passed', 'clean up': 'passed' };

/** The check with a fresh prefix and the default schedule. */
function checkOn(open: () => Promise<Warehouse>, engine: string): Promise<CheckReport> {
  return runCheck({ open, engine, prefix: scratchPrefix(), logger: createMemoryLogger(), batchesPerDay: 288 });
}

async function duckdbTables(path: string): Promise<{ name: string; rows: number }[]> {
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  const names = (await connection.runAndReadAll('SELECT table_name FROM information_schema.tables ORDER BY 1'))
    .getRowObjectsJS()
    .map((row) => String(row['table_name']));
  const tables = [];
  for (const name of names) {
    const [count] = (await connection.runAndReadAll(`SELECT COUNT(*) AS n FROM "${name}"`)).getRowObjectsJS();
    tables.push({ name, rows: Number(count?.['n']) });
  }
  connection.closeSync();
  instance.closeSync();
  return tables;
}

function runBin(args: string[]): Promise<{ code: number; stdout: string; stderr: string[] }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return run(args, {
    stdin: process.stdin,
    stdout: new Writable({
      write(chunk: Buffer, _encoding, done) {
        stdout.push(chunk.toString());
        done();
      },
    }),
    stderr: (line) => stderr.push(line),
  }).then((code) => ({ code, stdout: stdout.join(''), stderr }));
}

describe('DuckDB, through the bin', () => {
  test('every step passes; the real tables and their rows are untouched; nothing of the check is left', async () => {
    const dir = await tempDir();
    const path = join(dir, 'invoca.duckdb');
    // A file with real data in it first.
    const setup = await DuckDBInstance.create(path);
    const connection = await setup.connect();
    await connection.run("CREATE TABLE transactions (transaction_id VARCHAR); INSERT INTO transactions VALUES ('REAL-1'), ('REAL-2')");
    connection.closeSync();
    setup.closeSync();
    const config = await jsonFile({ engine: 'duckdb', duckdb: { path } }, 'loader.json');

    const text = await runBin(['check', '--config', config]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^target-invoca check on duckdb \(scratch tables _invoca_check_[0-9a-f]{8}_\*\)$/m);
    for (const step of ['connect', 'grants', 'merge', 'cost', 'clean up']) expect(text.stdout).toMatch(new RegExp(`^PASS  ${step} `, 'm'));
    expect(text.stdout).toContain('ok    add a column (what a new custom field needs)');
    expect(text.stdout).toContain('custom fields of a call: all 25 values found in their own columns');
    expect(text.stdout).toMatch(/check passed: every step passed\n$/);

    const json = await runBin(['check', '--config', config, '--format', 'json', '--schedule-minutes', '15']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as CheckReport;
    expect(stepStatus(report)).toEqual(ALL_PASSED);
    expect(report.identity?.where).toBe(`${path}, schema main`);
    expect(report.steps.every((step) => typeof step.ms === 'number' && step.detail.length > 0)).toBe(true);

    expect(await duckdbTables(path)).toEqual([{ name: 'transactions', rows: 2 }]);
  }, 60_000);

  test('a file another process holds: connect fails with the named error, the rest is skipped, exit 1 with one line', async () => {
    const path = join(await tempDir(), 'held.duckdb');
    const holder = spawn(process.execPath, [
      '--input-type=module',
      '-e',
      `import { BigQuery } from '@google-cloud/bigquery';
import { DuckDBInstance } from '@duckdb/node-api'; const i = await DuckDBInstance.create(${JSON.stringify(path)}); await (await i.connect()).run('CREATE TABLE t (x INT)'); console.log('holding'); setInterval(() => {}, 1000);`,
    ]);
    try {
      await lineWatcher(holder.stdout, once(holder, 'exit')).until(/^holding$/);
      const result = await runBin([
        'check',
        '--config',
        await jsonFile({ engine: 'duckdb', duckdb: { path } }, 'loader.json'),
        '--format',
        'json',
      ]);
      expect(result.code).toBe(1);
      const report = JSON.parse(result.stdout) as CheckReport;
      expect(stepStatus(report)).toEqual({
        connect: 'failed',
        grants: 'skipped',
        merge: 'skipped',
        cost: 'skipped',
        'clean up': 'skipped',
      });
      expect(report.steps[0]?.detail).toMatch(/^cannot open the DuckDB file .*held\.duckdb: .*lock/i);
      expect(result.stderr.at(-1)).toMatch(
        /^CRITICAL target-invoca: check failed at 'connect': cannot open the DuckDB file .* \[ERR_CHECK_FAILED\]$/,
      );
    } finally {
      holder.kill();
    }
  }, 60_000);

  test('SIGTERM during the check: it stops, drops what it created, and says so', async () => {
    const path = join(await tempDir(), 'stopped.duckdb');
    const config = await jsonFile({ engine: 'duckdb', duckdb: { path } }, 'loader.json');
    const child = spawn(process.execPath, ['dist/src/bin/target-invoca.js', 'check', '--config', config]);
    const exited = once(child, 'exit');
    const stdout: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk.toString()));
    // Stopped as soon as it has created its first scratch tables.
    await lineWatcher(child.stderr, exited).until(/check: grants: passed/);
    child.kill('SIGTERM');
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    expect(signal === 'SIGTERM' || code === 1).toBe(true);
    const report = stdout.join('');
    expect(report).toMatch(/^PASS {2}clean up .*dropped every table it created/m);
    expect(await duckdbTables(path)).toEqual([]);
  }, 60_000);
});

describe('stopped part-way', () => {
  test('aborted once the scratch tables exist, as SIGTERM aborts the bin signal: the batches stop, the clean-up drops them', async () => {
    const path = join(await tempDir(), 'aborted.duckdb');
    const controller = new AbortController();
    const logger = createMemoryLogger();
    const report = await runCheck({
      open: () => openDuckDb({ path, schema: 'main' }),
      engine: 'duckdb',
      prefix: scratchPrefix(),
      logger: {
        ...logger,
        info: (message) => {
          logger.info(message);
          if (message === 'created table calls') controller.abort(new Error('stopped by SIGTERM'));
        },
      },
      signal: controller.signal,
      batchesPerDay: 288,
    });
    expect(stepStatus(report)).toEqual({ connect: 'passed', grants: 'passed', merge: 'failed', cost: 'skipped', 'clean up': 'passed' });
    expect(report.steps.find((step) => step.name === 'merge')?.detail).toBe('stopped: stopped by SIGTERM');
    expect(report.steps.find((step) => step.name === 'cost')?.detail).toBe('stopped: stopped by SIGTERM');
    expect(await duckdbTables(path)).toEqual([]);
  }, 60_000);
});

describe('PGlite (PostgreSQL)', () => {
  test('every step passes, and nothing is left', async () => {
    const warehouse = await openPglite();
    const prefix = scratchPrefix();
    const report = await runCheck({
      open: async () => ({ ...warehouse, close: async () => undefined }),
      engine: 'postgres',
      prefix,
      logger: createMemoryLogger(),
      batchesPerDay: 288,
    });
    expect(stepStatus(report)).toEqual(ALL_PASSED);
    expect(await warehouse.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'invoca'")).toEqual([]);
    await warehouse.close();
  }, 60_000);

  test('a merge that leaves calls wrong fails the merge step, naming the difference; the clean-up still runs', async () => {
    const warehouse = await openPglite();
    // A loader bug, staged: the batch's last steps (the calls) never run.
    const broken: Warehouse = {
      ...warehouse,
      runMerge: (merge) => warehouse.runMerge({ ...merge, steps: merge.steps.filter((step) => !/calls/.test(step.name)) }),
      close: async () => undefined,
    };
    const report = await checkOn(async () => broken, 'postgres');
    expect(stepStatus(report)).toEqual({ connect: 'passed', grants: 'passed', merge: 'failed', cost: 'skipped', 'clean up': 'passed' });
    expect(report.steps.find((step) => step.name === 'merge')?.detail).toMatch(
      /^after batch 1 the tables differ from the expectation: calls has no row for CALL-/,
    );
    expect(await warehouse.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'invoca'")).toEqual([]);
    await warehouse.close();
  }, 60_000);

  test('a role without CREATE on the schema: the grants step fails at the first operation, naming what PostgreSQL refused', async () => {
    const warehouse = await openPglite();
    await warehouse.db.exec('CREATE ROLE loader; GRANT USAGE ON SCHEMA invoca TO loader; SET ROLE loader');
    const report = await checkOn(async () => ({ ...warehouse, close: async () => undefined }), 'postgres');
    expect(stepStatus(report)).toEqual({ connect: 'passed', grants: 'failed', merge: 'skipped', cost: 'skipped', 'clean up': 'passed' });
    const grants = report.steps.find((step) => step.name === 'grants');
    expect(grants?.detail).toMatch(/^cannot create a table: .*permission denied for schema invoca/);
    expect(grants?.items).toEqual([expect.stringMatching(/^FAIL {2}create a table: /)]);
    await warehouse.close();
  }, 60_000);
});

describe('BigQuery emulator', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startEmulator('p-check', 'invoca');
  }, 60_000);
  afterAll(async () => {
    await emulator.stop();
  });

  test('connect and every grant probe pass (MERGE from a table, ADD COLUMN, the load job); the batch script is beyond the emulator; nothing is left', async () => {
    const settings = { project_id: 'p-check', dataset: 'invoca', api_endpoint: emulator.endpoint };
    const open = (): Promise<Warehouse> => openBigQuery(settings, { authClient: staticAuth() });
    const report = await checkOn(open, 'bigquery');
    expect(report.steps.slice(0, 2).map((step) => step.status)).toEqual(['passed', 'passed']);
    expect(report.identity?.where).toBe(`dataset p-check.invoca, location BigQuery's default`);
    // The emulator runs no multi-statement transaction script (bigquery.test.ts): what the merge
    // step shows on real BigQuery, it cannot.
    expect(report.steps.find((step) => step.name === 'merge')).toMatchObject({
      status: 'failed',
      detail: expect.stringMatching(
        /^BigQuery failed: failed to parse statements: .* \(in: DECLARE _invoca_calls_from TIMESTAMP; .*BEGIN TRANSACTION;/,
      ),
    });
    expect(report.steps.find((step) => step.name === 'clean up')?.status).toBe('passed');
    const [tables] = await new BigQuery({ projectId: 'p-check', apiEndpoint: emulator.endpoint, authClient: staticAuth() })
      .dataset('invoca')
      .getTables();
    expect(tables.map((table) => table.id).filter((id) => id?.startsWith('_invoca_check_'))).toEqual([]);
  }, 120_000);

  test("statementCosts: each job this client sent in the window given, from the jobs' own statistics", async () => {
    const warehouse = await openBigQuery(
      { project_id: 'p-check', dataset: 'invoca', api_endpoint: emulator.endpoint },
      { authClient: staticAuth() },
    );
    await warehouse.query('SELECT 1 AS one');
    const fromMs = performance.now();
    await warehouse.execute('CREATE TABLE `p-check`.`invoca`.`costed` (x INT64)');
    await warehouse.query('SELECT COUNT(*) AS n FROM `p-check`.`invoca`.`costed`');
    const toMs = performance.now();
    await warehouse.query('SELECT 2 AS two');
    const costs = await warehouse.statementCosts(fromMs, toMs);
    // The emulator reports no bytes or slots: real BigQuery's figures are in the live lane's report.
    expect(costs.map((cost) => cost.statement)).toEqual([
      'CREATE TABLE `p-check`.`invoca`.`costed` (x INT64)...',
      'SELECT COUNT(*) AS n FROM `p-check`.`invoca`.`costed`...',
    ]);
    await warehouse.execute('DROP TABLE `p-check`.`invoca`.`costed`');
    await warehouse.close();
  }, 60_000);
});

describe("fakesnow's server, through the real snowflake-sdk", () => {
  test('connect and every grant probe pass; the batch fails where fakesnow does (not our SQL); nothing is left', async () => {
    const server = await startFakesnowServer(await tempDir());
    try {
      const settings = fakesnowSettings(server.port);
      const report = await checkOn(() => openSnowflake(settings), 'snowflake');
      expect(report.steps.slice(0, 2).map((step) => step.status)).toEqual(['passed', 'passed']);
      expect(report.identity?.where).toBe('ANALYTICS.INVOCA in account acme');
      // fakesnow misreads a quoted "$dollar" column as a session variable, and cannot MERGE
      // inside BEGIN ... COMMIT (snowflake.test.ts): the merge step is for real Snowflake.
      expect(report.steps.find((step) => step.name === 'merge')?.status).toBe('failed');
      expect(report.steps.find((step) => step.name === 'clean up')?.status).toBe('passed');
      const reader = await openSnowflake(settings);
      expect(
        await reader.query("SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME LIKE '\\\\_INVOCA\\\\_CHECK\\\\_%'"),
      ).toEqual([]);
      await reader.close();
    } finally {
      await server.stop();
    }
  }, 120_000);

  test('existing tables another role owns: the grants step fails naming the GRANT OWNERSHIP a new custom field needs', async () => {
    // fakesnow's tables are owned by SYSADMIN; the session's roles are given to its IS_ROLE_IN_SESSION.
    const server = await startFakesnowServer(await tempDir(), { sessionRoles: ['INVOCA_LOADER'] });
    try {
      const settings = fakesnowSettings(server.port, { role: 'INVOCA_LOADER' });
      const setup = await openSnowflake(settings);
      await setup.execute('CREATE TABLE "ANALYTICS"."INVOCA"."CALLS" ("X" VARCHAR)');
      await setup.close();
      const report = await checkOn(() => openSnowflake(settings), 'snowflake');
      expect(stepStatus(report)).toEqual({ connect: 'passed', grants: 'failed', merge: 'skipped', cost: 'skipped', 'clean up': 'passed' });
      expect(report.steps.find((step) => step.name === 'grants')?.detail).toBe(
        '"ANALYTICS"."INVOCA"."CALLS" is owned by SYSADMIN: a new custom field (ALTER TABLE ADD COLUMN) will fail; GRANT OWNERSHIP ON TABLE "ANALYTICS"."INVOCA"."CALLS" TO ROLE INVOCA_LOADER COPY CURRENT GRANTS',
      );
    } finally {
      await server.stop();
    }
  }, 120_000);
});
