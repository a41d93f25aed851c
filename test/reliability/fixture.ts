import { afterAll, beforeAll } from '@jest/globals';
import { cleanFixture, type CleanFixture } from './harness.js';

/**
 * The clean fixture of a suite, set up once before its tests and closed after them:
 * `const fixture = useCleanFixture();` then `fixture.sim`, `fixture.space`, `fixture.clean`.
 */
export function useCleanFixture(): CleanFixture {
  let fixture: CleanFixture | undefined;
  beforeAll(async () => {
    fixture = await cleanFixture();
  }, 60_000);
  afterAll(async () => {
    await fixture?.sim.close();
  });
  const ready = (): CleanFixture => {
    if (!fixture) throw new Error('the clean fixture is set up in beforeAll');
    return fixture;
  };
  return {
    get sim() {
      return ready().sim;
    },
    get space() {
      return ready().space;
    },
    get clean() {
      return ready().clean;
    },
  };
}
