/**
 * Recoverable and fatal API faults, and SIGKILL at random points, each compared with a clean run
 * of the same feed (real bins, the simulator over loopback, DuckDB files). A fixed-seed subset of
 * the matrix `npm run soak` runs with varying seeds (docs/reliability.md).
 */
import { describe, expect, test } from '@jest/globals';
import { fatal, FATAL, killAndResume, recoverable, RECOVERABLE } from './cases.js';
import { useCleanFixture } from './fixture.js';

const fixture = useCleanFixture();

describe('recoverable faults: the run succeeds, retries are bounded and logged, the tables equal a clean run', () => {
  test.each(RECOVERABLE.map((item) => [item.name, item] as const))(
    '%s',
    async (_name, item) => {
      const figures = await recoverable(fixture.sim, fixture.space, fixture.clean, item, 1);
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
      const figures = await fatal(fixture.sim, fixture.space, fixture.clean, item, 2);
      expect(figures.runs).toBe(2);
    },
    60_000,
  );
});

describe('SIGKILL of the tap or the target at seeded moments, resumed from the last echoed state', () => {
  test.each([1, 2, 3, 4])(
    'seed %i',
    async (seed) => {
      const figures = await killAndResume(fixture.space, fixture.clean, seed);
      expect(figures.rowsCompared).toBeGreaterThan(2_400);
    },
    120_000,
  );
});
