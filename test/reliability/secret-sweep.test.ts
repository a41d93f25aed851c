/**
 * A sweep of broken configs for every secret of every bin's config: the config as it should be,
 * with a typo in each sibling key and in the secret's own key, the secret as a list, a number and
 * an object, and the file cut at every byte. Each is run through every command of the bins that
 * read it (in-process: the `run` each bin calls), against loopback servers that echo back the
 * credentials they receive. No 4-character piece of a secret may appear in anything printed or
 * in any temporary file.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { run as runSource } from '../../src/cli/source.js';
import { run as runTap } from '../../src/cli/tap.js';
import { run as runTarget } from '../../src/cli/target.js';
import { LOADER_CONFIG_SCHEMA, TAP_CONFIG_SCHEMA } from '../../src/config/schemas.js';
import type { JsonSchema } from '../../src/config/validate.js';

/** Letters, digits and the two characters JSON must escape: a leak of any 4 of them in a row is found. */
const SECRET = 'qZ7x"K2wV9\\pL4jM8rTy';
/** The same secret as a number, for configs that give it as one. */
const NUMERIC_SECRET = 7301946582174093;

let server: Server;
let port = 0;
let dir: string;
let scratch: string;
const savedTmpdir = process.env['TMPDIR'];

/** Invoca answers 401 and repeats the token; Snowflake's login fails and repeats the whole request. */
beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      if (request.url?.startsWith('/session/v1/login-request')) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ success: false, code: '390100', message: `Incorrect login: ${body}`, data: null }));
        return;
      }
      response.writeHead(401, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ errors: { class: 'Unauthorized', invalid_data: `token ${String(request.headers.authorization)}` } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  dir = await mkdtemp(join(tmpdir(), 'secret-sweep-'));
  // Every temporary file the bins or their drivers write lands here, and is searched too.
  scratch = await mkdtemp(join(tmpdir(), 'secret-sweep-tmp-'));
  process.env['TMPDIR'] = scratch;
});

afterAll(async () => {
  if (savedTmpdir === undefined) delete process.env['TMPDIR'];
  else process.env['TMPDIR'] = savedTmpdir;
  await new Promise((resolve) => server.close(resolve));
});

type Bin = 'tap' | 'loader';
type Config = Record<string, unknown>;

/** Every path the schema marks `secret: true`. */
function secretPaths(schema: JsonSchema, prefix: string[] = []): string[][] {
  return Object.entries(schema.properties ?? {}).flatMap(([key, property]) =>
    property['secret'] === true ? [[...prefix, key]] : secretPaths(property, [...prefix, key]),
  );
}

function tapBase(secret: unknown): Config {
  return {
    api_token: secret,
    account_id: '4321',
    base_url: `http://127.0.0.1:${port}`,
    max_retries: 0,
    min_poll_interval_seconds: 0,
  };
}

function snowflakeBase(auth: Config): Config {
  return {
    engine: 'snowflake',
    source_table: 'raw_transactions',
    snowflake: {
      account: 'acme',
      user: 'LOADER',
      // Early in the object: an error that echoes the object cut short would still reach it.
      ...auth,
      database: 'ANALYTICS',
      schema: 'INVOCA',
      warehouse: 'LOADING',
      host: '127.0.0.1',
      port,
      protocol: 'http',
    },
  };
}

/** A private key encrypted with the secret as its passphrase, as `openssl pkcs8 -v2 aes256` writes one. */
let encryptedKeyPath = '';
async function encryptedKey(): Promise<string> {
  if (!encryptedKeyPath) {
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: SECRET },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    encryptedKeyPath = join(dir, 'rsa_key.p8');
    await writeFile(encryptedKeyPath, privateKey);
  }
  return encryptedKeyPath;
}

/** Each secret of each config: which bin reads it, and its config with a given value as the secret. */
async function secretCases(): Promise<{ bin: Bin; path: string[]; config: (secret: unknown) => Config }[]> {
  const keyPath = await encryptedKey();
  const byPath: Record<string, { bin: Bin; config: (secret: unknown) => Config }> = {
    api_token: { bin: 'tap', config: tapBase },
    // Twice the secret: a valid key is 32 bytes at least.
    hash_key: {
      bin: 'tap',
      config: (secret) => ({
        ...tapBase('harmless-token'),
        hash_columns: ['$invoca_personal_columns'],
        hash_key: typeof secret === 'string' ? `${secret}${secret}` : secret,
      }),
    },
    'snowflake.password': { bin: 'loader', config: (secret) => snowflakeBase({ password: secret }) },
    'snowflake.private_key': { bin: 'loader', config: (secret) => snowflakeBase({ private_key: secret }) },
    'bigquery.credentials_json': {
      bin: 'loader',
      config: (secret) => ({
        engine: 'bigquery',
        source_table: 'raw_transactions',
        bigquery: { project_id: 'acme-analytics', dataset: 'invoca', credentials_json: secret, api_endpoint: `http://127.0.0.1:${port}` },
      }),
    },
    'snowflake.private_key_passphrase': {
      bin: 'loader',
      config: (secret) => snowflakeBase({ private_key_path: keyPath, private_key_passphrase: secret }),
    },
  };
  const paths = [...secretPaths(TAP_CONFIG_SCHEMA), ...secretPaths(LOADER_CONFIG_SCHEMA)];
  // A new secret setting must join the sweep: this fails until it has a case here.
  expect(paths.map((path) => path.join('.')).sort()).toEqual(Object.keys(byPath).sort());
  return paths.map((path) => ({ path, ...(byPath[path.join('.')] as { bin: Bin; config: (secret: unknown) => Config }) }));
}

function withValue(config: Config, path: string[], value: unknown): Config {
  const copy = structuredClone(config);
  let object = copy;
  for (const key of path.slice(0, -1)) object = object[key] as Config;
  object[path.at(-1) as string] = value;
  return copy;
}

/** The key with its second character dropped, as fingers do: account -> acount. */
const typo = (key: string): string => key.slice(0, 1) + key.slice(2);

function withTypo(config: Config, path: string[], key: string): Config {
  const copy = structuredClone(config);
  let object = copy;
  for (const part of path) object = object[part] as Config;
  const entries = Object.entries(object).map(([name, value]) => [name === key ? typo(name) : name, value] as const);
  for (const name of Object.keys(object)) delete object[name];
  Object.assign(object, Object.fromEntries(entries));
  return copy;
}

/** Each config variant of one secret, as file text, with what it is for the failure message. */
function variants(config: (secret: unknown) => Config, path: string[]): { name: string; text: string }[] {
  const good = config(SECRET);
  const parent = path.slice(0, -1);
  let siblings: Config = good;
  for (const key of parent) siblings = siblings[key] as Config;
  const result = [
    { name: 'as it should be', text: JSON.stringify(good) },
    { name: 'the secret as a list', text: JSON.stringify(config([SECRET])) },
    { name: 'the secret as a number', text: JSON.stringify(config(NUMERIC_SECRET)) },
    { name: 'the secret as an object', text: JSON.stringify(config({ value: SECRET })) },
    // Keys the schema does not know whose names say they hold a secret.
    ...['secret', 'pass', 'private_key', 'credentials_json'].map((key) => ({
      name: `the secret in an unknown key '${key}'`,
      text: JSON.stringify(withValue(config('a-harmless-value'), [...parent, key], SECRET)),
    })),
    ...Object.keys(siblings)
      // A typo in base_url would send the request to invoca.net itself: not from a test.
      .filter((key) => key !== 'base_url')
      .map((key) => ({ name: `a typo in '${[...parent, key].join('.')}'`, text: JSON.stringify(withTypo(good, parent, key)) })),
    // The keys above the secret too (engine, snowflake).
    ...parent.map((_, depth) => {
      const key = parent[depth] as string;
      return { name: `a typo in '${key}'`, text: JSON.stringify(withTypo(good, parent.slice(0, depth), key)) };
    }),
  ];
  const text = JSON.stringify(good, null, 1);
  for (let cut = 0; cut < text.length; cut++) result.push({ name: `the file cut at byte ${cut}`, text: text.slice(0, cut) });
  return result;
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString());
        callback();
      },
    }),
    text: () => chunks.join(''),
  };
}

/** Runs every command that reads this kind of config; returns what each printed. */
async function runAll(bin: Bin, configPath: string, catalogPath: string): Promise<Record<string, string>> {
  const commands: [string, (io: { stdout: Writable; stderr: (line: string) => void }) => Promise<number>][] =
    bin === 'tap'
      ? [
          ['tap-invoca', (io) => runTap(['--config', configPath], io)],
          ['tap-invoca --discover', (io) => runTap(['--config', configPath, '--discover'], io)],
          ['source-invoca spec', (io) => runSource(['spec'], io)],
          ['source-invoca check', (io) => runSource(['check', '--config', configPath], io)],
          ['source-invoca discover', (io) => runSource(['discover', '--config', configPath], io)],
          ['source-invoca read', (io) => runSource(['read', '--config', configPath, '--catalog', catalogPath], io)],
        ]
      : [
          ['target-invoca', (io) => runTarget(['--config', configPath], { ...io, stdin: Readable.from([]) })],
          ['target-invoca merge', (io) => runTarget(['merge', '--config', configPath], { ...io, stdin: Readable.from([]) })],
          ['target-invoca sql', (io) => runTarget(['sql', '--config', configPath], { ...io, stdin: Readable.from([]) })],
          ['target-invoca check', (io) => runTarget(['check', '--config', configPath], { ...io, stdin: Readable.from([]) })],
        ];
  const outputs: Record<string, string> = {};
  for (const [name, command] of commands) {
    const stdout = collector();
    const stderr: string[] = [];
    const code = await command({ stdout: stdout.stream, stderr: (line) => stderr.push(line) });
    outputs[name] = `exit ${code}\n${stdout.text()}\n${stderr.join('\n')}`;
  }
  return outputs;
}

/** Every 4-character piece of a form of the secret. */
function pieces(form: string): string[] {
  return Array.from({ length: form.length - 3 }, (_, at) => form.slice(at, at + 4));
}
const TEXT_PIECES = pieces(SECRET);
/**
 * Digits are everywhere (ports, times): the numeric secret is searched for only where it was
 * given, and the one clock value those runs print (a TRACE's emitted_at) is set aside first.
 */
const NUMERIC_PIECES = pieces(String(NUMERIC_SECRET));
const withoutClock = (text: string): string => text.replace(/"emitted_at":\d+/g, '"emitted_at":0');

function filesUnder(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

test('no piece of any secret in any output of any bin, over a sweep of broken configs', async () => {
  const catalogPath = join(dir, 'catalog.json');
  await writeFile(
    catalogPath,
    JSON.stringify({
      streams: [
        {
          stream: { name: 'transactions', json_schema: {}, supported_sync_modes: ['incremental'] },
          sync_mode: 'incremental',
          destination_sync_mode: 'append',
        },
      ],
    }),
  );
  const configPath = join(dir, 'config.json');
  const leaks: string[] = [];
  let runs = 0;
  for (const { bin, path, config } of await secretCases()) {
    for (const variant of variants(config, path)) {
      await writeFile(configPath, variant.text);
      const outputs = await runAll(bin, configPath, catalogPath);
      const secretPieces = variant.name === 'the secret as a number' ? [...TEXT_PIECES, ...NUMERIC_PIECES] : TEXT_PIECES;
      for (const [command, printed] of Object.entries(outputs)) {
        runs++;
        // Every run says something: an empty output would pass the sweep without testing it.
        expect(printed.length).toBeGreaterThan(8);
        const output = withoutClock(printed);
        const piece = secretPieces.find((candidate) => output.includes(candidate));
        if (piece) leaks.push(`${path.join('.')}, ${variant.name}, ${command}: '${piece}' in ${JSON.stringify(output.slice(0, 300))}`);
      }
    }
  }
  for (const file of filesUnder(scratch)) {
    const text = readFileSync(file, 'latin1');
    const piece = TEXT_PIECES.find((candidate) => text.includes(candidate));
    if (piece) leaks.push(`temporary file ${file}: '${piece}'`);
  }
  expect(leaks).toEqual([]);
  // The sweep ran what it says: ~3 secrets x (~15 variants + ~250 cuts) x their commands.
  expect(runs).toBeGreaterThan(2000);
}, 300_000);
