/**
 * SIGTERM and SIGINT (docs/design.md and README, "Exit codes and signals"): the process stops reading, flushes what
 * is complete, emits the state for it and ends by the same signal; a resume from that state
 * completes and equals a clean run. Real bins in a pipe, the simulator with 300 ms per page.
 *
 * The signal is sent on an event, never after a fixed time: the tap is signalled once it has
 * written two pages and their states, the target once it has committed a batch and echoed its
 * state (so it has more to flush). Four pages of 300 ms are still to come then, so the victim is
 * mid-run however fast or slow the machine is.
 */
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { openDuckDb } from '../../src/load/duckdb-warehouse.js';
import { mergedTables, onOccurrences, pipeline, withFaults } from './harness.js';
import { useCleanFixture } from './fixture.js';

const fixture = useCleanFixture();

describe.each([
  ['target', 'SIGTERM'],
  ['target', 'SIGINT'],
  ['tap', 'SIGINT'],
] as const)('%s receives %s mid-run', (victim, signal) => {
  test('it ends by that signal after the state of what is committed; the resume equals a clean run', async () => {
    const database = `${victim}-${signal}.duckdb`;
    // Batches of 500 rows: the first commit comes during the second page of 400, and the rows
    // after it pend in the target until the signal makes it flush.
    const loader = await fixture.space.loaderConfig(database, { batch_size_rows: 500 });
    const tapConfig = await fixture.space.tapConfig();
    const stopped = await withFaults(fixture.sim, [{ kind: 'latency', delayMs: 300, times: 20 }], () =>
      pipeline(['--config', tapConfig], loader, {
        onStart: (processes) => {
          const signalVictim = (): boolean => processes[victim].kill(signal);
          if (victim === 'tap') onOccurrences(processes.tap.stdout, '"type":"STATE"', 2, signalVictim);
          else onOccurrences(processes.target.stdout, '\n', 1, signalVictim);
        },
      }),
    );
    if (victim === 'target') {
      expect([stopped.targetCode, stopped.targetSignal]).toEqual([null, signal]);
    } else {
      expect([stopped.tapCode, stopped.tapSignal]).toEqual([null, signal]);
      expect(stopped.targetCode).toBe(0);
    }
    expect(stopped.states.length).toBeGreaterThan(0);
    const cursor = (JSON.parse(stopped.states.at(-1) ?? '{}') as { bookmarks: { transactions: { replication_key_value: string } } })
      .bookmarks.transactions.replication_key_value;
    const warehouse = await openDuckDb({ path: join(fixture.space.dir, database), schema: 'main' });
    const committed = await warehouse.query(`SELECT COUNT(*) AS n FROM transactions WHERE transaction_id = '${cursor}'`);
    await warehouse.close();
    expect(Number(committed[0]?.['n'])).toBe(1);

    const resumed = await pipeline(['--config', tapConfig, ...(await fixture.space.stateFile(stopped.states.at(-1)))], loader);
    expect([resumed.tapCode, resumed.targetCode]).toEqual([0, 0]);
    expect(await mergedTables(join(fixture.space.dir, database))).toEqual(fixture.clean);
  }, 60_000);
});
