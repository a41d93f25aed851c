/**
 * The snowflake-sdk wiring of the Snowflake loader, against a loopback recorder (see
 * snowflake-recorder.ts: the recorder is a stand-in because no emulator serves the Node driver's
 * JSON result format; the SQL itself runs on fakesnow in snowflake.test.ts).
 */
import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, test } from '@jest/globals';
import { Loader } from '../../src/load/loader.js';
import { parseLoaderConfig } from '../../src/config/loader-config.js';
import { BIND_ROWS_LIMIT, openSnowflake, type SnowflakeSettings } from '../../src/load/snowflake-warehouse.js';
import { createMemoryLogger } from '../helpers/logger.js';
import { StreamSchema } from '../../src/stream/schema.js';
import { staged, type TestRecord } from '../helpers/merge-oracle.js';
import { startSnowflakeRecorder, type SnowflakeRecorder } from '../helpers/snowflake-recorder.js';
import { tempDir } from '../helpers/tap.js';
import { runProcess } from '../helpers/tools.js';

let recorder: SnowflakeRecorder | undefined;
afterEach(async () => {
  await recorder?.close();
  recorder = undefined;
});

const PASSWORD = 'pw_SECRET_snow_9911';
const schema = new StreamSchema(['Purchase Made']).toJSON();
const rows = (count: number): TestRecord[] =>
  Array.from({ length: count }, (_, index) => ({
    transaction_id: `T${index}`,
    transaction_type: 'Call',
    complete_call_id: `C${index}`,
    _invoca_sequence: index + 1,
  }));

test('password login, session settings pinned, an existing schema not created again, array binds for a small batch, the merge between BEGIN and COMMIT', async () => {
  recorder = await startSnowflakeRecorder(await tempDir(), ['INVOCA']);
  const logger = createMemoryLogger();
  const warehouse = await openSnowflake({
    account: 'acme',
    user: 'LOADER',
    password: PASSWORD,
    // As people write them: unquoted SQL resolves both in upper case.
    database: 'analytics',
    schema: 'invoca',
    warehouse: 'WH',
    host: '127.0.0.1',
    port: recorder.port,
    protocol: 'http',
  });
  await new Loader(warehouse, logger).loadBatch(schema, staged(rows(3)));
  await warehouse.close();

  expect(recorder.logins).toHaveLength(1);
  expect(recorder.logins[0]).toMatchObject({ LOGIN_NAME: 'LOADER', PASSWORD, ACCOUNT_NAME: 'acme' });
  const sql = recorder.queries.map((query) => query.sqlText);
  const first = (pattern: RegExp): number => sql.findIndex((text) => pattern.test(text));
  // The session's guards: no statement runs for Snowflake's default two days, no lock wait for its
  // 12 hours, and every query is tagged with the loader and this run.
  expect(sql[0]).toMatch(
    /^ALTER SESSION SET TIMEZONE = 'UTC', .*QUOTED_IDENTIFIERS_IGNORE_CASE = FALSE, STATEMENT_TIMEOUT_IN_SECONDS = 3600, LOCK_TIMEOUT = 900, QUERY_TAG = '\{"app":"target-invoca","version":"[^"]+","run":"[0-9a-f]{8}"\}'$/,
  );
  expect(sql[1]).toBe('SELECT COUNT(*) AS "N" FROM "ANALYTICS".INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = ?');
  expect(recorder.queries[1]?.bindings?.['1']?.value).toBe('INVOCA');
  // A least-privilege role has USAGE on the schema, not CREATE SCHEMA: nothing asks for it.
  expect(sql.some((text) => text.startsWith('CREATE SCHEMA'))).toBe(false);
  expect(first(/^CREATE TABLE IF NOT EXISTS "ANALYTICS"\."INVOCA"\."TRANSACTIONS" /)).toBeGreaterThan(0);
  expect(first(/^CREATE TEMPORARY TABLE "_INVOCA_STAGE"/)).toBeLessThan(first(/^BEGIN$/));
  const insert = recorder.queries.find((query) => query.sqlText.startsWith('INSERT INTO "_INVOCA_STAGE" VALUES (?, ?, ?)'));
  // The driver sends binds column-wise: one array per column.
  expect(insert?.bindings?.['1']).toEqual({ type: 'TEXT', value: ['T0', 'T1', 'T2'] });
  expect(insert?.bindings?.['2']?.value).toEqual(['1', '2', '3']);
  const begin = first(/^BEGIN$/);
  const commit = first(/^COMMIT$/);
  const inTransaction = sql.slice(begin + 1, commit).map((text) => text.split(' ').slice(0, 3).join(' '));
  expect(inTransaction).toEqual([
    'UPDATE "ANALYTICS"."INVOCA"."_INVOCA_LOCK" SET',
    'INSERT INTO "ANALYTICS"."INVOCA"."TRANSACTIONS"',
    'MERGE INTO "ANALYTICS"."INVOCA"."TRANSACTIONS"',
    'MERGE INTO "ANALYTICS"."INVOCA"."TRANSACTIONS_CURRENT"',
    'DELETE FROM "ANALYTICS"."INVOCA"."TRANSACTIONS_CURRENT"',
    'MERGE INTO "ANALYTICS"."INVOCA"."CALLS"',
    'DELETE FROM "ANALYTICS"."INVOCA"."CALLS"',
  ]);
  expect(sql.at(-1)).toBe('DROP TABLE IF EXISTS "_INVOCA_STAGE"');
  expect(logger.lines.join('\n')).not.toContain(PASSWORD);
});

test.each([
  ['an unencrypted key', undefined, 'file'],
  ['an encrypted key and its private_key_passphrase', 'key-pass-PHRASE-31', 'file'],
  ['an encrypted key given as PEM text with its newlines as \\n (as a secret store hands it over)', 'key-pass-PHRASE-32', 'text'],
] as const)(
  'key-pair login with %s sends a JWT the public key verifies; a missing schema is created; a large batch goes PUT, COPY, REMOVE',
  async (_name, passphrase, given) => {
    const stageDirectory = await tempDir();
    recorder = await startSnowflakeRecorder(stageDirectory);
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyPath = join(await tempDir(), 'rsa_key.p8');
    await writeFile(
      keyPath,
      passphrase
        ? privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase })
        : privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    const key = given === 'file' ? { private_key_path: keyPath } : { private_key: (await readFile(keyPath, 'utf8')).replace(/\n/g, '\\n') };
    const { config } = parseLoaderConfig({
      engine: 'snowflake',
      snowflake: {
        account: 'acme',
        user: 'LOADER',
        ...key,
        ...(passphrase ? { private_key_passphrase: passphrase } : {}),
        database: 'ANALYTICS',
        schema: 'INVOCA',
        host: '127.0.0.1',
        port: recorder.port,
        protocol: 'http',
      },
    });
    const warehouse = await openSnowflake(config.snowflake as SnowflakeSettings);
    const count = BIND_ROWS_LIMIT + 1;
    await new Loader(warehouse, createMemoryLogger()).loadBatch(schema, staged(rows(count)));
    await warehouse.close();

    const login = recorder.logins[0] ?? {};
    expect(login['AUTHENTICATOR']).toBe('SNOWFLAKE_JWT');
    const [header, payload, signature] = String(login['TOKEN']).split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as { iss: string; sub: string };
    expect(claims.sub).toBe('ACME.LOADER');
    const fingerprint = createHash('sha256')
      .update(publicKey.export({ type: 'spki', format: 'der' }))
      .digest('base64');
    expect(claims.iss).toBe(`ACME.LOADER.SHA256:${fingerprint}`);
    expect(verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature ?? '', 'base64url'))).toBe(true);

    const sql = recorder.queries.map((query) => query.sqlText);
    expect(sql).toContain('CREATE SCHEMA IF NOT EXISTS "ANALYTICS"."INVOCA"');
    const put = sql.findIndex((text) => text.startsWith('PUT '));
    const copy = sql.findIndex((text) => text.startsWith('COPY INTO "_INVOCA_STAGE"'));
    const remove = sql.findIndex((text) => text.startsWith('REMOVE '));
    expect(put).toBeGreaterThan(0);
    expect(copy).toBeGreaterThan(put);
    expect(remove).toBeGreaterThan(copy);
    expect(sql[copy]).toContain('FILE_FORMAT = (TYPE = JSON COMPRESSION = GZIP)');
    expect(sql[copy]).toContain('("TRANSACTION_ID", "_INVOCA_SEQUENCE", "_INVOCA_RAW")');
    expect(sql.some((text) => text.startsWith('INSERT INTO "_INVOCA_STAGE"'))).toBe(false);
    expect(await readdir(stageDirectory)).toEqual(['batch.json.gz']);
  },
);

test('a key that cannot be read is named as the setting to fix before any connection: a missing or wrong passphrase, a key that is no key', async () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const encrypted = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'right-PHRASE-77' }).toString();
  const keyPath = join(await tempDir(), 'rsa_key.p8');
  await writeFile(keyPath, encrypted);
  // No server: each must fail before the driver connects anywhere.
  const base = {
    account: 'acme',
    user: 'LOADER',
    database: 'ANALYTICS',
    schema: 'INVOCA',
    host: '127.0.0.1',
    port: 9,
    protocol: 'http' as const,
  };
  const failure = async (settings: Partial<SnowflakeSettings>): Promise<string> =>
    openSnowflake({ ...base, ...settings }).then(
      () => 'connected',
      (error: unknown) => `${(error as { code?: string }).code}: ${(error as Error).message}`,
    );
  expect(await failure({ private_key_path: keyPath })).toBe(
    "ERR_CONFIG: config field 'snowflake.private_key_passphrase' is required: the private key is encrypted",
  );
  const wrongPassphrase =
    "ERR_CONFIG: config field 'snowflake.private_key_passphrase' does not decrypt the private key in 'snowflake.private_key' (or that key is damaged)";
  expect(await failure({ private_key: encrypted, private_key_passphrase: 'wrong-PHRASE' })).toBe(wrongPassphrase);
  // OpenSSL 3 says "DECODER routines::unsupported", not "bad decrypt", for some ciphers: the same answer.
  for (const cipher of ['des-ede3-cbc', 'aes-128-cbc', 'camellia-256-cbc']) {
    const other = privateKey.export({ type: 'pkcs8', format: 'pem', cipher, passphrase: 'right-PHRASE-77' }).toString();
    expect(await failure({ private_key: other, private_key_passphrase: 'wrong-PHRASE' })).toBe(wrongPassphrase);
  }
  expect(await failure({ password: undefined })).toMatch(
    /^ERR_CONFIG: config field 'snowflake.private_key_path' \(key-pair auth\) or 'snowflake.password' is required/,
  );
  expect(await failure({ private_key: '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----' })).toBe(
    "ERR_CONFIG: config field 'snowflake.private_key' is not a PKCS#8 private key in PEM that can be read",
  );
  expect(await failure({ private_key_path: '/nonexistent/rsa_key.p8' })).toBe(
    "ERR_CONFIG: config field 'snowflake.private_key_path': cannot read the key file /nonexistent/rsa_key.p8 (ENOENT)",
  );
});

test("loading the driver through the loader probes no cloud metadata service (snowflake-sdk's platform detection is off)", async () => {
  // The driver ran its detection when it was loaded (the bins: snowflake-warehouse.ts imports
  // snowflake-no-probe.ts first; under Jest, its setupFiles; test/image runs it as the bins do).
  const detection = (await import('snowflake-sdk/dist/lib/telemetry/platform_detection.js' as string)) as {
    getDetectedPlatforms: () => Promise<string[]>;
  };
  expect(await detection.getDetectedPlatforms()).toEqual(['disabled']);
});

test('the loader as a process: importing its Snowflake client leaves the platform detection off', async () => {
  const script =
    "await import('./dist/src/load/snowflake-warehouse.js'); " +
    "const { getDetectedPlatforms } = (await import('snowflake-sdk/dist/lib/telemetry/platform_detection.js')).default; " +
    'console.log(JSON.stringify(await getDetectedPlatforms()));';
  const env = { ...process.env };
  delete env['SNOWFLAKE_DISABLE_PLATFORM_DETECTION'];
  const result = await runProcess(process.execPath, ['--input-type=module', '-e', script], { env });
  expect(result.stdout.trim()).toBe('["disabled"]');
});
