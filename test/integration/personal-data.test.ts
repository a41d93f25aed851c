/**
 * hash_columns end to end: the simulator's feed with the caller's personal data (--personal),
 * `tap-invoca | target-invoca` into a DuckDB file as real processes, and every clear value of
 * the hashed columns (and of their custom_data entries, and every phone number's digits) searched
 * for in everything the run printed, in every table and in the database file's bytes. The same
 * run without hashing finds them (the search can fail). The file's bytes are the weakest of the
 * three searches (DuckDB compresses many strings: the control finds only some there); RECORDs,
 * logs and every table's text, `_invoca_raw` included, carry the test. Then the README's SQL for a join gives
 * the tap's hash on DuckDB and the BigQuery emulator, and its Snowflake UDF body does in Python.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BigQuery } from '@google-cloud/bigquery';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { toAscii } from '../../src/protocol/ascii.js';
import { PERSONAL_COLUMNS, PHONE_COLUMNS, canonicalPhone } from '../../src/tap/protect.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { EMULATOR_BIN, startEmulator, staticAuth } from '../helpers/bigquery-emulator.js';
import { simulator, TEST_ACCOUNT, TEST_TOKEN } from '../helpers/simulator.js';
import { jsonFile, parseLines, runTap, tapConfig, tempDir } from '../helpers/tap.js';
import { requireTools } from '../helpers/tools.js';

const PYTHON = '.venv/bin/python';
requireTools([EMULATOR_BIN, PYTHON], 'the personal data tests');

const HASH_KEY = 'b3f1c0de-hash-key-for-tests-only-0123456789';
const HASHED = [...PERSONAL_COLUMNS, 'utm_source'];
const hmac = (text: string): string => createHmac('sha256', HASH_KEY).update(text).digest('hex');

let sim: RunningSimulator;
/** The rows as Invoca sends them: the clear values. */
let invocaRows: Record<string, unknown>[] = [];
beforeAll(async () => {
  sim = await simulator({ rows: 600, seed: 11, personal: true });
  const url = `${sim.url}/api/2020-10-01/networks/transactions/${TEST_ACCOUNT}.json?limit=4000&include_columns=$invoca_default_columns,$invoca_custom_columns,custom_data`;
  invocaRows = (await (await fetch(url, { headers: { authorization: TEST_TOKEN } })).json()) as Record<string, unknown>[];
});
afterAll(async () => {
  await sim.close();
});

interface Run {
  printed: string;
  database: string;
  tables: string;
  records: Record<string, unknown>[];
}

/** `tap-invoca | target-invoca` into a new DuckDB file, as a shell pipe runs them. */
async function pipeline(extra: Record<string, unknown>): Promise<Run> {
  const dir = await tempDir();
  const database = join(dir, 'invoca.duckdb');
  const tap = spawn(process.execPath, ['dist/src/bin/tap-invoca.js', '--config', await jsonFile(tapConfig(sim, extra))]);
  const target = spawn(process.execPath, [
    'dist/src/bin/target-invoca.js',
    '--config',
    await jsonFile({ duckdb: { path: database } }, 'loader.json'),
  ]);
  let printed = '';
  let tapStdout = '';
  tap.stdout.on('data', (data: Buffer) => (tapStdout += data.toString()));
  tap.stdout.pipe(target.stdin);
  for (const stream of [tap.stderr, target.stdout, target.stderr]) stream.on('data', (data: Buffer) => (printed += data.toString()));
  const [[tapCode], [targetCode]] = (await Promise.all([once(tap, 'exit'), once(target, 'exit')])) as [[number], [number]];
  expect([tapCode, targetCode, printed.includes('CRITICAL')]).toEqual([0, 0, false]);
  const instance = await DuckDBInstance.create(database);
  const connection = await instance.connect();
  const dumps: string[] = [];
  for (const table of ['transactions', 'transactions_current', 'calls', 'transactions_history']) {
    const reader = await connection.runAndReadAll(`SELECT * FROM main.${table}`);
    dumps.push(JSON.stringify(reader.getRowObjectsJson()));
  }
  connection.closeSync();
  instance.closeSync();
  const records = parseLines(tapStdout)
    .filter((message) => message['type'] === 'RECORD')
    .map((message) => message['record'] as Record<string, unknown>);
  return { printed: printed + tapStdout, database, tables: dumps.join('\n'), records };
}

/**
 * Every clear value of a hashed column, its custom_data entries, and each phone number's digits:
 * the texts of at least 6 characters (shorter ones, "Male" or a ZIP code, occur inside other
 * values), digits only from 10 on.
 */
function clearValues(rows: Record<string, unknown>[]): Set<string> {
  const values = new Set<string>();
  const add = (value: unknown): void => {
    const text = typeof value === 'string' ? value.trim() : '';
    if (text.length >= 6 && (!/^\d+$/.test(text) || text.length >= 10)) values.add(text);
  };
  for (const row of rows) {
    for (const column of HASHED) add(row[column]);
    for (const column of PHONE_COLUMNS) if (typeof row[column] === 'string') add(canonicalPhone(row[column] as string, '1'));
    for (const entry of (row['custom_data'] as { name?: string; value?: unknown }[] | undefined) ?? [])
      if (HASHED.includes(entry.name ?? '')) add(entry.value);
  }
  return values;
}

/** The values found in `haystack` as they are, or as a JSON string or an ASCII-only Singer line writes them. */
function found(values: Set<string>, haystack: string): string[] {
  return [...values].filter((value) => {
    const forms = [value, JSON.stringify(value).slice(1, -1), toAscii(JSON.stringify(value)).slice(1, -1)];
    // Inside a JSON text that is itself a JSON string value (`_invoca_raw` in a dump): escaped twice.
    return [...forms, ...forms.map((form) => JSON.stringify(form).slice(1, -1))].some((form) => haystack.includes(form));
  });
}

describe('hash_columns with $invoca_personal_columns and a custom column', () => {
  test('no clear value in the RECORDs, the logs, any table or the database file; one caller hashes the same in every format', async () => {
    const rows = invocaRows;
    const values = clearValues(rows);
    expect(values.size).toBeGreaterThan(500);
    const hashed = await pipeline({ hash_columns: ['$invoca_personal_columns', 'utm_source'], hash_key: HASH_KEY });
    const bytes = readFileSync(hashed.database).toString('latin1') + readFileSync(hashed.database).toString('utf8');
    const wal = existsSync(`${hashed.database}.wal`) ? readFileSync(`${hashed.database}.wal`).toString('utf8') : '';
    expect(found(values, hashed.printed)).toEqual([]);
    expect(found(values, hashed.tables)).toEqual([]);
    expect(found(values, bytes + wal)).toEqual([]);
    // The key itself is nowhere either.
    expect([hashed.printed, hashed.tables, bytes].some((text) => text.includes(HASH_KEY.slice(0, 12)))).toBe(false);

    // Hashed as the README says, phone numbers in every format to one hash per caller.
    const byId = new Map(rows.map((row) => [row['transaction_id'], row]));
    for (const record of hashed.records) {
      const row = byId.get(record['transaction_id']) as Record<string, unknown>;
      expect(record['calling_phone_number']).toBe(hmac(canonicalPhone(String(row['calling_phone_number']), '1')));
      expect(record['email_address']).toBe(hmac(String(row['email_address']).trim().toLowerCase()));
      expect(record['zip_code']).toBe(hmac(String(row['zip_code'])));
      expect(record['city']).toBe(row['city']);
      const entry = (record['custom_data'] as { name: string; value: unknown }[]).find((item) => item.name === 'utm_source');
      const clearEntry = (row['custom_data'] as { name: string; value: unknown }[]).find((item) => item.name === 'utm_source');
      if (clearEntry)
        expect(entry?.value).toBe(
          clearEntry.value === '' || clearEntry.value === null ? clearEntry.value : hmac(String(clearEntry.value).trim()),
        );
    }
    const formats = new Map<string, Set<string>>();
    const hashes = new Map<string, Set<unknown>>();
    for (const record of hashed.records) {
      const call = String(record['complete_call_id']);
      formats.set(call, (formats.get(call) ?? new Set()).add(String(byId.get(record['transaction_id'])?.['calling_phone_number'])));
      hashes.set(call, (hashes.get(call) ?? new Set()).add(record['calling_phone_number']));
    }
    expect([...formats.values()].filter((set) => set.size > 1).length).toBeGreaterThan(50);
    expect([...hashes.values()].every((set) => set.size === 1)).toBe(true);
  }, 120_000);

  test('the same run without hash_columns: the search finds the clear values in the output, the tables and the file', async () => {
    const values = clearValues(invocaRows);
    const clear = await pipeline({});
    expect(found(values, clear.printed).length).toBeGreaterThan(values.size / 2);
    expect(found(values, clear.tables).length).toBeGreaterThan(values.size / 2);
    const bytes = readFileSync(clear.database).toString('utf8');
    expect(found(values, bytes).length).toBeGreaterThan(0);
  }, 120_000);
});

test('an excluded custom column is gone from the nested custom_data too (Invoca returns it whole)', async () => {
  const entries = (rows: Record<string, unknown>[]): { name?: string }[] =>
    rows.flatMap((row) => (row['custom_data'] as { name?: string }[] | undefined) ?? []);
  expect(entries(invocaRows).some((entry) => entry.name === 'utm_source')).toBe(true);
  const output = await runTap(['--config', await jsonFile(tapConfig(sim, { exclude_columns: ['utm_source'] }))]);
  expect(output.code).toBe(0);
  expect(output.records.length).toBe(invocaRows.length);
  expect(output.records.some((record) => 'utm_source' in record)).toBe(false);
  expect(entries(output.records).some((entry) => entry.name === 'utm_source')).toBe(false);
  expect(entries(output.records).some((entry) => entry.name === 'Purchase Made')).toBe(true);
});

describe("the README's SQL for a join gives the tap's hash of 805-555-0142", () => {
  const expected = hmac('18055550142');
  const readme = readFileSync('README.md', 'utf8');
  const block = (engine: string): string => {
    const match = new RegExp(`<!-- hash-sql:${engine} -->\\n\`\`\`sql\\n([\\s\\S]*?)\`\`\``).exec(readme);
    if (!match?.[1]) throw new Error(`README has no hash-sql:${engine} block`);
    return match[1];
  };

  test('DuckDB', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const [setKey, select] = block('duckdb')
      .replace("'your hash_key'", `'${HASH_KEY}'`)
      .split(';')
      .map((statement) => statement.trim());
    await connection.run(setKey ?? '');
    const rows = (await connection.runAndReadAll(select ?? '')).getRowObjectsJson();
    connection.closeSync();
    instance.closeSync();
    expect(rows).toEqual([{ calling_phone_number_hash: expected }]);
  });

  test('BigQuery (the emulator), with the key as a query parameter', async () => {
    const emulator = await startEmulator('p-hash');
    try {
      const client = new BigQuery({ projectId: emulator.project, apiEndpoint: emulator.endpoint, authClient: staticAuth() });
      const [rows] = await client.query({ query: block('bigquery'), params: { hash_key: HASH_KEY } });
      expect(rows).toEqual([{ calling_phone_number_hash: expected }]);
    } finally {
      await emulator.stop();
    }
  }, 60_000);

  test("Snowflake: the UDF's Python body (no offline engine runs a Snowflake Python UDF), on the value its SELECT builds", () => {
    const sql = block('snowflake');
    const body = /AS \$\$\n([\s\S]*?)\$\$;/.exec(sql)?.[1] ?? '';
    expect(sql).toContain("IFF(LENGTH(d) = 10, '1' || d, d)");
    const script = `${body}\nimport sys\nprint(hmac_hex(sys.argv[1], sys.argv[2]))\nprint(hmac_hex(sys.argv[1], None))\n`;
    const result = spawnSync(PYTHON, ['-c', script, HASH_KEY, '18055550142'], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`${expected}\nNone\n`);
  });
});
