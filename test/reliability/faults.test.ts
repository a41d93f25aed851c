/**
 * Recoverable and fatal API faults, and SIGKILL at random points, each compared with a clean run
 * of the same feed (real bins, the simulator over loopback, DuckDB files). A fixed-seed subset of
 * the matrix `npm run soak` runs with varying seeds (docs/reliability.md).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { RunningSimulator } from '../../src/simulator/server.js';
import type { Expected } from '../helpers/merge-oracle.js';
import { fatal, FATAL, killAndResume, recoverable, RECOVERABLE } from './cases.js';
import { cleanFixture, type Workspace } from './harness.js';

let sim: RunningSimulator;
let space: Workspace;
let clean: Expected;

beforeAll(async () => {
  ({ sim, space, clean } = await cleanFixture());
}, 60_000);

afterAll(async () => {
  await sim.close();
});

describe('recoverable faults: the run succeeds, retries are bounded and logged, the tables equal a clean run', () => {
  test.each(RECOVERABLE.map((item) => [item.name, item] as const))(
    '%s',
    async (_name, item) => {
      const figures = await recoverable(sim, space, clean, item, 1);
      expect(figures.retriesLogged).toBeGreaterThan(0);
      expect(figures.rowsCompared).toBeGreaterThan(2_400);
    },
    60_000,
  );
});

describe('fatal faults: one CRITICAL line, exit 1, the last good page committed; the next run completes', () => {
  test.each(FATAL.map((item) => [item.name, item] as const))(
    '%s',
    async (_name, item) => {
      const figures = await fatal(sim, space, clean, item, 2);
      expect(figures.runs).toBe(2);
    },
    60_000,
  );
});

describe('SIGKILL of the tap or the target at seeded moments, resumed from the last echoed state', () => {
  test.each([1, 2, 3, 4])(
    'seed %i',
    async (seed) => {
      const figures = await killAndResume(space, clean, seed);
      expect(figures.rowsCompared).toBeGreaterThan(2_400);
    },
    120_000,
  );
});
