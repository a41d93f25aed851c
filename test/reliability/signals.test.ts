/**
 * SIGTERM and SIGINT (design: "Exit codes and signals"): the process stops reading, flushes what
 * is complete, emits the state for it and ends by the same signal; a resume from that state
 * completes and equals a clean run. Real bins in a pipe, the simulator with 300 ms per page.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { openDuckDb } from '../../src/load/duckdb-warehouse.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import type { Expected } from '../helpers/merge-oracle.js';
import { cleanFixture, mergedTables, pipeline, type Workspace } from './harness.js';

let sim: RunningSimulator;
let space: Workspace;
let clean: Expected;

beforeAll(async () => {
  ({ sim, space, clean } = await cleanFixture());
}, 60_000);
afterAll(async () => {
  await sim.close();
});

describe.each([['target', 'SIGTERM'], ['target', 'SIGINT'], ['tap', 'SIGINT']] as const)('%s receives %s mid-run', (victim, signal) => {
  test('it ends by that signal after the state of what is committed; the resume equals a clean run', async () => {
    const database = `${victim}-${signal}.duckdb`;
    // One big batch: records pend in the target until the signal makes it flush.
    const loader = await space.loaderConfig(database, { batch_size_rows: 100_000 });
    const tapConfig = await space.tapConfig();
    sim.setFaults([{ kind: 'latency', delayMs: 300, times: 20 }]);
    const stopped = await pipeline(['--config', tapConfig], loader, {
      onStart: (processes) => {
        setTimeout(() => processes[victim].kill(signal), 900);
      },
    });
    sim.setFaults([]);
    if (victim === 'target') {
      expect([stopped.targetCode, stopped.targetSignal]).toEqual([null, signal]);
    } else {
      expect([stopped.tapCode, stopped.tapSignal]).toEqual([null, signal]);
      expect(stopped.targetCode).toBe(0);
    }
    expect(stopped.states.length).toBeGreaterThan(0);
    const cursor = (JSON.parse(stopped.states.at(-1) ?? '{}') as { bookmarks: { transactions: { replication_key_value: string } } }).bookmarks.transactions.replication_key_value;
    const warehouse = await openDuckDb({ path: join(space.dir, database), schema: 'main' });
    const committed = await warehouse.query(`SELECT COUNT(*) AS n FROM transactions WHERE transaction_id = '${cursor}'`);
    await warehouse.close();
    expect(Number(committed[0]?.['n'])).toBe(1);

    const resumed = await pipeline(['--config', tapConfig, ...(await space.stateFile(stopped.states.at(-1)))], loader);
    expect([resumed.tapCode, resumed.targetCode]).toEqual([0, 0]);
    expect(await mergedTables(join(space.dir, database))).toEqual(clean);
  }, 60_000);
});
