/**
 * BigQuery: the real @google-cloud/bigquery client against goccy/bigquery-emulator on loopback.
 *
 * What the emulator runs as generated: dataset and table creation (with partitioning and
 * clustering), reading table schemas, the NDJSON load job into an expiring stage table, the
 * INSERT of new transactions, the DELETE of stale lineages, and read-back queries.
 *
 * What it cannot run, and how it is proven instead:
 * - `MERGE ... USING (subquery)`: the emulator only accepts a table as a MERGE source ("source
 *   must be a single-table reference"). Here each MERGE's subquery is first materialised with
 *   CREATE TABLE ... AS (the exact generated SELECT) and the exact generated MERGE then runs
 *   USING that table; so both halves run on the emulator's GoogleSQL, only the nesting differs.
 * - ALTER TABLE ADD COLUMN: the emulator accepts it and changes nothing; adding columns is
 *   proven on DuckDB and PostgreSQL (merge.test.ts).
 * - the multi-statement transaction: the emulator does not roll back a failed script. Rollback
 *   is proven on DuckDB and PostgreSQL (merge.test.ts); the script's shape is unit-tested below.
 */
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { WarehouseError } from '../../src/errors.js';
import { jobFailure, jobGuards, mergeScript, openBigQuery, SCRIPT_REPEATS } from '../../src/load/bigquery-warehouse.js';
import { Loader } from '../../src/load/loader.js';
import { batchSteps, callDatesQuery, type MergePlan } from '../../src/load/plan.js';
import { stageRows, type Warehouse } from '../../src/load/warehouse.js';
import { createMemoryLogger } from '../helpers/logger.js';
import { targetRun } from '../helpers/target-run.js';
import { StreamSchema } from '../../src/stream/schema.js';
import { EMULATOR_BIN, startEmulator, staticAuth, type RunningEmulator } from '../helpers/bigquery-emulator.js';
import { HOSTILE_FIELDS } from '../helpers/hostile-names.js';
import { recordMaker } from '../helpers/records.js';
import { actual, MergeOracle, staged, type TestRecord } from '../helpers/merge-oracle.js';
import { simulatedFeed, tempDir } from '../helpers/tap.js';
import { requireTools } from '../helpers/tools.js';
import { BigQuery } from '@google-cloud/bigquery';

requireTools([EMULATOR_BIN], 'the BigQuery emulator tests');

// A repeated step, as the script writes it: each run after the first only while the one before changed rows.
const REPEATED =
  'MERGE R;\nIF @@row_count > 0 THEN\nMERGE R;\nIF @@row_count > 0 THEN\nMERGE R;\nIF @@row_count > 0 THEN\nMERGE R;\nEND IF;\nEND IF;\nEND IF';

test(`the batch is one script: BEGIN TRANSACTION, the steps (a repeated one at most ${SCRIPT_REPEATS} times, while it changes rows), COMMIT`, () => {
  const script = mergeScript({
    steps: [
      { name: 'insert', sql: 'INSERT 1' },
      { name: 'reroot', sql: 'MERGE R', repeat: true },
      { name: 'empty', sql: 'DELETE 2' },
    ],
  });
  expect(SCRIPT_REPEATS).toBe(4);
  expect(script).toBe(`${['BEGIN TRANSACTION', 'INSERT 1', REPEATED, 'DELETE 2', 'COMMIT TRANSACTION'].join(';\n')};`);
});

test('a step with a condition runs in the script only while it holds (checked before each run)', () => {
  const script = mergeScript({ steps: [{ name: 'reroot', sql: 'MERGE R', repeat: true, onlyIf: 'EXISTS (SELECT 1)' }] });
  expect(script).toBe(
    `${['BEGIN TRANSACTION', `IF EXISTS (SELECT 1) THEN\n${REPEATED.replace(/@@row_count > 0/g, 'EXISTS (SELECT 1)')};\nEND IF`, 'COMMIT TRANSACTION'].join(';\n')};`,
  );
});

test('a job stopped by a guard names the setting to raise', () => {
  const settings = { project_id: 'p', dataset: 'd', maximum_bytes_billed: 1_000_000, job_timeout_seconds: 60 };
  // BigQuery's own words for each (no emulator enforces either: the texts are as BigQuery sends them).
  expect(jobFailure('Query exceeded limit for bytes billed: 1000000. 10485760 or higher required.', settings)).toBe(
    'a statement would bill more bytes than bigquery.maximum_bytes_billed (1000000) allows: raise it (BigQuery: Query exceeded limit for bytes billed: 1000000. 10485760 or higher required.)',
  );
  expect(jobFailure('Job execution was cancelled: Job timed out after 1 min 0 sec', settings)).toMatch(
    /^a job ran longer than bigquery.job_timeout_seconds \(60\) and BigQuery cancelled it; the batch was rolled back/,
  );
  expect(jobFailure('Table not found: x', settings)).toBe('Table not found: x');
  expect(jobGuards({ project_id: 'p', dataset: 'd' }, '0.1.0', 'ab12CD')).toEqual({
    labels: { app: 'target-invoca', version: '0_1_0', run: 'ab12cd' },
    jobTimeoutMs: 3_600_000,
  });
});

describe('on goccy/bigquery-emulator', () => {
  let emulator: RunningEmulator;
  let warehouse: Warehouse;
  let sourceCount = 0;

  beforeAll(async () => {
    emulator = await startEmulator();
    warehouse = await openBigQuery(
      { project_id: emulator.project, dataset: 'invoca', api_endpoint: emulator.endpoint },
      { authClient: staticAuth() },
    );
  }, 60_000);
  afterAll(async () => {
    await emulator?.stop();
  });

  /** Runs a generated MERGE whose USING subquery the emulator cannot nest: see the file comment. */
  async function runMerge(sql: string, on: Warehouse = warehouse): Promise<void> {
    const match = /^(MERGE INTO .+? AS t USING )\((.+)\)( AS [sp] ON .+)$/s.exec(sql);
    if (!match) throw new Error(`not a MERGE with a subquery source: ${sql.slice(0, 80)}`);
    const [, head, select, tail] = match;
    const source = on.dialect.table(`_invoca_test_source_${++sourceCount}`);
    await on.execute(`CREATE TABLE ${source} AS ${select}`);
    await on.execute(`${head}${source}${tail}`);
  }

  /**
   * Script variables do not outlive one job, and these steps run one job each: the bounds are
   * read with the script's own query and written into the statements as TIMESTAMP literals.
   */
  async function withCallDates(
    plan: MergePlan,
    on: Warehouse = warehouse,
    asTables: (sql: string) => string = (sql) => sql,
  ): Promise<(sql: string) => string> {
    const bounds = plan.dialect.callDates;
    const query = callDatesQuery(plan);
    if (!bounds || !query) throw new Error('the BigQuery plan has no call-date bounds');
    const [row] = await on.query(asTables(query));
    const literal = (value: unknown): string => {
      const time = value && typeof value === 'object' && 'value' in value ? (value as { value: unknown }).value : value;
      return typeof time === 'string' ? `TIMESTAMP '${time}'` : 'CAST(NULL AS TIMESTAMP)';
    };
    return (sql) => sql.replaceAll(bounds.lowest, literal(row?.['lowest'])).replaceAll(bounds.highest, literal(row?.['highest']));
  }

  async function loadStepwise(
    loader: Loader,
    schema: ReturnType<StreamSchema['toJSON']>,
    batch: readonly TestRecord[],
    on: Warehouse = warehouse,
  ): Promise<MergePlan> {
    const plan = loader.plan(schema);
    await loader.ensureTables(plan);
    await stageRows(on, plan, staged(batch));
    // The batch's steps in the loader's order, each its own job (see the file comment). A
    // script's temporary tables (the affected step) live in one job only: here they are tables
    // of the dataset, made by the same SELECT.
    const asTables = (sql: string): string =>
      sql
        .replace(/CREATE TEMP TABLE /g, 'CREATE OR REPLACE TABLE ')
        .replace(/`(_invoca_affected_\w+)`/g, (_, name: string) => on.dialect.table(name));
    let withDates = (sql: string): string => asTables(sql);
    for (const step of batchSteps(plan)) {
      if (step.name === 'lock') continue;
      // The script's call-date variables, set where the script sets them: see withCallDates.
      if (step.name === 'bounds') {
        const dates = await withCallDates(plan, on, asTables);
        withDates = (sql) => dates(asTables(sql));
      } else if (step.repeat) for (let pass = 0; pass < 3; pass++) await runMerge(step.sql, on);
      else if (step.sql.startsWith('MERGE ')) await runMerge(withDates(step.sql), on);
      else await on.execute(withDates(step.sql));
    }
    return plan;
  }

  test('create, load job, the merge statements, read back: equal to the model', async () => {
    const loader = new Loader(warehouse, createMemoryLogger());
    const schema = new StreamSchema(['Purchase Made', 'utm.source']).toJSON();
    const oracle = new MergeOracle();
    const { call, fix } = recordMaker(() => ({ 'Purchase Made': 'it\'s "1"', 'utm.source': 'ünï 🦷' }));
    const a = call('A', 'CALL-A', '10.00');
    const legs = [call('L1', 'CALL-L', '1.25'), call('L2', 'CALL-L', '2.50')];
    const first = [a, fix(a, 'A2', '2026-01-02T00:00:00Z', '7.00'), fix(a, 'A1', '2026-01-01T12:00:00Z', '9.00'), ...legs];
    await loadStepwise(loader, schema, first);
    oracle.load(first);
    expect(await actual(warehouse)).toEqual(oracle.expected());

    const second = [fix(legs[0] as TestRecord, 'L1x', '2026-01-03T00:00:00Z', '0.75'), call('B', 'CALL-B', '3.00'), ...first];
    await loadStepwise(loader, schema, second);
    oracle.load(second);
    const result = await actual(warehouse);
    expect(result).toEqual(oracle.expected());
    expect(result.calls.get('CALL-L')).toEqual({ legs: 2, payin: '3.25', transactionId: 'L1x' });
    expect(result.calls.get('CALL-A')).toEqual({ legs: 1, payin: '7', transactionId: 'A2' });

    const columns = await warehouse.columns('calls');
    expect([...(columns ?? [])].some((name) => /^Purchase_Made_[0-9a-f]{6}$/.test(name))).toBe(true);
    const odd = await warehouse.query(
      `SELECT ${warehouse.dialect.quote(warehouse.dialect.columnName('utm.source'))} AS u FROM ${warehouse.dialect.table('calls')} WHERE complete_call_id = 'CALL-B'`,
    );
    expect(odd).toEqual([{ u: 'ünï 🦷' }]);
  }, 120_000);

  test('calls are pruned to the start times a batch can touch: a call whose date moves, or whose older leg holds its row, is updated, never duplicated', async () => {
    warehouse = await openBigQuery(
      { project_id: emulator.project, dataset: 'invoca_dates', api_endpoint: emulator.endpoint },
      { authClient: staticAuth() },
    );
    const loader = new Loader(warehouse, createMemoryLogger());
    const schema = new StreamSchema([]).toJSON();
    const oracle = new MergeOracle();
    const { call, fix } = recordMaker();
    const day = (date: string): Record<string, unknown> => ({
      start_time: `${date}T08:00:00.000Z`,
      start_time_utc: Date.parse(`${date}T08:00:00.000Z`),
    });
    const moving = call('M', 'CALL-M', '5.00', day('2026-01-01'));
    const older = call('O1', 'CALL-O', '1.00', day('2026-01-02'));
    const first = [moving, older];
    await loadStepwise(loader, schema, first);
    oracle.load(first);
    // A correction that moves the call to another day; a second leg, on another day, of a call
    // whose row so far comes from its first leg (in no partition this batch delivers).
    const second = [
      { ...fix(moving, 'M2', '2026-01-05T00:00:00Z', '6.00'), ...day('2026-01-04') },
      call('O2', 'CALL-O', '2.00', day('2026-01-06')),
    ];
    await loadStepwise(loader, schema, second);
    oracle.load(second);
    expect(await actual(warehouse)).toEqual(oracle.expected());
    const duplicated = await warehouse.query(
      `SELECT complete_call_id, COUNT(*) AS n FROM ${warehouse.dialect.table('calls')} GROUP BY complete_call_id HAVING COUNT(*) > 1`,
    );
    expect(duplicated).toEqual([]);
  }, 120_000);

  test('without a location setting, jobs run in the location of the existing dataset', async () => {
    const client = new BigQuery({ projectId: emulator.project, apiEndpoint: emulator.endpoint, authClient: staticAuth() });
    await client.createDataset('invoca_eu', { location: 'EU' });
    const logger = createMemoryLogger();
    const inEu = await openBigQuery(
      { project_id: emulator.project, dataset: 'invoca_eu', api_endpoint: emulator.endpoint },
      { authClient: staticAuth() },
      { logger },
    );
    expect(logger.lines).toContain(`INFO BigQuery dataset ${emulator.project}.invoca_eu is in EU: its jobs run there`);
    expect(await inEu.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  test('the emulator stopped during a batch (its stage loaded, its merge not run): one line, no state echoed, nothing merged; after a restart on the same data the batch loads whole', async () => {
    const dataFile = join(await tempDir(), 'bigquery.sqlite');
    let down = await startEmulator('p-down', 'invoca', dataFile);
    const settings = { project_id: 'p-down', dataset: 'invoca', api_endpoint: down.endpoint };
    const real = await openBigQuery(settings, { authClient: staticAuth() });
    // The warehouse as the loader uses it, but the emulator goes away when the merge is sent.
    const stopping: Warehouse = {
      ...real,
      runMerge: async (merge) => {
        await down.stop();
        return real.runMerge(merge);
      },
    };
    const { call, fix } = recordMaker();
    const a = call('A', 'CALL-A', '10.00');
    const records = [a, fix(a, 'A1', '2026-01-02T00:00:00Z', '8.00'), call('B', 'CALL-B', '2.00')];
    const schema = new StreamSchema().toJSON();
    const { failure, states } = await targetRun(stopping, schema, records);
    expect(failure).toBeInstanceOf(WarehouseError);
    expect((failure as Error).message).toMatch(/^BigQuery failed: .*(ECONNREFUSED|connect|socket hang up)/);
    expect((failure as Error).message).not.toContain('\n');
    expect(states).toEqual([]);

    // The same data, served again: the tables exist, nothing of the batch was merged.
    down = await startEmulator('p-down', 'invoca', dataFile);
    try {
      const back = await openBigQuery({ ...settings, api_endpoint: down.endpoint }, { authClient: staticAuth() });
      expect(await back.query('SELECT COUNT(*) AS n FROM `p-down`.`invoca`.`transactions`')).toEqual([{ n: 0 }]);
      // The rerun, run as the emulator can (step by step, see the file comment): whole, equal to the model.
      await loadStepwise(new Loader(back, createMemoryLogger()), schema, records, back);
      const oracle = new MergeOracle();
      oracle.load(records);
      expect(await actual(back)).toEqual(oracle.expected());
    } finally {
      await down.stop();
    }
  }, 120_000);

  test("target-invoca merge's script runs again after a concurrent-update conflict, as a batch's does", async () => {
    // BigQuery raises the conflict only under concurrent jobs on the real service: a loopback
    // proxy in front of the emulator answers the first query job with BigQuery's own error body.
    let conflicts = 1;
    const proxy = createHttpServer((request, response) => {
      if (
        request.method === 'POST' &&
        /\/projects\/[^/]+\/(jobs|queries)$/.test((request.url ?? '').split('?')[0] ?? '') &&
        conflicts > 0
      ) {
        conflicts--;
        request.resume();
        const message = 'Could not serialize access to table p1:invoca.calls due to concurrent update';
        response.writeHead(400, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            error: { code: 400, message, errors: [{ message, domain: 'global', reason: 'invalidQuery' }], status: 'INVALID_ARGUMENT' },
          }),
        );
        return;
      }
      const upstream = new URL(emulator.endpoint);
      const forward = httpRequest(
        { host: upstream.hostname, port: upstream.port, path: request.url, method: request.method, headers: request.headers },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      request.pipe(forward);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const logger = createMemoryLogger();
      const behind = await openBigQuery(
        { project_id: emulator.project, dataset: 'invoca', api_endpoint: `http://127.0.0.1:${(proxy.address() as { port: number }).port}` },
        { authClient: staticAuth() },
        { logger, conflictDelayMs: 1 },
      );
      conflicts = 1;
      expect((await behind.runMerge({ steps: [], result: 'SELECT 41 + 1 AS answer' })).rows).toEqual([{ answer: 42 }]);
      expect(conflicts).toBe(0);
      expect(logger.lines).toContainEqual(
        expect.stringMatching(
          /^WARN BigQuery failed: Could not serialize access .* concurrent update; running the merge again \(retry 1\)/,
        ),
      );
    } finally {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });

  test('every query job carries the labels, the job timeout and the bytes-billed cap of the settings', async () => {
    const guarded = await openBigQuery(
      {
        project_id: emulator.project,
        dataset: 'invoca',
        api_endpoint: emulator.endpoint,
        maximum_bytes_billed: 10_000_000_000,
        job_timeout_seconds: 600,
      },
      { authClient: staticAuth() },
    );
    await guarded.execute('SELECT 42 AS guarded_probe');
    const client = new BigQuery({ projectId: emulator.project, apiEndpoint: emulator.endpoint, authClient: staticAuth() });
    const [jobs] = await client.getJobs({ allUsers: true });
    const configurations = await Promise.all(
      jobs.map(async (job) => (await job.getMetadata())[0] as { configuration?: Record<string, unknown> }),
    );
    const probe = configurations
      .map((metadata) => metadata.configuration ?? {})
      .find((configuration) => JSON.stringify(configuration).includes('guarded_probe'));
    expect(probe).toMatchObject({
      labels: { app: 'target-invoca', version: expect.any(String), run: expect.stringMatching(/^[0-9a-f]{8}$/) },
      jobTimeoutMs: '600000',
      query: { maximumBytesBilled: '10000000000' },
    });
  });

  test("target-invoca merge finds its source in another dataset (an Airbyte destination's final table) by the client's own lookup", async () => {
    const client = new BigQuery({ projectId: emulator.project, apiEndpoint: emulator.endpoint, authClient: staticAuth() });
    const [dataset] = await client.createDataset('airbyte_ns');
    await dataset.createTable('transactions', {
      schema: [
        { name: '_airbyte_raw_id', type: 'STRING' },
        { name: 'transaction_id', type: 'STRING' },
        { name: '_invoca_sequence', type: 'INT64' },
      ],
    });
    const found = await warehouse.findTable('transactions', 'airbyte_ns');
    expect(found).toEqual({
      sql: `\`${emulator.project}\`.\`airbyte_ns\`.\`transactions\``,
      columns: new Set(['_airbyte_raw_id', 'transaction_id', '_invoca_sequence']),
    });
    expect(await warehouse.query(`SELECT COUNT(*) AS n FROM ${found?.sql ?? ''}`)).toEqual([{ n: 0 }]);
    expect(await warehouse.findTable('transactions', 'no_such_dataset')).toBeUndefined();
    expect(await warehouse.findTable('no_such_table')).toBeUndefined();
  });

  test("the simulator's feed, in two runs with late corrections: equal to the model", async () => {
    // A dataset of its own: the emulator ignores ALTER TABLE ADD COLUMN (the columns this feed adds
    // to the first test's tables); adding columns is proven on DuckDB and PostgreSQL (merge.test.ts).
    warehouse = await openBigQuery(
      { project_id: emulator.project, dataset: 'invoca_feed', api_endpoint: emulator.endpoint },
      { authClient: staticAuth() },
    );
    const loader = new Loader(warehouse, createMemoryLogger());
    const { schema, records } = await simulatedFeed(800, 31);
    const oracle = new MergeOracle();
    const feed = records as TestRecord[];
    for (const batch of [feed.slice(0, 550), feed.slice(550)]) {
      await loadStepwise(loader, schema, batch);
      oracle.load(batch);
    }
    expect(feed.filter((record) => record['corrects_transaction_id']).length).toBeGreaterThan(100);
    expect(await actual(warehouse)).toEqual(oracle.expected());
  }, 300_000);

  test('the hostile names: every value is found in its own column of transactions_current, calls and the history view', async () => {
    // The emulator turns a JSON subscript into a JSON path of its own, which breaks on a key with
    // `"`, `'`, `$`, `\` or a control character (BigQuery takes any string): those names are
    // checked by GoogleSQL and loaded on DuckDB and PGlite only.
    const EMULATOR_FIELDS = HOSTILE_FIELDS.filter((field) => !/["'$\\\u0000-\u001f]/.test(field));
    warehouse = await openBigQuery(
      { project_id: emulator.project, dataset: 'invoca_hostile', api_endpoint: emulator.endpoint },
      { authClient: staticAuth() },
    );
    const loader = new Loader(warehouse, createMemoryLogger());
    const schema = new StreamSchema(EMULATOR_FIELDS).toJSON();
    const { call } = recordMaker(() => Object.fromEntries(EMULATOR_FIELDS.map((field, index) => [field, `value ${index} of ${field}`])));
    const plan = await loadStepwise(loader, schema, [call('T1', 'C1', '1.00')]);
    const q = warehouse.dialect.quote;
    for (const table of ['transactions_history', 'transactions_current', 'calls']) {
      const [row] = await warehouse.query(
        `SELECT ${plan.columns.map((column, index) => `${q(column.column)} AS c${index}`).join(', ')} FROM ${warehouse.dialect.table(table)}`,
      );
      EMULATOR_FIELDS.forEach((field, index) => {
        const position = plan.columns.findIndex((column) => column.field === field);
        expect([table, field, row?.[`c${position}`]]).toEqual([table, field, `value ${index} of ${field}`]);
      });
    }
  }, 120_000);
});
