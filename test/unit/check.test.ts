/**
 * The pure parts of `target-invoca check`: its arguments, the cost projection, the report and
 * the reading of Snowflake's table owners. The check itself runs on real engines in
 * test/integration/check.test.ts.
 */
import { describe, expect, test } from '@jest/globals';
import { projectCost } from '../../src/check/projection.js';
import { checkReportText, firstFailure } from '../../src/check/report.js';
import type { CheckReport } from '../../src/check/run-check.js';
import { check } from '../../src/cli/target-args.js';
import { UsageError } from '../../src/errors.js';
import { jobCost } from '../../src/load/bigquery-warehouse.js';
import { ownershipProblems } from '../../src/load/sql/snowflake-grants.js';

describe('target-invoca check: arguments', () => {
  test('check with its config, format and schedule', () => {
    expect(check({ _: ['check'], config: 'loader.json', format: 'json', 'schedule-minutes': 15 })).toEqual({
      kind: 'check',
      configPath: 'loader.json',
      format: 'json',
      scheduleMinutes: 15,
    });
    expect(check({ _: ['check'], config: 'loader.json' })).toMatchObject({ kind: 'check', format: 'text', scheduleMinutes: 5 });
  });

  test('a schedule outside 1..1440 minutes, or given to another command, is a usage error naming the flag', () => {
    for (const minutes of [0, -5, 1441, Number.NaN]) {
      expect(() => check({ _: ['check'], config: 'loader.json', 'schedule-minutes': minutes })).toThrow(
        /^--schedule-minutes must be a number of minutes from 1 to 1440/,
      );
    }
    expect(() => check({ _: [], config: 'loader.json', 'schedule-minutes': 15 })).toThrow(
      new UsageError('--schedule-minutes is for target-invoca check'),
    );
  });

  test('an unknown command names the ones there are', () => {
    expect(() => check({ _: ['chek'], config: 'loader.json' })).toThrow(/^unknown command 'chek'; .* merge, sql or check --config/);
  });
});

describe('the cost projection', () => {
  test('BigQuery: bytes billed a batch, and the key columns read whole at the real table size, priced on demand', () => {
    const costs = [
      { statement: 'UPDATE lock...', ms: 300, bytes: 10_485_760, slotMs: 40 },
      { statement: 'MERGE INTO ...', ms: 900, bytes: 20_971_520, slotMs: 200 },
    ];
    const small = projectCost({ engine: 'bigquery', costs, batches: 2, batchMs: 4000, realTransactions: 0, batchesPerDay: 288 });
    // (10 MiB + 20 MiB) / 2 batches = 15.7 MB a batch; no real table: the measured bytes.
    expect(small.summary).toBe(
      '2 statements, 15.7 MB billed a batch here; projected ~$0.03 a day at 288 batches a day (capacity pricing bills slots instead)',
    );
    const large = projectCost({ engine: 'bigquery', costs, batches: 2, batchMs: 4000, realTransactions: 50_000_000, batchesPerDay: 288 });
    // 50M rows x 0.35 GB per million = 17.5 GB a batch: ~$0.0995 a batch, ~$28.65 a day.
    expect(large.lines.at(-1)).toBe(
      'projection: 50,000,000 rows in transactions: ~17.50 GB billed a batch (the key columns read whole, ~350.0 MB per million rows), ~$0.099 at $6.25/TiB on demand',
    );
    expect(large.summary).toMatch(/~\$28\.65 a day at 288 batches a day/);
    expect(large.lines[0]).toBe('    300 ms    10.5 MB  40 slot ms  UPDATE lock...');
  });

  test('Snowflake: the warehouse runs until its AUTO_SUSPEND after each batch, at least 60 s a resume, at most all day', () => {
    const costs = [
      { statement: 'MERGE ...', ms: 1500, bytes: 1000 },
      { statement: 'INSERT ...', ms: 500, bytes: 0 },
    ];
    const at = (batchesPerDay: number, autoSuspendSeconds?: number) =>
      projectCost({
        engine: 'snowflake',
        costs,
        batches: 2,
        batchMs: 3000,
        realTransactions: 0,
        batchesPerDay,
        ...(autoSuspendSeconds === undefined ? {} : { autoSuspendSeconds }),
      }).summary;
    // Every 15 minutes with the default 600 s: 1 s + 600 s a batch, 96 a day = 16.0 hours.
    expect(at(96)).toBe(
      "2 statements, 1.0 s a batch; at 96 batches a day the warehouse runs ~16.0 hours a day (credits: that times its size's rate, 1 an hour for XS)",
    );
    // Every 5 minutes: it never suspends.
    expect(at(288)).toMatch(/runs ~24\.0 hours a day/);
    // AUTO_SUSPEND 60: 61 s a batch, 288 a day = 4.9 hours.
    expect(at(288, 60)).toMatch(/runs ~4\.9 hours a day/);
    // AUTO_SUSPEND 0 (never): still 60 s a resume.
    expect(at(96, 0)).toMatch(/runs ~1\.6 hours a day/);
  });

  test('DuckDB: the time a batch took here, and no bill', () => {
    expect(projectCost({ engine: 'duckdb', costs: [], batches: 2, batchMs: 180, realTransactions: 10, batchesPerDay: 288 }).summary).toBe(
      '90 ms a batch on this machine (an embedded engine: no bill); the engine records no per-statement cost',
    );
  });
});

describe('the report', () => {
  const report: CheckReport = {
    engine: 'duckdb',
    prefix: '_invoca_check_0badf00d_',
    identity: { who: 'DuckDB v1.5 as me', where: 'x.duckdb, schema main' },
    steps: [
      { name: 'connect', status: 'passed', detail: 'DuckDB v1.5 as me; writes to x.duckdb, schema main', ms: 3 },
      { name: 'grants', status: 'failed', detail: 'cannot create a table: denied', ms: 5, items: ['FAIL  create a table: denied'] },
      { name: 'merge', status: 'skipped', detail: 'an earlier step failed', ms: 0 },
      { name: 'cost', status: 'skipped', detail: 'an earlier step failed', ms: 0 },
      { name: 'clean up', status: 'passed', detail: 'dropped every scratch table', ms: 2 },
    ],
    passed: false,
  };

  test('as text: a line a step, its items below, the verdict last', () => {
    expect(checkReportText(report)).toBe(
      [
        'target-invoca check on duckdb (scratch tables _invoca_check_0badf00d_*)',
        'PASS  connect       3 ms  DuckDB v1.5 as me; writes to x.duckdb, schema main',
        'FAIL  grants        5 ms  cannot create a table: denied',
        '        FAIL  create a table: denied',
        'SKIP  merge         0 ms  an earlier step failed',
        'SKIP  cost          0 ms  an earlier step failed',
        'PASS  clean up      2 ms  dropped every scratch table',
        'check FAILED',
        '',
      ].join('\n'),
    );
    expect(firstFailure(report)).toBe("check failed at 'grants': cannot create a table: denied");
  });
});

test("Snowflake's owners of the existing tables: one line per table the session's roles do not own, with the grant", () => {
  const rows = [
    { T: 'CALLS', OWNER: 'SYSADMIN', OWNED: false },
    { T: 'TRANSACTIONS', OWNER: 'INVOCA_LOADER', OWNED: true },
  ];
  expect(ownershipProblems(rows, '"ANALYTICS"."INVOCA"', 'INVOCA_LOADER')).toEqual([
    '"ANALYTICS"."INVOCA"."CALLS" is owned by SYSADMIN: a new custom field (ALTER TABLE ADD COLUMN) will fail; GRANT OWNERSHIP ON TABLE "ANALYTICS"."INVOCA"."CALLS" TO ROLE INVOCA_LOADER COPY CURRENT GRANTS',
  ]);
  expect(ownershipProblems(rows.slice(1), '"A"."B"', undefined)).toEqual([]);
});

test("a BigQuery job's cost from its metadata: billed bytes and slot time as BigQuery writes them (strings of numbers)", () => {
  expect(
    jobCost({
      configuration: {
        query: { query: 'MERGE INTO `p`.`d`.`calls` AS t USING (SELECT 1) AS s ON FALSE WHEN NOT MATCHED THEN INSERT ROW' },
      },
      statistics: { startTime: '1767254400000', endTime: '1767254401250', totalSlotMs: '420', query: { totalBytesBilled: '10485760' } },
    }),
  ).toEqual({
    statement: 'MERGE INTO `p`.`d`.`calls` AS t USING (SELECT 1) AS s ON FALSE WHEN NOT MATCHED THEN INSERT ROW...',
    ms: 1250,
    bytes: 10485760,
    slotMs: 420,
  });
});
