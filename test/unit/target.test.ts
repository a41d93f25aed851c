import { describe, expect, test } from '@jest/globals';
import { privilegeHint, timeoutHint } from '../../src/load/sql/snowflake-grants.js';
import { Health } from '../../src/metrics/health.js';
import { storageHasZstd } from '../../src/load/sql/duckdb.js';
import { recordText } from '../../src/load/target.js';
import { encodeSinger } from '../../src/protocol/singer.js';

const parse = (line: string): Record<string, unknown> => JSON.parse(line) as Record<string, unknown>;

describe('recordText: the record cut out of its line', () => {
  const records = [
    { transaction_id: 'a1', 'Customer\'s "Name"': 'Zoë \\ 東京 😀', nested: { record: 1 }, n: 1.5, none: null },
    { transaction_id: 'a2', text: '},"time_extracted":"x"}', empty: '' },
  ];
  const lines = encodeSinger({ type: 'records', records }, '2026-11-30T04:00:00.000Z').trimEnd().split('\n');

  test("tap-invoca's lines: the cut is the record, value for value", () => {
    const cut = lines.map((line) => recordText(line, parse(line)));
    // The first record holds an escaped surrogate pair (the tap writes ASCII): left to the caller.
    expect(cut[0]).toBeUndefined();
    expect(JSON.parse(cut[1] ?? 'null')).toEqual(records[1]);
  });

  test('any other layout is left to the caller', () => {
    const record = '{"transaction_id":"b1"}';
    const variants = [
      `{"type": "RECORD", "stream": "transactions", "record": ${record}}`,
      `{"stream":"transactions","type":"RECORD","record":${record}}`,
      `{"type":"RECORD","stream":"transactions","record":${record},"version":1}`,
      `{"type":"RECORD","stream":"transactions","record":${record},"time_extracted":"2026-11-30T04:00:00Z" }`,
      `{"type":"RECORD","stream":"transactions","record":{"transaction_id":"b0"},"record":${record}}`,
      `{"type":"RECORD","stream":"transactions","record":{"x":"\\ud800"}}`,
    ];
    for (const line of variants) expect(recordText(line, parse(line))).toBeUndefined();
    const plain = `{"type":"RECORD","stream":"transactions","record":${record}}`;
    expect(recordText(plain, parse(plain))).toBe(record);
  });
});

test('DuckDB storage versions with ZSTD: 1.2 and later', () => {
  expect(['v1.0.0+', 'v0.10.2', 'v1.1.3', ''].map(storageHasZstd)).toEqual([false, false, false, false]);
  expect(['v1.2.0+', 'v1.5.0+', 'v2.0.0'].map(storageHasZstd)).toEqual([true, true, true]);
});

test("Snowflake's refusal to add a column names the grant that fixes it (no engine models grants offline: the error text is Snowflake's documented one)", () => {
  const refused = "SQL access control error: Insufficient privileges to operate on table 'TRANSACTIONS'";
  expect(privilegeHint('ALTER TABLE "ANALYTICS"."INVOCA"."TRANSACTIONS" ADD COLUMN "Coupon Code" VARCHAR', refused, 'INVOCA_LOADER')).toBe(
    '; adding a column for a new custom field needs OWNERSHIP of the table: GRANT OWNERSHIP ON TABLE "ANALYTICS"."INVOCA"."TRANSACTIONS" TO ROLE INVOCA_LOADER COPY CURRENT GRANTS (README, "Minimum grants for the loader")',
  );
  expect(privilegeHint('MERGE INTO "T"', refused, undefined)).toMatch(/Minimum grants for the loader", for ROLE <the loader's role>$/);
  expect(privilegeHint('ALTER TABLE "T" ADD COLUMN "X" VARCHAR', 'Object does not exist', 'R')).toBe('');
});

test("a statement one of the Snowflake session's guards stopped names the setting (no offline engine enforces them: the texts are Snowflake's)", () => {
  expect(timeoutHint('Statement reached its statement or warehouse timeout of 3,600 second(s) and was canceled.')).toMatch(
    /^; the statement ran longer than snowflake\.statement_timeout_seconds/,
  );
  expect(
    timeoutHint("Statement '01b2' has locked table 'CALLS' ... Your statement '01b3' was aborted because the lock wait timed out."),
  ).toMatch(/^; another loader held the lock longer than snowflake\.lock_timeout_seconds/);
  expect(timeoutHint("SQL compilation error: Object 'X' does not exist")).toBe('');
});

test('/healthz: progress within the max age, a commit running, or nothing waiting is healthy; else 503 with the last error, redacted', () => {
  let now = 0;
  let waiting = 0;
  const health = new Health('commit', 10_000, {
    redact: (text) => text.replace('s3cret', '[REDACTED]'),
    nothingWaiting: () => waiting === 0,
    now: () => now,
  });
  now = 30_000;
  expect(health.report()).toEqual({ ok: true, reason: 'nothing waiting; no commit yet in the 30 s since the start' });
  waiting = 5;
  health.failed('Snowflake failed: token s3cret\nsecond line');
  expect(health.report()).toEqual({
    ok: false,
    reason:
      'no commit yet in the 30 s since the start, more than health_max_age_seconds (10); the last error: Snowflake failed: token [REDACTED]',
  });
  health.busy(true);
  now = 45_000;
  expect(health.report()).toEqual({ ok: true, reason: 'working for 15 s; no commit yet in the 45 s since the start' });
  health.busy(false);
  health.progressed();
  now = 50_000;
  expect(health.report()).toEqual({ ok: true, reason: 'the last commit was 5 s ago' });
});
