/**
 * `target-invoca merge` over a raw table shaped like the ones Python Singer targets load:
 * renamed custom columns (`purchase_made`), money as DOUBLE, `_sdc_*` columns, every delivery
 * kept as its own row. On DuckDB and PGlite, compared with the merge model. And a table shaped
 * like an Airbyte destination's, from `source-invoca read`, against a direct load.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, test } from '@jest/globals';
import { run as runSource } from '../../src/cli/source.js';
import { run as runTarget } from '../../src/cli/target.js';
import { openDuckDb } from '../../src/load/duckdb-warehouse.js';
import { Loader } from '../../src/load/loader.js';
import type { MergePlan } from '../../src/load/plan.js';
import { stageRows, type Warehouse } from '../../src/load/warehouse.js';
import { createMemoryLogger } from '../helpers/logger.js';
import { recordMaker } from '../helpers/records.js';
import { actual, MergeOracle, staged, type TestRecord } from '../helpers/merge-oracle.js';
import { openPglite } from '../helpers/pglite-warehouse.js';
import { simulator } from '../helpers/simulator.js';
import { jsonFile, tapConfig, tempDir } from '../helpers/tap.js';
import { StreamSchema } from '../../src/stream/schema.js';

const engines = {
  duckdb: () => openDuckDb({ path: ':memory:', schema: 'main' }),
  postgres: () => openPglite(),
} as const;

let open: Warehouse | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

/** Appends records to `raw_transactions` the way another target would have loaded them. */
async function loadLikeAnotherTarget(warehouse: Warehouse, records: TestRecord[]): Promise<void> {
  const { dialect } = warehouse;
  const q = dialect.quote;
  const stage = warehouse.newStageName();
  const plan: MergePlan = { dialect, columns: [], stage };
  await stageRows(warehouse, plan, staged(records));
  const raw = dialect.parseRaw(`s.${q('_invoca_raw')}`);
  const text = (field: string): string => dialect.extract(raw, field, 'string');
  const select =
    `SELECT ${text('transaction_id')} AS transaction_id, ${text('transaction_type')} AS transaction_type, ` +
    `${text('complete_call_id')} AS complete_call_id, ${text('corrects_transaction_id')} AS corrects_transaction_id, ` +
    `${text('corrected_at_utc')} AS corrected_at_utc, CAST(${text('advertiser_payin_localized')} AS DOUBLE PRECISION) AS advertiser_payin_localized, ` +
    `${text('Purchase Made')} AS purchase_made, CAST(${text('_invoca_sequence')} AS BIGINT) AS ${q('_invoca_sequence')}, ` +
    `${text('transaction_id')} AS ${q('_sdc_table_version')} FROM ${stage} AS s`;
  const exists = await warehouse.columns('raw_transactions');
  await warehouse.execute(
    exists
      ? `INSERT INTO ${dialect.table('raw_transactions')} ${select}`
      : `CREATE TABLE ${dialect.table('raw_transactions')} AS ${select}`,
  );
  await warehouse.execute(`DROP TABLE IF EXISTS ${stage}`);
}

const { call, fix, again } = recordMaker((id) => ({ 'Purchase Made': `p-${id}` }));

describe.each(Object.keys(engines) as (keyof typeof engines)[])('%s', (engine) => {
  test('merges what another target loaded, incrementally, into all three tables and the watermark', async () => {
    const warehouse = await engines[engine]();
    open = warehouse;
    const loader = new Loader(warehouse, createMemoryLogger());
    const oracle = new MergeOracle();
    const a = call('A', 'CALL-A', '10.50');
    const legs = [call('L1', 'CALL-L', '1.25'), call('L2', 'CALL-L', '2.00')];
    const first = [a, fix(a, 'A1', '2026-01-02T00:00:00Z', '8.25'), ...legs];
    await loadLikeAnotherTarget(warehouse, first);
    oracle.load(first);
    expect(await loader.mergeFromSource('raw_transactions')).toEqual({ newTransactions: 4 });
    const check = async (): Promise<void> => {
      const got = await actual(warehouse);
      const want = oracle.expected();
      expect(got.current).toEqual(want.current);
      expect(got.calls).toEqual(want.calls);
      expect(got.transactions).toBe(want.transactions);
      // Each transaction once in the history, with the root of its lineage (a re-rooting applied).
      const q = warehouse.dialect.quote;
      const roots = await warehouse.query(
        `SELECT ${q('transaction_id')} AS id, ${q('root_transaction_id')} AS r FROM ${warehouse.dialect.table('transactions')}`,
      );
      expect(Object.fromEntries(roots.map((row) => [row['id'], row['r']]))).toEqual(
        Object.fromEntries(roots.map((row) => [row['id'], oracle.root(String(row['id']))])),
      );
    };
    await check();

    // Later: a late correction of a leg, a correction before its original, and re-deliveries.
    const b = call('B', 'CALL-B', '3.00');
    const second = [
      fix(legs[0] as TestRecord, 'L1x', '2026-01-03T00:00:00Z', '0.75'),
      fix(b, 'B1', '2026-01-04T00:00:00Z', '2.50'),
      again(a),
    ];
    await loadLikeAnotherTarget(warehouse, second);
    oracle.load(second);
    expect((await loader.mergeFromSource('raw_transactions')).newTransactions).toBe(3);
    await check();
    await loadLikeAnotherTarget(warehouse, [b]);
    oracle.load([b]);
    await loader.mergeFromSource('raw_transactions');
    await check();
    expect(await loader.mergeFromSource('raw_transactions')).toEqual({ newTransactions: 0 });
    const custom = await warehouse.query(
      `SELECT ${warehouse.dialect.quote(warehouse.dialect.columnName('purchase_made'))} AS p FROM ${warehouse.dialect.table('calls')} WHERE ${warehouse.dialect.quote('complete_call_id')} = 'CALL-B'`,
    );
    expect(custom).toEqual([{ p: 'p-B' }]);
  });

  test('a chain of three corrections in one merge, newest first: one lineage at the original in all three tables', async () => {
    const warehouse = await engines[engine]();
    open = warehouse;
    const oracle = new MergeOracle();
    const { call: original, fix: correct } = recordMaker();
    const o = original('O', 'CALL-O', '10.00');
    const c1 = correct(o, 'C1', '2026-01-02T00:00:00Z', '9.00');
    const c2 = correct(c1, 'C2', '2026-01-03T00:00:00Z', '8.00');
    const c3 = correct(c2, 'C3', '2026-01-04T00:00:00Z', '7.00');
    const records = [c3, c2, c1, o].map((record, index) => ({ ...record, _invoca_sequence: index + 1 }));
    await loadLikeAnotherTarget(warehouse, records);
    oracle.load(records);
    expect(await new Loader(warehouse, createMemoryLogger()).mergeFromSource('raw_transactions')).toEqual({ newTransactions: 4 });
    const got = await actual(warehouse);
    const want = oracle.expected();
    expect(got.current).toEqual(want.current);
    expect(got.current).toEqual(new Map([['O', 'C3']]));
    expect(got.calls).toEqual(want.calls);
  });

  test('a source table that is an output table, missing, or without _invoca_sequence is a config error', async () => {
    const warehouse = await engines[engine]();
    open = warehouse;
    const loader = new Loader(warehouse, createMemoryLogger());
    await expect(loader.mergeFromSource('calls')).rejects.toThrow("config field 'source_table' names 'calls', an output table");
    await expect(loader.mergeFromSource('nope')).rejects.toThrow("there is no table 'nope'");
    await expect(loader.mergeFromSource('a.b.c')).rejects.toThrow("config field 'source_table' must be a table name or schema.table");
    await expect(loader.mergeFromSource('.x')).rejects.toThrow("config field 'source_table' must be a table name or schema.table");
    // An Airbyte raw table without records yet: nothing to merge, no error.
    await warehouse.execute(
      `CREATE TABLE ${warehouse.dialect.table('airbyte_raw')} (_airbyte_raw_id TEXT, _airbyte_data ${warehouse.dialect.rawType})`,
    );
    expect(await loader.mergeFromSource('airbyte_raw')).toEqual({ newTransactions: 0 });
    await warehouse.execute(`CREATE TABLE ${warehouse.dialect.table('other')} (transaction_id TEXT)`);
    await expect(loader.mergeFromSource('other')).rejects.toThrow('has no _invoca_sequence column');
  });
});

test('target-invoca merge --config runs it from the CLI; without source_table it exits 2', async () => {
  const path = join(await tempDir(), 'merge.duckdb');
  const warehouse = await openDuckDb({ path, schema: 'main' });
  await loadLikeAnotherTarget(warehouse, [call('X', 'CALL-X', '1.00')]);
  await warehouse.close();
  const lines: string[] = [];
  const stdout = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const code = await runTarget(['merge', '--config', await jsonFile({ duckdb: { path }, source_table: 'raw_transactions' })], {
    stdin: Readable.from([]),
    stdout,
    stderr: (line) => lines.push(line),
  });
  expect(code).toBe(0);
  expect(lines.at(-1)).toBe('INFO merged 1 new transactions from raw_transactions');
  const missing: string[] = [];
  const noSource = await runTarget(['merge', '--config', await jsonFile({ duckdb: { path } })], {
    stdin: Readable.from([]),
    stdout,
    stderr: (line) => missing.push(line),
  });
  expect(noSource).toBe(2);
  expect(missing.at(-1)).toContain("config field 'source_table' is required for target-invoca merge");
});

test("DuckDB: what an Airbyte destination writes from `source-invoca read`, its final table in the connection's schema and its raw table in airbyte_internal: each merges into all three tables, equal to a direct load", async () => {
  const sim = await simulator({ rows: 600, seed: 11 });
  const directory = await tempDir();
  try {
    const catalog = {
      streams: [
        {
          stream: { name: 'transactions', json_schema: {}, supported_sync_modes: ['incremental'] },
          sync_mode: 'incremental',
          destination_sync_mode: 'append',
          cursor_field: ['transaction_id'],
        },
      ],
    };
    const chunks: string[] = [];
    const stdout = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString());
        callback();
      },
    });
    const code = await runSource(['read', '--config', await jsonFile(tapConfig(sim)), '--catalog', await jsonFile(catalog)], {
      stdout,
      stderr: () => undefined,
    });
    expect(code).toBe(0);
    const records = chunks
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { type: string; record?: { data: TestRecord; emitted_at: number } })
      .flatMap((message) => (message.type === 'RECORD' && message.record ? [message.record] : []));
    expect(records.length).toBeGreaterThan(500);
    // What an Airbyte destination (Destinations V2) writes: the final table, the record's fields as
    // typed columns and its own four; and the raw table, the record whole in _airbyte_data.
    const airbyteColumns = (index: number, emittedAt: number) => ({
      _airbyte_raw_id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
      _airbyte_extracted_at: new Date(emittedAt).toISOString(),
      _airbyte_meta: { changes: [], sync_id: 1 },
      _airbyte_generation_id: 0,
    });
    const finalFile = join(directory, 'final.jsonl');
    await writeFile(
      finalFile,
      records.map((record, index) => JSON.stringify({ ...record.data, ...airbyteColumns(index, record.emitted_at) })).join('\n'),
    );
    const rawFile = join(directory, 'raw.jsonl');
    await writeFile(
      rawFile,
      records
        .map((record, index) =>
          JSON.stringify({
            ...airbyteColumns(index, record.emitted_at),
            _airbyte_data: record.data,
            _airbyte_loaded_at: null,
          }),
        )
        .join('\n'),
    );

    const direct = await openDuckDb({ path: ':memory:', schema: 'invoca' });
    const custom = [...new Set(records.flatMap((record) => Object.keys(record.data)))].filter((field) => !new StreamSchema().has(field));
    await new Loader(direct, createMemoryLogger()).loadBatch(
      new StreamSchema(custom).toJSON(),
      staged(records.map((record) => record.data)),
    );
    const directTables = await actual(direct);
    const history = (warehouse: Warehouse) =>
      warehouse.query(
        `SELECT transaction_id, root_transaction_id, _invoca_version, CAST(advertiser_payin_localized AS VARCHAR) AS payin FROM ${warehouse.dialect.table('transactions')} ORDER BY transaction_id`,
      );
    const directHistory = await history(direct);
    const transactionCount = new Set(records.map((record) => record.data.transaction_id)).size;
    try {
      for (const [layout, create, sourceTable] of [
        [
          'final table',
          `CREATE SCHEMA airbyte_ns; CREATE TABLE airbyte_ns.transactions AS SELECT * FROM read_json_auto('${finalFile}', sample_size = -1)`,
          'airbyte_ns.transactions',
        ],
        [
          'raw table',
          `CREATE SCHEMA airbyte_internal; CREATE TABLE airbyte_internal.airbyte_ns_raw__stream_transactions (_airbyte_raw_id VARCHAR, _airbyte_data JSON, _airbyte_extracted_at TIMESTAMPTZ, _airbyte_loaded_at TIMESTAMPTZ, _airbyte_meta JSON, _airbyte_generation_id BIGINT); ` +
            `INSERT INTO airbyte_internal.airbyte_ns_raw__stream_transactions SELECT _airbyte_raw_id, _airbyte_data, _airbyte_extracted_at, _airbyte_loaded_at, _airbyte_meta, _airbyte_generation_id FROM read_json('${rawFile}', columns = {_airbyte_raw_id: 'VARCHAR', _airbyte_data: 'JSON', _airbyte_extracted_at: 'TIMESTAMPTZ', _airbyte_loaded_at: 'TIMESTAMPTZ', _airbyte_meta: 'JSON', _airbyte_generation_id: 'BIGINT'})`,
          'airbyte_internal.airbyte_ns_raw__stream_transactions',
        ],
      ] as const) {
        const merged = await openDuckDb({ path: ':memory:', schema: 'invoca' });
        try {
          for (const statement of create.split('; ')) await merged.execute(statement);
          const loader = new Loader(merged, createMemoryLogger());
          expect([layout, (await loader.mergeFromSource(sourceTable)).newTransactions]).toEqual([layout, transactionCount]);
          const mergedTables = await actual(merged);
          expect(mergedTables.current).toEqual(directTables.current);
          expect(mergedTables.calls).toEqual(directTables.calls);
          expect(mergedTables.transactions).toBe(transactionCount);
          expect(mergedTables.calls.size).toBeGreaterThan(100);
          expect(await history(merged)).toEqual(directHistory);
          for (const table of ['transactions', 'transactions_current', 'calls']) {
            expect([...((await merged.columns(table)) ?? [])].filter((name) => name.startsWith('_airbyte_'))).toEqual([]);
          }
          // Run again: nothing new.
          expect((await loader.mergeFromSource(sourceTable)).newTransactions).toBe(0);
        } finally {
          await merged.close();
        }
      }
      // The final table named without its schema, where the loader writes its own `transactions`: refused, never written into.
      const same = await openDuckDb({ path: ':memory:', schema: 'main' });
      try {
        await same.execute(`CREATE TABLE main.transactions AS SELECT * FROM read_json_auto('${finalFile}', sample_size = -1)`);
        await expect(new Loader(same, createMemoryLogger()).mergeFromSource('main.transactions')).rejects.toThrow(
          "names 'main.transactions', an output table of target-invoca",
        );
      } finally {
        await same.close();
      }
    } finally {
      await direct.close();
    }
  } finally {
    await sim.close();
  }
}, 120_000);
