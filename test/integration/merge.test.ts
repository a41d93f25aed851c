/**
 * The merge properties of the design, on real engines: DuckDB (@duckdb/node-api, the product's
 * default) and PostgreSQL (PGlite, which raises the duplicate-match error that BigQuery and
 * Snowflake raise). Every scenario ends compared with the TypeScript model in merge-oracle.ts.
 */
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, test } from '@jest/globals';
import { WarehouseError } from '../../src/errors.js';
import { dataColumns } from '../../src/load/columns.js';
import { openDuckDb } from '../../src/load/duckdb-warehouse.js';
import { Loader } from '../../src/load/loader.js';
import {
  dropStage,
  HISTORY_VIEW,
  systemColumns,
  insertNewTransactions,
  rerootCorrections,
  rerootPending,
  TABLES,
} from '../../src/load/plan.js';
import { runTarget } from '../../src/load/target.js';
import { type StagedRow, stageRows, type Warehouse } from '../../src/load/warehouse.js';
import { createMemoryLogger } from '../helpers/logger.js';
import { StreamSchema } from '../../src/stream/schema.js';
import { actual, MergeOracle, staged, type TestRecord } from '../helpers/merge-oracle.js';
import { openPglite } from '../helpers/pglite-warehouse.js';
import { correctionOf } from '../helpers/records.js';
import { simulatedFeed, tempDir } from '../helpers/tap.js';

const engines = {
  duckdb: () => openDuckDb({ path: ':memory:', schema: 'main' }),
  postgres: () => openPglite(),
} as const;

const CUSTOM = ['Purchase Made', 'utm.source', 'Quote "Q"', 'select', 'naïve ✓'];
const schema = new StreamSchema(CUSTOM).toJSON();

let sequence = 1_000;
function call(id: string, callId: string, payin: string | number | null, extra: Record<string, unknown> = {}): TestRecord {
  return {
    transaction_id: id,
    transaction_type: 'Call',
    complete_call_id: callId,
    corrects_transaction_id: null,
    corrected_at: null,
    corrected_at_utc: null,
    advertiser_payin_localized: payin,
    start_time_utc: 1_767_254_400_000,
    start_time: '2026-01-01T08:00:00.000Z',
    'Purchase Made': '1',
    _invoca_sequence: sequence++,
    ...extra,
  };
}
function correction(
  id: string,
  of: TestRecord,
  correctedAt: string,
  payin: string | number | null,
  extra: Record<string, unknown> = {},
): TestRecord {
  return correctionOf(of, id, correctedAt, payin, sequence++, extra);
}
function event(id: string, callId: string): TestRecord {
  return { ...call(id, callId, '0.00'), transaction_type: 'Post Call Event', signal_name: 'Sale,Quote', revenue: '349.00' };
}

let open: Warehouse | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

async function setup(
  engine: keyof typeof engines,
): Promise<{ warehouse: Warehouse; loader: Loader; oracle: MergeOracle; load: (batch: TestRecord[]) => Promise<void> }> {
  const warehouse = await engines[engine]();
  open = warehouse;
  const loader = new Loader(warehouse, createMemoryLogger());
  const oracle = new MergeOracle();
  return {
    warehouse,
    loader,
    oracle,
    load: async (batch) => {
      // With the records: the stage types the fields they carry only, as in a run of the target.
      await loader.loadBatch(schema, staged(batch), batch);
      oracle.load(batch);
    },
  };
}

async function dump(warehouse: Warehouse): Promise<string> {
  const tables = await Promise.all(
    Object.values(TABLES).map((table) => warehouse.query(`SELECT * FROM ${warehouse.dialect.table(table)} ORDER BY 1, 2`)),
  );
  return JSON.stringify(tables, (_, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

describe.each(Object.keys(engines) as (keyof typeof engines)[])('%s', (engine) => {
  test('several corrections of one call in one batch: the latest wins, one row, no duplicate-match error', async () => {
    const { warehouse, oracle, load } = await setup(engine);
    const original = call('O1', 'CALL-1', '10.00');
    const batch = [
      original,
      correction('C1', original, '2026-01-02T00:00:00Z', '8.00'),
      correction('C3', original, '2026-01-04T00:00:00Z', '4.00'),
      correction('C2', original, '2026-01-03T00:00:00Z', '6.00'),
    ];
    await load(batch);
    const result = await actual(warehouse);
    expect(result).toEqual(oracle.expected());
    expect(result.current.get('O1')).toBe('C3');
    expect(result.calls.get('CALL-1')).toEqual({ legs: 1, payin: '4', transactionId: 'C3' });
  });

  test('a correction in a later run updates; re-running a batch or replaying an old one changes nothing', async () => {
    const { warehouse, oracle, load } = await setup(engine);
    const original = call('O2', 'CALL-2', '12.50');
    const first = [original, call('O3', 'CALL-3', '1.00')];
    await load(first);
    const second = [correction('C4', original, '2026-01-05T10:00:00Z', '0.00')];
    await load(second);
    expect((await actual(warehouse)).calls.get('CALL-2')).toEqual({ legs: 1, payin: '0', transactionId: 'C4' });
    const before = await dump(warehouse);
    await load(second);
    await load(first);
    // A re-delivery with a new sequence (a lost state) keeps the first one and changes nothing.
    await load(first.map((record) => ({ ...record, _invoca_sequence: sequence++ })));
    expect(await dump(warehouse)).toBe(before);
    expect(await actual(warehouse)).toEqual(oracle.expected());
  });

  test('a correction that arrives before its original (a date-window backfill) is not overwritten by it', async () => {
    const { warehouse, oracle, load } = await setup(engine);
    const original = call('O5', 'CALL-5', '20.00');
    await load([correction('C5', original, '2026-01-06T00:00:00Z', '15.00')]);
    expect((await actual(warehouse)).current.get('O5')).toBe('C5');
    await load([original]);
    const result = await actual(warehouse);
    expect(result.current.get('O5')).toBe('C5');
    expect(result.calls.get('CALL-5')).toEqual({ legs: 1, payin: '15', transactionId: 'C5' });
    expect(result).toEqual(oracle.expected());
  });

  test('two corrections in the same second: the one seen later wins', async () => {
    const { warehouse, oracle, load } = await setup(engine);
    const original = call('O6', 'CALL-6', '9.00');
    await load([
      original,
      correction('ZZ-FIRST', original, '2026-01-07T00:00:00Z', '7.00'),
      correction('AA-SECOND', original, '2026-01-07T00:00:00Z', '5.00'),
    ]);
    expect((await actual(warehouse)).current.get('O6')).toBe('AA-SECOND');
    expect(await actual(warehouse)).toEqual(oracle.expected());
  });

  test('a two-leg call keeps both legs in transactions_current and both legs money in calls', async () => {
    const { warehouse, oracle, load } = await setup(engine);
    const leg1 = call('L1', 'CALL-7', '10.10');
    const leg2 = call('L2', 'CALL-7', 5.05);
    await load([leg1, leg2, event('E7', 'CALL-7')]);
    let result = await actual(warehouse);
    expect(result.current.get('L1')).toBe('L1');
    expect(result.current.get('L2')).toBe('L2');
    expect(result.calls.get('CALL-7')).toEqual({ legs: 2, payin: '15.15', transactionId: 'L2' });
    await load([correction('L1C', leg1, '2026-01-08T00:00:00Z', '0.05')]);
    result = await actual(warehouse);
    expect(result.calls.get('CALL-7')).toEqual({ legs: 2, payin: '5.1', transactionId: 'L1C' });
    expect(result).toEqual(oracle.expected());
  });

  test('a correction that moves a leg to another call, or to none, updates the call it left and removes an empty one', async () => {
    const { warehouse, oracle, load } = await setup(engine);
    const leg1 = call('M1', 'CALL-M', '10.00');
    const leg2 = call('M2', 'CALL-M', '5.00');
    const lone = call('N1', 'CALL-N', '7.00');
    await load([leg1, leg2, lone]);
    expect((await actual(warehouse)).calls.get('CALL-M')).toEqual({ legs: 2, payin: '15', transactionId: 'M2' });
    // M2's correction names no call (the field went missing): CALL-M keeps one leg.
    await load([correction('M2x', leg2, '2026-01-09T00:00:00Z', '5.00', { complete_call_id: null })]);
    expect((await actual(warehouse)).calls.get('CALL-M')).toEqual({ legs: 1, payin: '10', transactionId: 'M1' });
    // N1's correction names CALL-M: CALL-N has no leg left and goes.
    await load([correction('N1x', lone, '2026-01-09T00:00:00Z', '7.00', { complete_call_id: 'CALL-M' })]);
    const result = await actual(warehouse);
    expect(result.calls.get('CALL-M')).toEqual({ legs: 2, payin: '17', transactionId: 'N1x' });
    expect(result.calls.has('CALL-N')).toBe(false);
    expect(result).toEqual(oracle.expected());
  });

  test('a call whose latest leg leaves it while a new leg with the same money joins takes its row from the legs it has now', async () => {
    const { warehouse, oracle, load } = await setup(engine);
    const first = call('X1', 'CALL-X', '1.00');
    const second = call('X2', 'CALL-X', '2.00');
    const corrected = correction('X2a', second, '2026-01-09T00:00:00Z', '2.00');
    await load([first, second, corrected]);
    expect((await actual(warehouse)).calls.get('CALL-X')).toEqual({ legs: 2, payin: '3', transactionId: 'X2a' });
    // X2 moves to another call and a new leg with the same money joins: two legs, the same sum,
    // and a latest leg (an original) whose version is below the correction's that held the row.
    await load([correction('X2b', second, '2026-01-10T00:00:00Z', '2.00', { complete_call_id: 'CALL-Y' }), call('X3', 'CALL-X', '2.00')]);
    const result = await actual(warehouse);
    expect(result.calls.get('CALL-X')).toEqual({ legs: 2, payin: '3', transactionId: 'X3' });
    expect(result).toEqual(oracle.expected());
  });

  test('chains: a correction naming a correction, re-rooted when the middle one arrives later', async () => {
    const { warehouse, oracle, load } = await setup(engine);
    const original = call('O8', 'CALL-8', '30.00');
    const first = correction('C8a', original, '2026-01-09T00:00:00Z', '25.00');
    const second = { ...correction('C8b', first, '2026-01-10T00:00:00Z', '20.00') };
    await load([original]);
    await load([second]);
    expect((await actual(warehouse)).current.get('C8a')).toBe('C8b');
    await load([first]);
    const result = await actual(warehouse);
    expect(result.current.has('C8a')).toBe(false);
    expect(result.current.get('O8')).toBe('C8b');
    expect(result.calls.get('CALL-8')).toEqual({ legs: 1, payin: '20', transactionId: 'C8b' });
    expect(result).toEqual(oracle.expected());
    const third = correction('C8c', second, '2026-01-11T00:00:00Z', '19.99');
    const fourth = correction('C8d', third, '2026-01-12T00:00:00Z', '18.00');
    await load([fourth, third]);
    expect(await actual(warehouse)).toEqual(oracle.expected());
  });

  test("a re-rooting that changes no money or leg still gives the call its lineage's final root", async () => {
    const { warehouse, oracle, load } = await setup(engine);
    const original = call('OX', 'CALL-X', '5.00');
    const first = correction('CXa', original, '2026-01-09T00:00:00Z', '4.00');
    const second = correction('CXb', first, '2026-01-10T00:00:00Z', '3.50');
    const rootOfCall = async (): Promise<unknown> =>
      (
        await warehouse.query(
          `SELECT ${warehouse.dialect.quote('root_transaction_id')} AS r FROM ${warehouse.dialect.table('calls')} WHERE ${warehouse.dialect.quote(warehouse.dialect.columnName('complete_call_id'))} = 'CALL-X'`,
        )
      )[0]?.['r'];
    await load([second]);
    expect(await rootOfCall()).toBe('CXa');
    // The original and the middle correction arrive: the call's latest leg, legs and money are as they were.
    await load([first, original]);
    expect(await actual(warehouse)).toEqual(oracle.expected());
    expect(await rootOfCall()).toBe('OX');
  });

  test("transactions keeps the history's fields; the history view types every version as transactions_current types a lineage's latest (the simulator's feed)", async () => {
    const { warehouse, loader } = await setup(engine);
    const { schema: feedSchema, records } = await simulatedFeed(600, 17);
    const feed = records as TestRecord[];
    for (const batch of [feed.slice(0, 350), feed.slice(350)]) await loader.loadBatch(feedSchema, staged(batch), batch);
    const { columns } = loader.plan(feedSchema);
    const history = await warehouse.columns(TABLES.transactions);
    expect([...(history ?? [])].length).toBeLessThan(columns.length / 3);
    const { dialect } = warehouse;
    const q = dialect.quote;
    const id = q(dialect.columnName('transaction_id'));
    const [{ n: versions } = {}] = await warehouse.query(
      `SELECT COUNT(*) AS n FROM ${dialect.table(HISTORY_VIEW)} AS h JOIN ${dialect.table(TABLES.current)} AS c ON h.${id} = c.${id}`,
    );
    expect(Number(versions)).toBeGreaterThan(300);
    // Column by column: a JSON value compared as text (PostgreSQL's jsonb has no IS DISTINCT FROM text).
    const differing = columns.map((column) => {
      const side = (alias: string): string =>
        column.kind === 'json' ? `CAST(${alias}.${q(column.column)} AS ${dialect.type('string')})` : `${alias}.${q(column.column)}`;
      return `SUM(CASE WHEN ${side('h')} IS DISTINCT FROM ${side('c')} THEN 1 ELSE 0 END) AS ${q(`d${columns.indexOf(column)}`)}`;
    });
    const [row] = await warehouse.query(
      `SELECT ${differing.join(', ')} FROM ${dialect.table(HISTORY_VIEW)} AS h JOIN ${dialect.table(TABLES.current)} AS c ON h.${id} = c.${id}`,
    );
    const mismatched = columns.filter((_, index) => Number(row?.[`d${index}`]) !== 0).map((column) => column.field);
    expect(mismatched).toEqual([]);
    // Every delivered version is in the view, once.
    const [{ n: all } = {}] = await warehouse.query(`SELECT COUNT(*) AS n FROM ${dialect.table(HISTORY_VIEW)}`);
    expect(Number(all)).toBe(new Set(feed.map((record) => record.transaction_id)).size);
  }, 120_000);

  test('a field no record of a batch carries is NULL in the rows it brings, and typed in a batch that carries it', async () => {
    const { warehouse, load } = await setup(engine);
    const original = call('OF', 'CALL-F', '5.00', { city: 'Lyon' });
    await load([original]);
    const { city: _dropped, 'Purchase Made': _alsoDropped, ...without } = correction('CF', original, '2026-01-05T10:00:00Z', '6.00');
    await load([without as TestRecord, call('OG', 'CALL-G', '1.00')]);
    const { dialect } = warehouse;
    const q = dialect.quote;
    const rows = await warehouse.query(
      `SELECT ${q(dialect.columnName('transaction_id'))} AS id, ${q(dialect.columnName('city'))} AS city, ${q(dialect.columnName('Purchase Made'))} AS purchase ` +
        `FROM ${dialect.table(TABLES.calls)} ORDER BY 1`,
    );
    expect(rows).toEqual([
      { id: 'CF', city: null, purchase: null },
      { id: 'OG', city: null, purchase: '1' },
    ]);
  });

  test('a lineage whose latest version is missing from transactions_current (a table written before) gets it from _invoca_raw, never loses its row', async () => {
    const { warehouse, oracle, load } = await setup(engine);
    const original = call('OM', 'CALL-M', '10.00');
    const later = correction('CMb', original, '2026-01-10T00:00:00Z', '7.00');
    await load([original, later]);
    // As an earlier version, or a source merged without this lineage, could leave it.
    await warehouse.execute(`DELETE FROM ${warehouse.dialect.table(TABLES.current)}`);
    // A correction corrected earlier arrives: the latest stays CMb, which only _invoca_raw now holds.
    await load([correction('CMa', original, '2026-01-09T00:00:00Z', '8.00')]);
    const got = await actual(warehouse);
    expect(got.current.get('OM')).toBe('CMb');
    expect(got).toEqual(oracle.expected());
  });

  test("the re-rooting's condition (a BigQuery script runs the step only when it holds) holds exactly when the step has a row to change", async () => {
    const { warehouse, loader } = await setup(engine);
    const plan = loader.plan(schema);
    await loader.ensureTables(plan);
    const original = call('O9', 'CALL-9', '30.00');
    const first = correction('C9a', original, '2026-01-09T00:00:00Z', '25.00');
    const second = correction('C9b', first, '2026-01-10T00:00:00Z', '20.00');
    const pendingAndChanged = async (batch: TestRecord[]): Promise<[number, number]> => {
      await stageRows(warehouse, plan, staged(batch));
      await warehouse.execute(insertNewTransactions(plan));
      const [row] = await warehouse.query(`SELECT CASE WHEN ${rerootPending(plan)} THEN 1 ELSE 0 END AS pending`);
      const changed = await warehouse.execute(rerootCorrections(plan));
      await warehouse.execute(dropStage(plan));
      return [Number(row?.['pending']), changed];
    };
    expect(await pendingAndChanged([original])).toEqual([0, 0]);
    // C9b names C9a, which has not arrived: rooted at C9a for now.
    expect(await pendingAndChanged([second])).toEqual([0, 0]);
    // C9a arrives: C9b takes its root.
    expect(await pendingAndChanged([first])).toEqual([1, 1]);
    expect(await pendingAndChanged([first, second, original])).toEqual([0, 0]);
  });

  test('NULLs, empty strings, unicode, quotes and odd column names land, and nothing is spliced into SQL', async () => {
    const { warehouse, oracle, load } = await setup(engine);
    const hostile = call("O9'; DROP TABLE calls; --", 'CALL-"9"', null, {
      'Purchase Made': 'it\'s "quoted"',
      'utm.source': 'ünïcödé 🦷',
      'Quote "Q"': '\\backslash',
      select: 'keyword',
      'naïve ✓': '',
      advertiser_name: null,
      corrects_transaction_id: '',
    });
    await load([hostile, call('O10', 'CALL-10', '')]);
    const result = await actual(warehouse);
    expect(result).toEqual(oracle.expected());
    const q = warehouse.dialect.quote;
    const rows = await warehouse.query(
      `SELECT ${q('Purchase Made')} AS a, ${q('utm.source')} AS b, ${q('Quote "Q"')} AS c, ${q('select')} AS d, ${q('naïve ✓')} AS e FROM ${warehouse.dialect.table('calls')} WHERE ${q('complete_call_id')} = 'CALL-"9"'`,
    );
    expect(rows).toEqual([{ a: 'it\'s "quoted"', b: 'ünïcödé 🦷', c: '\\backslash', d: 'keyword', e: '' }]);
    expect(result.calls.get('CALL-"9"')?.payin).toBeNull();
  });

  test('a new column in a later schema is added to transactions_current, calls and the history view, never dropped', async () => {
    const { warehouse, load, loader } = await setup(engine);
    await load([call('O11', 'CALL-11', '1.00')]);
    const grown = new StreamSchema([...CUSTOM, 'Coupon Code']).toJSON();
    const withCoupon = [call('O12', 'CALL-12', '2.00', { 'Coupon Code': 'SAVE10' })];
    await loader.loadBatch(grown, staged(withCoupon), withCoupon);
    for (const table of [TABLES.current, TABLES.calls, HISTORY_VIEW])
      expect((await warehouse.columns(table))?.has('Coupon Code')).toBe(true);
    // The history keeps the fields the merge reads; a custom field is in _invoca_raw, and typed in the view.
    expect((await warehouse.columns(TABLES.transactions))?.has('Coupon Code')).toBe(false);
    const q = warehouse.dialect.quote;
    expect(
      await warehouse.query(
        `SELECT ${q('Coupon Code')} AS c FROM ${warehouse.dialect.table(HISTORY_VIEW)} WHERE ${q(warehouse.dialect.columnName('transaction_id'))} = 'O12'`,
      ),
    ).toEqual([{ c: 'SAVE10' }]);
    // A run whose schema lacks the field (another tap's catalog, target-invoca merge) never narrows the view.
    await loader.loadBatch(new StreamSchema([...CUSTOM, 'Gift Card']).toJSON(), staged([call('O14', 'CALL-14', '4.00')]));
    expect((await warehouse.columns(HISTORY_VIEW))?.has('Coupon Code')).toBe(true);
    await load([call('O13', 'CALL-13', '3.00')]);
    expect((await warehouse.columns('calls'))?.has('Coupon Code')).toBe(true);
  });
});

test('PostgreSQL proves the dedupe: the same MERGE without it fails with "cannot affect row a second time"', async () => {
  const warehouse = await openPglite();
  open = warehouse;
  const loader = new Loader(warehouse, createMemoryLogger());
  const original = call('P1', 'CALL-P', '1.00');
  await loader.loadBatch(schema, staged([original]));
  await loader.loadBatch(
    schema,
    staged([correction('P2', original, '2026-02-01T00:00:00Z', '2.00'), correction('P3', original, '2026-02-02T00:00:00Z', '3.00')]),
  );
  const q = warehouse.dialect.quote;
  const current = warehouse.dialect.table('transactions_current');
  const transactions = warehouse.dialect.table('transactions');
  const naive =
    `MERGE INTO ${current} AS t USING (SELECT * FROM ${transactions} WHERE ${q('root_transaction_id')} = 'P1') AS s ` +
    `ON t.${q('root_transaction_id')} = s.${q('root_transaction_id')} WHEN MATCHED THEN UPDATE SET ${q('transaction_id')} = s.${q('transaction_id')}`;
  await expect(warehouse.execute(naive)).rejects.toThrow('MERGE command cannot affect row a second time');
  // The insert keeps its first-seen dedupe too: a batch with the same id twice inserts one row.
  expect(insertNewTransactions(loader.plan(schema))).toContain(
    'ROW_NUMBER() OVER (PARTITION BY s."transaction_id" ORDER BY s."_invoca_sequence" ASC)',
  );
});

test('a failing statement rolls the whole batch back (DuckDB)', async () => {
  const warehouse = await openDuckDb({ path: ':memory:', schema: 'main' });
  open = warehouse;
  const loader = new Loader(warehouse, createMemoryLogger());
  await loader.loadBatch(schema, staged([call('R1', 'CALL-R1', '1.00')]));
  const before = await dump(warehouse);
  // Sabotage the calls table after the DDL check: its MERGE fails, the inserts before it must not stay.
  await warehouse.execute(`ALTER TABLE ${warehouse.dialect.table('calls')} DROP COLUMN "call_leg_count"`);
  await expect(loader.loadBatch(schema, staged([call('R2', 'CALL-R2', '2.00')]))).rejects.toThrow(/DuckDB failed/);
  const after = await warehouse.query(`SELECT COUNT(*) AS n FROM ${warehouse.dialect.table('transactions')}`);
  expect(Number(after[0]?.['n'])).toBe(1);
  expect(before).toContain('R1');
});

test("DuckDB: the appender's failure is the warehouse's one-line error; a batch given up releases its appender and stage", async () => {
  const warehouse = await openDuckDb({ path: ':memory:', schema: 'main' });
  open = warehouse;
  const loader = new Loader(warehouse, createMemoryLogger());
  // The stage gone under the appender (as a full disk or memory would fail its flush).
  const failing = await loader.beginBatch(schema);
  for (const row of staged([call('A', 'CALL-A', '1.00')])) failing.add(row);
  await warehouse.execute('DROP TABLE temp.main._invoca_stage');
  const error = await failing.commit().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(WarehouseError);
  expect((error as Error).message).toMatch(
    /^DuckDB failed to stage the batch: Failed to append: Table with name _invoca_stage does not exist!$/,
  );

  const givenUp = await loader.beginBatch(schema);
  for (const row of staged([call('B', 'CALL-B', '2.00')])) givenUp.add(row);
  await givenUp.discard();
  expect(await warehouse.query("SELECT COUNT(*) AS n FROM duckdb_tables() WHERE table_name = '_invoca_stage'")).toEqual([{ n: '0' }]);
  // The next batch loads; nothing of the two before it was committed.
  await loader.loadBatch(schema, staged([call('C', 'CALL-C', '3.00')]));
  expect(await warehouse.query('SELECT transaction_id FROM transactions')).toEqual([{ transaction_id: 'C' }]);
});

test('DuckDB: a wide transactions table from before (a column for every field) keeps loading: its rows stay, new rows fill the history, the view types both', async () => {
  const warehouse = await openDuckDb({ path: ':memory:', schema: 'main' });
  open = warehouse;
  const { dialect } = warehouse;
  const q = dialect.quote;
  // As the earlier version created it: every data column, then the loader's, with a row in it.
  const columns = dataColumns(schema, dialect);
  const system = systemColumns('transactions');
  await warehouse.execute(
    `CREATE TABLE ${dialect.table('transactions')} (${[
      ...columns.map((column) => `${q(column.column)} ${dialect.type(column.kind)}`),
      ...system.map((column) => `${q(column.name)} ${column.kind === 'raw' ? dialect.rawType : dialect.type(column.kind)}`),
    ].join(', ')})`,
  );
  const old = call('W1', 'CALL-W1', '1.00', { 'utm.source': 'before' });
  await warehouse.execute(
    `INSERT INTO ${dialect.table('transactions')} (${q('transaction_id')}, ${q('transaction_type')}, ${q('complete_call_id')}, ${q('advertiser_payin_localized')}, ${q('utm.source')}, ${q('root_transaction_id')}, ${q('_invoca_sequence')}, ${q('_invoca_version')}, ${q('_invoca_loaded_at')}, ${q('_invoca_raw')}) ` +
      `VALUES ('W1', 'Call', 'CALL-W1', 1.00, 'before', 'W1', ${old._invoca_sequence}, '0|000000000000000${String(old._invoca_sequence).padStart(16, '0')}W1', now(), ${dialect.literal(JSON.stringify(old))})`,
  );
  const loader = new Loader(warehouse, createMemoryLogger());
  const fresh = call('W2', 'CALL-W2', '2.00', { 'utm.source': 'after' });
  await loader.loadBatch(schema, staged([fresh, correction('W1x', old, '2026-01-05T00:00:00Z', '0.50')]));
  const rows = await warehouse.query(`SELECT transaction_id, "utm.source" AS u FROM transactions ORDER BY 1`);
  // The old row keeps its typed value; rows loaded now leave the wide columns NULL (they are in _invoca_raw).
  expect(rows).toEqual([
    { transaction_id: 'W1', u: 'before' },
    { transaction_id: 'W1x', u: null },
    { transaction_id: 'W2', u: null },
  ]);
  expect(await warehouse.query(`SELECT transaction_id, "utm.source" AS u FROM transactions_history ORDER BY 1`)).toEqual([
    { transaction_id: 'W1', u: 'before' },
    { transaction_id: 'W1x', u: 'before' },
    { transaction_id: 'W2', u: 'after' },
  ]);
  const got = await actual(warehouse);
  expect(got.calls.get('CALL-W1')).toEqual({ legs: 1, payin: '0.5', transactionId: 'W1x' });
  expect(got.calls.get('CALL-W2')).toEqual({ legs: 1, payin: '2', transactionId: 'W2' });
});

test('DuckDB: a transactions_current or calls table from before keeps its rows and loses its copy of _invoca_raw', async () => {
  const warehouse = await openDuckDb({ path: ':memory:', schema: 'main' });
  try {
    const first = new Loader(warehouse, createMemoryLogger());
    await first.loadBatch(schema, staged([call('OLD', 'CALL-OLD', '1.00')]));
    // As an earlier version created them: with a copy of the record.
    for (const table of ['transactions_current', 'calls']) await warehouse.execute(`ALTER TABLE ${table} ADD COLUMN _invoca_raw JSON`);
    const logger = createMemoryLogger();
    await new Loader(warehouse, logger).loadBatch(schema, staged([call('NEW', 'CALL-NEW', '2.00')]));
    for (const table of ['transactions_current', 'calls']) {
      expect(await warehouse.columns(table)).not.toContain('_invoca_raw');
      expect((await warehouse.query(`SELECT COUNT(*) AS n FROM ${table}`))[0]?.['n']).toBe('2');
    }
    expect(logger.lines).toContain('INFO dropped _invoca_raw from calls: the record as delivered is kept once, in transactions');
    expect(await warehouse.columns('transactions')).toContain('_invoca_raw');
  } finally {
    await warehouse.close();
  }
});

test('DuckDB: a new file keeps _invoca_raw with ZSTD; a file in the storage format of DuckDB 1.0 is loaded as it is', async () => {
  const directory = await tempDir();
  const compressionOf = async (warehouse: Warehouse): Promise<string[]> =>
    (
      await warehouse.query(
        `SELECT DISTINCT compression FROM pragma_storage_info('main.transactions') WHERE column_name = '_invoca_raw' AND compression <> 'Constant' ORDER BY 1`,
      )
    ).map((row) => String(row['compression']));
  const records = Array.from({ length: 3000 }, (_, index) =>
    call(`Z${index}`, `CALL-Z${index}`, '1.00', { advertiser_name: `advertiser ${index % 7}` }),
  );
  const older = join(directory, 'v1.duckdb');
  const made = await DuckDBInstance.create(older, { storage_compatibility_version: 'v1.0.0' });
  made.closeSync();
  for (const [path, expected] of [
    [join(directory, 'new.duckdb'), ['ZSTD']],
    [older, ['FSST']],
  ] as const) {
    const warehouse = await openDuckDb({ path, schema: 'main' });
    try {
      await new Loader(warehouse, createMemoryLogger()).loadBatch(schema, staged(records));
      await warehouse.execute('CHECKPOINT');
      expect(await compressionOf(warehouse)).toEqual(expected);
      expect((await warehouse.query('SELECT COUNT(*) AS n FROM calls'))[0]?.['n']).toBe('3000');
    } finally {
      await warehouse.close();
    }
  }
});

test('DuckDB: a batch that does not fit memory_limit is merged again in halves, in delivery order, equal to the model', async () => {
  // DuckDB's pool: 60% of 430MB, 258 MB (memory-budget.ts).
  const warehouse = await openDuckDb({ path: join(await tempDir(), 'small.duckdb'), schema: 'main', memory_limit: '430MB', threads: 1 });
  try {
    const logger = createMemoryLogger();
    const loader = new Loader(warehouse, logger);
    const oracle = new MergeOracle();
    // 20,000 rows of 5 KB each do not fit a 258 MB pool in one transaction; a quarter of them does.
    const padding = 'x'.repeat(5_000);
    const rows = Array.from({ length: 20_000 }, (_, index) =>
      call(`M${index}`, `CALL-M${index % 1_000}`, '1.00', { 'Purchase Made': `${index}${padding}` }),
    );
    const corrections = rows.slice(0, 500).map((row, index) => correction(`M${index}c`, row, '2026-02-01T00:00:00Z', '0.50'));
    const redelivered = rows.slice(0, 200).map((row) => ({ ...row, _invoca_sequence: sequence++ }));
    const batch = [...rows, ...corrections, ...redelivered];
    const result = await loader.loadBatch(schema, staged(batch));
    oracle.load(batch);
    expect(logger.lines.some((line) => line.includes("did not fit the warehouse's memory limit"))).toBe(true);
    expect(result.staged).toBe(batch.length);
    expect(result.inserted).toBe(20_500);
    expect(await actual(warehouse)).toEqual(oracle.expected());
    // The size that fitted is kept: no batch takes more rows from then on, and the target commits there (target.ts).
    const limit = Number(
      /WARN batches of at most (\d+) rows from now on in this run \(they fit the memory limit\)/.exec(logger.lines.join('\n'))?.[1],
    );
    expect(limit).toBeGreaterThan(0);
    expect(limit).toBeLessThanOrEqual(Math.ceil(batch.length / 2));
    const next = await loader.beginBatch(schema);
    const small = staged(Array.from({ length: limit }, (_, index) => call(`N${index}`, `CALL-N${index}`, '1.00')));
    for (const row of small) {
      expect(next.fits(row.raw)).toBe(true);
      next.add(row);
    }
    expect(next.fits((small[0] as StagedRow).raw)).toBe(false);
    await next.commit();
  } finally {
    await warehouse.close();
  }
}, 120_000);

test('DuckDB: target-invoca commits a batch once it holds its share of memory_limit, before batch_size_rows', async () => {
  const warehouse = await openDuckDb({ path: join(await tempDir(), 'budget.duckdb'), schema: 'main', memory_limit: '400MB', threads: 1 });
  try {
    const logger = createMemoryLogger();
    const loader = new Loader(warehouse, logger);
    const padding = 'x'.repeat(5_000);
    const total = 20_000;
    const input = Readable.from(
      (function* lines() {
        yield `${JSON.stringify({ type: 'SCHEMA', stream: 'transactions', schema, key_properties: ['transaction_id'] })}\n`;
        // 20,000 rows of 5 KB do not fit one transaction (the test above); at the least memory_limit
        // the batch's share of DuckDB's pool (memory-budget.ts) cuts them into batches that do.
        for (let index = 0; index < total; index++) {
          yield `${JSON.stringify({ type: 'RECORD', stream: 'transactions', record: call(`A${index}`, `CALL-A${index}`, '1.00', { 'Purchase Made': `${index}${padding}` }) })}\n`;
        }
      })(),
    );
    const summary = await runTarget(input, {
      loader,
      logger,
      batchSizeRows: total,
      batchMaxSeconds: 3600,
      emitState: async () => undefined,
    });
    const limits = warehouse.batchLimits?.(loader.plan(schema).columns.length);
    expect(limits?.bytes).toBeGreaterThan(0);
    const staged = logger.lines.flatMap((line) => {
      const match = /^INFO batch (\d+): (\d+) rows staged/.exec(line);
      return match ? [Number(match[2])] : [];
    });
    // The first batch ends before the row that would take it past its share of the pool (5-6 KB
    // of text a row); none is larger. (A later one may still not fit as the tables grow: it is
    // loaded in halves.)
    const budget = limits?.bytes ?? 0;
    const most = Math.floor(budget / (limits?.bytesOfRow(5_000) ?? 1));
    expect(staged[0]).toBeLessThanOrEqual(most);
    expect(staged[0]).toBeGreaterThanOrEqual(Math.floor(budget / (limits?.bytesOfRow(6_000) ?? 1)));
    expect(Math.max(...staged)).toBeLessThanOrEqual(most);
    expect(staged.reduce((sum, rows) => sum + rows, 0)).toBe(total);
    expect(summary.batches).toBe(staged.length);
    expect((await warehouse.query('SELECT COUNT(*) AS n FROM transactions'))[0]?.['n']).toBe(String(total));
  } finally {
    await warehouse.close();
  }
}, 180_000);
