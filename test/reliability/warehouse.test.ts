/**
 * Warehouse faults: a MERGE that fails mid-run rolls its batch back, no state past the last
 * commit is echoed, and the rerun completes; a locked DuckDB file is a clear error; BigQuery's
 * concurrent-DML conflicts are retried.
 */
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { DuckDBInstance } from '@duckdb/node-api';
import { WarehouseError } from '../../src/errors.js';
import { CONCURRENT_DML } from '../../src/load/bigquery-warehouse.js';
import { openDuckDb } from '../../src/load/duckdb-warehouse.js';
import { Loader } from '../../src/load/loader.js';
import { createTable } from '../../src/load/plan.js';
import { retryConflicts } from '../../src/load/warehouse.js';
import { createMemoryLogger } from '../helpers/logger.js';
import { simulatedFeed } from '../helpers/tap.js';
import { mergedTables, pipeline } from './harness.js';
import { useCleanFixture } from './fixture.js';

const fixture = useCleanFixture();

describe('a MERGE that fails mid-run (a CHECK constraint on calls refuses the call of feed row 1,500)', () => {
  test('its batch is rolled back whole, no state past the last commit is echoed, and the rerun after the fix equals a clean run', async () => {
    const database = join(fixture.space.dir, 'check.duckdb');
    // The user's calls table refuses one call: the batch holding it (rows 900..1799) fails in step 5.
    const { schema } = await simulatedFeed(5, 21);
    const setup = await openDuckDb({ path: database, schema: 'main' });
    const ddl = createTable(new Loader(setup, createMemoryLogger()).plan(schema), 'calls');
    const refused = String(fixture.sim.feed.row(1_500)['complete_call_id']);
    await setup.execute(ddl.replace('"call_leg_count" BIGINT', `"call_leg_count" BIGINT CHECK ("complete_call_id" <> '${refused}')`));
    await setup.close();

    const loader = await fixture.space.loaderConfig('check.duckdb');
    const tapConfig = await fixture.space.tapConfig();
    const failed = await pipeline(['--config', tapConfig], loader);
    expect(failed.targetCode).toBe(1);
    const critical = failed.targetStderr.split('\n').filter((line) => line.startsWith('CRITICAL'));
    expect(critical).toHaveLength(1);
    expect(critical[0]).toMatch(/^CRITICAL target-invoca: DuckDB failed: Constraint Error: CHECK constraint failed/);

    // transactions holds whole batches of the feed, in order: the failed batch left nothing.
    const warehouse = await openDuckDb({ path: database, schema: 'main' });
    const ids = (await warehouse.query('SELECT transaction_id FROM transactions')).map((row) => String(row['transaction_id']));
    const loaded = new Set(ids);
    expect(ids.length).toBe(900);
    for (let index = 0; index < fixture.sim.feed.count; index++)
      expect(loaded.has(fixture.sim.feed.transactionId(index))).toBe(index < ids.length);
    // Every echoed state is covered by what was committed.
    const cursor = (JSON.parse(failed.states.at(-1) ?? '{}') as { bookmarks: { transactions: { replication_key_value: string } } })
      .bookmarks.transactions.replication_key_value;
    expect(loaded.has(cursor)).toBe(true);

    // The fix: the same table without the constraint, its rows kept.
    await warehouse.execute('CREATE TABLE calls_fixed AS SELECT * FROM calls');
    await warehouse.execute('DROP TABLE calls');
    await warehouse.execute('ALTER TABLE calls_fixed RENAME TO calls');
    await warehouse.close();
    const rerun = await pipeline(['--config', tapConfig, ...(await fixture.space.stateFile(failed.states.at(-1)))], loader);
    expect([rerun.tapCode, rerun.targetCode]).toEqual([0, 0]);
    expect(await mergedTables(database)).toEqual(fixture.clean);
  }, 60_000);
});

describe('a locked DuckDB file', () => {
  test('fails at once with one line naming the file, exit 1, and nothing echoed', async () => {
    const database = join(fixture.space.dir, 'locked.duckdb');
    const instance = await DuckDBInstance.create(database);
    try {
      // DuckDB locks across processes only; the pipeline runs target-invoca as its own process.
      const run = await pipeline(['--config', await fixture.space.tapConfig()], await fixture.space.loaderConfig('locked.duckdb'));
      expect(run.targetCode).toBe(1);
      expect(run.states).toEqual([]);
      expect(run.targetStderr.trim().split('\n').at(-1)).toMatch(
        /^CRITICAL target-invoca: cannot open the DuckDB file .*locked\.duckdb: .*lock/i,
      );
    } finally {
      instance.closeSync();
    }
  }, 60_000);
});

describe('BigQuery concurrent-DML conflicts', () => {
  // BigQuery raises these only under concurrent jobs on the real service; no emulator does, so
  // the retry policy is tested with a function that fails like the client does (not a mock of BigQuery).
  test("BigQuery's conflict messages are recognised as retryable", () => {
    for (const text of [
      'Could not serialize access to table p:d.calls due to concurrent update',
      'Transaction is aborted due to concurrent update against table p:d.transactions_current',
    ]) {
      expect(CONCURRENT_DML.test(text)).toBe(true);
    }
    expect(CONCURRENT_DML.test('Syntax error: Unexpected keyword MERGE')).toBe(false);
  });

  test('a conflicting script runs again, with growing waits, up to the limit; other errors are not retried', async () => {
    let attempts = 0;
    const waits: number[] = [];
    const conflict = () =>
      new WarehouseError('BigQuery failed: Could not serialize access to table calls due to concurrent update', { retryable: true });
    const result = await retryConflicts(
      async () => {
        attempts++;
        if (attempts < 3) throw conflict();
        return 'committed';
      },
      { retries: 5, initialDelayMs: 10, random: () => 0.5, onRetry: (_error, _retry, delayMs) => waits.push(delayMs) },
    );
    expect(result).toBe('committed');
    // The project's one backoff (src/retry.ts): equal jitter under a doubling ceiling of 10, 20 ms.
    expect(waits).toEqual([8, 15]);

    let tries = 0;
    await expect(
      retryConflicts(
        async () => {
          tries++;
          throw conflict();
        },
        { retries: 2, initialDelayMs: 1, onRetry: () => undefined },
      ),
    ).rejects.toThrow(/concurrent update/);
    expect(tries).toBe(3);
    let fatalTries = 0;
    await expect(
      retryConflicts(
        async () => {
          fatalTries++;
          throw new WarehouseError('BigQuery failed: Not found: Dataset');
        },
        { retries: 5, initialDelayMs: 1, onRetry: () => undefined },
      ),
    ).rejects.toThrow(/Not found/);
    expect(fatalTries).toBe(1);
  });
});
