/**
 * The parallel date-window backfill (`backfill_concurrency`) against the sequential cursor walk:
 * real bins, the simulator over loopback, DuckDB files. The feed ends today, so "yesterday" has
 * calls to anchor on.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import { dateWindows } from '../../src/tap/backfill.js';
import { addDays } from '../../src/tap/anchor.js';
import { openDuckDb } from '../../src/load/duckdb-warehouse.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { pipeTap } from '../helpers/pipe.js';
import { simulator } from '../helpers/simulator.js';
import { jsonFile, tapConfig, tempDir } from '../helpers/tap.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('dateWindows', () => {
  test('contiguous windows from start_date to today, sizes within one day of each other', () => {
    const windows = dateWindows('2026-01-01', '2026-01-10', 2);
    expect(windows).toEqual([
      { from: '2026-01-01', to: '2026-01-02' },
      { from: '2026-01-03', to: '2026-01-04' },
      { from: '2026-01-05', to: '2026-01-05' },
      { from: '2026-01-06', to: '2026-01-06' },
      { from: '2026-01-07', to: '2026-01-07' },
      { from: '2026-01-08', to: '2026-01-08' },
      { from: '2026-01-09', to: '2026-01-09' },
      { from: '2026-01-10', to: '2026-01-10' },
    ]);
    expect(dateWindows('2026-01-01', '2026-01-03', 8)).toHaveLength(3);
    expect(dateWindows('2026-01-05', '2026-01-04', 4)).toEqual([]);
    expect(dateWindows('2025-12-30', '2026-01-02', 1)).toEqual([
      { from: '2025-12-30', to: '2025-12-30' },
      { from: '2025-12-31', to: '2025-12-31' },
      { from: '2026-01-01', to: '2026-01-01' },
      { from: '2026-01-02', to: '2026-01-02' },
    ]);
  });
});

describe('backfill_concurrency', () => {
  test('parallel date windows then the cursor give the same merged tables as the sequential walk, and resume like it', async () => {
    const today = new Date().toISOString().slice(0, 10);
    // 14 days of 800 calls a day ending today; start_date 8 days ago.
    sim = await simulator({
      rows: 14 * 800,
      rowsPerDay: 800,
      seed: 11,
      startMs: Date.parse(`${addDays(today, -13)}T00:00:00Z`) + 12 * 3_600_000,
    });
    const startDate = addDays(today, -8);
    const dir = await tempDir();
    const loaderFor = (name: string) => jsonFile({ engine: 'duckdb', duckdb: { path: join(dir, name) }, batch_size_rows: 3_000 });

    await pipeTap(['--config', await jsonFile(tapConfig(sim, { start_date: startDate, page_size: 500 }))], process.execPath, [
      'dist/src/bin/target-invoca.js',
      '--config',
      await loaderFor('sequential.duckdb'),
    ]);
    const parallel = await pipeTap(
      ['--config', await jsonFile(tapConfig(sim, { start_date: startDate, page_size: 500, backfill_concurrency: 4 }))],
      process.execPath,
      ['dist/src/bin/target-invoca.js', '--config', await loaderFor('parallel.duckdb')],
    );
    expect(parallel.tapStderr).toMatch(/backfill: \d+ date windows from \S+ to \S+, 4 at a time; then the cursor from /);
    const sequences = parallel.messages
      .filter((message) => message['type'] === 'RECORD')
      .map((message) => (message['record'] as { _invoca_sequence: number })._invoca_sequence);
    expect(sequences.every((sequence, index) => index === 0 || sequence > (sequences[index - 1] ?? 0))).toBe(true);

    // The calls of start_date on (a day later in UTC, to be clear of the time zone) are the same.
    const since = `${addDays(startDate, 1)} 00:00:00`;
    const merged = async (name: string) => {
      const warehouse = await openDuckDb({ path: join(dir, name), schema: 'main' });
      try {
        const current = await warehouse.query(
          `SELECT root_transaction_id AS r, transaction_id AS id FROM transactions_current WHERE start_time >= TIMESTAMP '${since}' ORDER BY r`,
        );
        const calls = await warehouse.query(
          `SELECT complete_call_id AS c, call_leg_count AS legs, CAST(advertiser_payin_localized AS VARCHAR) AS payin, transaction_id AS id FROM calls WHERE start_time >= TIMESTAMP '${since}' ORDER BY c`,
        );
        return { current, calls };
      } finally {
        await warehouse.close();
      }
    };
    const want = await merged('sequential.duckdb');
    expect(want.current.length).toBeGreaterThan(4_000);
    expect(want.calls.length).toBeGreaterThan(3_000);
    expect(await merged('parallel.duckdb')).toEqual(want);

    // The last state points after the cursor walk; a later run from it gets only new rows.
    const lastState = parallel.targetStdout.at(-1) ?? '';
    sim.append(700);
    const resumed = await pipeTap(
      [
        '--config',
        await jsonFile(tapConfig(sim, { start_date: startDate, backfill_concurrency: 4 })),
        '--state',
        await jsonFile(JSON.parse(lastState)),
      ],
      process.execPath,
      ['dist/src/bin/target-invoca.js', '--config', await loaderFor('parallel.duckdb')],
    );
    expect(resumed.messages.filter((message) => message['type'] === 'RECORD')).toHaveLength(700);
    expect(resumed.tapStderr).not.toContain('backfill:');
  }, 120_000);
});
