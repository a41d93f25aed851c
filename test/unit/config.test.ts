import { BigQuery } from '@google-cloud/bigquery';
import { describe, expect, test } from '@jest/globals';
import { endpointProblem, isLoopbackHost } from '../../src/config/endpoints.js';
import { parseJsonText, syntaxErrorOffset } from '../../src/config/files.js';
import { parseLoaderConfig } from '../../src/config/loader-config.js';
import { createRedactor } from '../../src/config/redact.js';
import { LOADER_CONFIG_SCHEMA, TAP_CONFIG_SCHEMA } from '../../src/config/schemas.js';
import { isSecretName, secretValues } from '../../src/config/secrets.js';
import { nearestKey } from '../../src/config/nearest-key.js';
import { parseTapConfig } from '../../src/config/tap-config.js';
import { ApiNetworkError } from '../../src/errors.js';
import { transportError } from '../../src/invoca/client.js';
import { serverMessage, statusError } from '../../src/invoca/responses.js';
import { bigQueryClientOptions, type BigQuerySettings } from '../../src/load/bigquery-warehouse.js';
import { parseAirbyteState, parseState } from '../../src/tap/state.js';

describe('JSON files', () => {
  test.each([
    ['{"a": 1,}', 1, 9],
    ['{"api_token": "tok_SECRET', 1, 26],
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3],
    ['[1, 2', 1, 6],
    ['{"a": tru}', 1, 10],
    ['{"a": "x\\q"}', 1, 10],
    ['{"a": 01}', 1, 8],
    ['{"a": 1} x', 1, 10],
  ])('%j: a syntax error by line and column only', (text, line, column) => {
    let message = '';
    try {
      parseJsonText(text, 'the config file c.json');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(`the config file c.json is not valid JSON: syntax error at line ${line}, column ${column}`);
  });

  test('the offset finder agrees with JSON.parse on what is valid', () => {
    const valid = '{"a": [1, -2.5e3, true, false, null, "\\u00e9\\n"], "b": {"c": {}}, "d": []}';
    expect(syntaxErrorOffset(valid)).toBe(valid.length);
    for (let cut = 0; cut < valid.length; cut++) {
      const prefix = valid.slice(0, cut);
      expect(() => JSON.parse(prefix)).toThrow();
      expect(syntaxErrorOffset(prefix)).toBeLessThanOrEqual(cut);
    }
  });

  test('a byte order mark and an empty file', () => {
    expect(parseJsonText('\uFEFF{"a": 1}', 'x')).toEqual({ a: 1 });
    expect(parseJsonText(' \n', 'x')).toBeUndefined();
  });
});

describe('endpoints', () => {
  test.each(['127.0.0.1', '127.4.5.6', 'localhost', 'LOCALHOST', '[::1]', '::1'])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });
  test.each(['10.0.0.1', '128.0.0.1', 'invoca.net', 'localhost.example.com', '127.0.0.1.nip.io'])('%s is not', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });

  test('https anywhere, http on loopback only, host only where asked', () => {
    const problem = (url: string, hostOnly = true) => endpointProblem(url, "config field 'x'", 'token', { hostOnly });
    expect(problem('https://yourcompany.invoca.net')).toBeUndefined();
    expect(problem('https://invoca.net/')).toBeUndefined();
    expect(problem('http://127.0.0.1:8080')).toBeUndefined();
    expect(problem('http://[::1]:8080')).toBeUndefined();
    expect(problem('http://invoca.net')).toMatch(/must use https:\/\/ for invoca\.net/);
    expect(problem('ftp://invoca.net')).toMatch(/must be an https:\/\/ URL/);
    expect(problem('https://invoca.net/api')).toMatch(/scheme and host \(and port\) only/);
    expect(problem('https://invoca.net/?a=1')).toMatch(/scheme and host/);
    expect(problem('https://invoca.net/api', false)).toBeUndefined();
    expect(problem('https://u:secret@invoca.net')).toMatch(/must not hold a user name or password/);
    expect(problem('https://u:sec ret@invoca.net')).not.toMatch(/sec/);
    expect(problem('not a url')).toMatch(/must be a URL/);
  });
});

describe('secrets', () => {
  test.each([
    'api_token',
    'password',
    'Passwd',
    'pass',
    'private_key',
    'privateKey',
    'secret',
    'client_secret',
    'credentials_json',
    'hash_key',
    'key',
    'pwd',
  ])('%s holds a secret', (name) => expect(isSecretName(name)).toBe(true));
  test.each(['private_key_path', 'credentials_path', 'account_id', 'replication_key_value', 'user', 'keyboard', 'monkey'])(
    '%s does not',
    (name) => {
      expect(isSecretName(name)).toBe(false);
    },
  );

  test('unknown keys are secrets by their name or by the secret they are nearest to', () => {
    expect(secretValues(TAP_CONFIG_SCHEMA, { api_tokn: 'tok_9876', note: 'visible' })).toEqual(['tok_9876']);
    expect(
      secretValues(LOADER_CONFIG_SCHEMA, { snowflake: { pasword: 'pw_1', private_key: 'pk_2', credentials_json: { a: 'cj_3' } } }),
    ).toEqual(['pw_1', 'pk_2', 'cj_3']);
  });

  test('a config error never shows an object or a list, and never a secret field', () => {
    const message = (raw: unknown) => {
      try {
        parseLoaderConfig(raw);
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    };
    expect(
      message({ engine: 'snowflake', snowflake: { account: 'a', user: 'u', password: ['pw_1234'], database: 'D', schema: 'S' } }),
    ).toBe("config field 'snowflake.password' must be a string; fix it in the config");
    expect(message({ engine: 'snowflake', snowflake: 'a string' })).toBe(
      'config field \'snowflake\' must be an object (got "a string"); fix it in the config',
    );
    expect(message({ batch_size_rows: { rows: 5 } })).toBe(
      "config field 'batch_size_rows' must be an integer (got an object); fix it in the config",
    );
    expect(message({ batch_size_rows: [5] })).toBe("config field 'batch_size_rows' must be an integer (got a list); fix it in the config");
  });

  test('a value is redacted before it is cut', () => {
    const token = 'tok_0123456789abcdefghij';
    try {
      parseTapConfig({ api_token: token, account_id: '1', account_type: `${'x'.repeat(50)}${token}` });
    } catch (error) {
      expect((error as Error).message).toMatch(/must be one of network, advertiser, affiliate \(got "x{50}\[REDAC\.\.\.\)/);
      expect((error as Error).message).not.toContain('tok_');
      return;
    }
    throw new Error('no error');
  });
});

describe('state shapes', () => {
  const state = { bookmarks: { transactions: { replication_key: 'transaction_id', replication_key_value: 'A-1', sequence: 7 } } };
  test("Singer's, Meltano's singer_state, and Airbyte's shapes all resume", () => {
    const expected = { cursor: 'A-1', sequence: 7 };
    expect(parseState(state)).toEqual(expected);
    expect(parseState({ singer_state: state })).toEqual(expected);
    expect(parseState({ currently_syncing: null, ...state })).toEqual(expected);
    expect(
      parseAirbyteState([
        { type: 'STREAM', stream: { stream_descriptor: { name: 'transactions' }, stream_state: state.bookmarks.transactions } },
      ]),
    ).toEqual(expected);
    expect(parseAirbyteState({ transactions: state.bookmarks.transactions })).toEqual(expected);
    expect(parseAirbyteState({ singer_state: state })).toEqual(expected);
  });

  test('any other non-empty shape is an error naming the file and the shape expected', () => {
    expect(() => parseState({ state }, 's.json')).toThrow(
      /s\.json has the key 'state', not the shape of a tap-invoca state: expected \{"bookmarks"/,
    );
    expect(() => parseState({ singer_state: { value: state } }, 's.json')).toThrow(/has the key 'value'/);
    expect(() =>
      parseAirbyteState([{ type: 'STREAM', stream: { stream_descriptor: { name: 'calls' }, stream_state: {} } }], 's.json'),
    ).toThrow(/s\.json has no state message for the stream 'transactions'/);
    expect(parseAirbyteState([])).toEqual({ cursor: undefined, sequence: undefined });
  });
});

test('a host that does not resolve is not retried; a passing DNS fault is', () => {
  const failure = (code: string) => Object.assign(new Error(`getaddrinfo ${code} yourcompany.invoca.net`), { code });
  const notFound = transportError(failure('ENOTFOUND'), 'GET https://yourcompany.invoca.net/api', false, 1000);
  expect(notFound).toBeInstanceOf(ApiNetworkError);
  expect(notFound.retryable).toBe(false);
  expect(notFound.message).toMatch(/the host of base_url does not resolve \(ENOTFOUND\) .*; check base_url/);
  expect(transportError(failure('EAI_AGAIN'), 'GET x', false, 1000).retryable).toBe(true);
  expect(transportError(failure('ECONNRESET'), 'GET x', false, 1000).retryable).toBe(true);
});

describe('credentials as text, as containers and secret stores hand them over', () => {
  const snowflake = (extra: Record<string, unknown>) => ({
    engine: 'snowflake',
    snowflake: { account: 'a', user: 'u', database: 'D', schema: 'S', ...extra },
  });
  const bigquery = (extra: Record<string, unknown>) => ({ engine: 'bigquery', bigquery: { project_id: 'p', dataset: 'd', ...extra } });
  const key = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';

  test('snowflake.private_key: PEM text, its newlines as they are or as \\n', () => {
    expect(parseLoaderConfig(snowflake({ private_key: key })).config.snowflake?.private_key).toBe(key);
    expect(parseLoaderConfig(snowflake({ private_key: key.replace(/\n/g, '\\n') })).config.snowflake?.private_key).toBe(key);
    expect(() => parseLoaderConfig(snowflake({ private_key: 'MIIEvQIBADANBg' }))).toThrow(
      "config field 'snowflake.private_key' must be a PKCS#8 private key in PEM",
    );
    expect(() => parseLoaderConfig(snowflake({ private_key: key, private_key_path: '/k.p8' }))).toThrow('the same key twice');
  });

  test('bigquery.credentials_json: the key file as text, handed to the client', async () => {
    const json = JSON.stringify({ type: 'service_account', client_email: 'loader@p.iam.gserviceaccount.com', private_key: key });
    // As a Windows editor saves it (a byte order mark first) or as it is.
    for (const text of [json, `\uFEFF${json}`]) {
      const { config } = parseLoaderConfig(bigquery({ credentials_json: text }));
      // The client library reads the credentials it was given (no request: nothing is signed yet).
      const client = new BigQuery(bigQueryClientOptions(config.bigquery as BigQuerySettings));
      expect((await client.authClient.getCredentials()).client_email).toBe('loader@p.iam.gserviceaccount.com');
    }
    expect(() => parseLoaderConfig(bigquery({ credentials_json: '{"type": "service_account", "private_key": "-----BEGIN' }))).toThrow(
      /^config field 'bigquery\.credentials_json' is not valid JSON: syntax error at line 1, column 55; fix it in the config$/,
    );
    expect(() => parseLoaderConfig(bigquery({ credentials_json: '["x"]' }))).toThrow('must be the JSON of a service account key file');
    expect(() => parseLoaderConfig(bigquery({ credentials_json: json, credentials_path: '/k.json' }))).toThrow('the same key twice');
  });
});

describe('what a fresh-eyes review found after the first round', () => {
  const token = 'QWERTYUIOPASDFGHJKLZXCVB';
  const message = (parse: () => unknown): string => {
    try {
      parse();
    } catch (error) {
      return (error as Error).message;
    }
    return '';
  };

  test('a pasted URL is never echoed: its query may hold the token, its user part a password', () => {
    const pasted = message(() =>
      parseTapConfig({ api_token: token, account_id: '1', base_url: `https://a.invoca.net/api/2020-10-01/1.json?oauth_token=${token}` }),
    );
    expect(pasted).toMatch(/config field 'base_url' must be a scheme and host \(and port\) only, such as https:\/\/a\.invoca\.net/);
    expect(pasted).not.toContain(token.slice(0, 4));
    const withUser = message(() => parseTapConfig({ api_token: token, account_id: '1', base_url: 'https://user:hunter2xyz@invoca.net/ ' }));
    expect(withUser).toMatch(/base_url/);
    expect(withUser).not.toContain('hunter2');
    const host = message(() =>
      parseLoaderConfig({
        engine: 'snowflake',
        snowflake: {
          account: 'a',
          user: 'u',
          password: 'p',
          database: 'D',
          schema: 'S',
          host: 'https://u:HostPw999@myorg.snowflakecomputing.com',
        },
      }),
    );
    expect(host).toMatch(/snowflake\.host/);
    expect(host).not.toContain('HostPw');
    const account = message(() =>
      parseLoaderConfig({
        engine: 'snowflake',
        snowflake: {
          account: 'https://usr:Pw0rdSecret@myorg-acct.snowflakecomputing.com',
          user: 'u',
          password: 'p',
          database: 'D',
          schema: 'S',
        },
      }),
    );
    expect(account).toMatch(/use "myorg-acct"/);
    expect(account).not.toContain('Pw0rd');
  });

  test("a server's echo of the token is redacted before the message is cut to one line", () => {
    const body = `Invalid token ${'.'.repeat(176)} ${token} and more`;
    const redact = createRedactor([token]);
    const detail = statusError('GET x', 401, body, undefined, redact).message;
    expect(detail).not.toContain(token.slice(0, 4));
    expect(serverMessage(`token "${JSON.stringify(JSON.stringify(token)).slice(1, -1)}"`, redact)).not.toContain(token.slice(0, 4));
    expect(serverMessage(`bad auth ${Buffer.from(token).toString('base64')}`, redact)).toBe('bad auth [REDACTED]');
  });

  test('a multi-line secret (a PEM key) is redacted whole, with its \\n escapes made newlines, folded to one line, and line by line', () => {
    const lines = ['MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7', 'x3Tz9qPq0Yv8n1mJ4kQn7r2sWc5dVb6eUf0gHh1iIj2kKl3mMn4o'];
    const escaped = `-----BEGIN PRIVATE KEY-----\\n${lines.join('\\n')}\\n-----END PRIVATE KEY-----`;
    const redact = createRedactor([escaped]);
    const pem = escaped.replace(/\\n/g, '\n');
    expect(redact(`key: ${pem}`)).toBe('key: [REDACTED]');
    expect(redact(`folded: ${pem.replace(/\s+/g, ' ')}`)).not.toContain(lines[0]);
    expect(redact(`one line quoted: ${lines[1]} here`)).toBe('one line quoted: [REDACTED] here');
    // The PEM's header is no secret, and is not hidden.
    expect(redact('-----BEGIN PRIVATE KEY-----')).toBe('-----BEGIN PRIVATE KEY-----');
  });

  test('a token with a trailing newline, and a near-miss of a required key, are named', () => {
    expect(message(() => parseTapConfig({ api_token: `${token}\n`, account_id: '1' }))).toBe(
      "config field 'api_token' must be a token without spaces or line breaks (a trailing newline from a secret file?); fix it in the config",
    );
    expect(message(() => parseTapConfig({ 'api-token': token, account_id: '1' }))).toBe(
      "config field 'api_token' is required (config has 'api-token': a typo?); fix it in the config",
    );
    // A correct sibling setting that happens to be close is not called a typo.
    expect(message(() => parseTapConfig({ api_token: token, account_type: 'advertiser' }))).toBe(
      "config field 'account_id' is required; fix it in the config",
    );
  });

  test('a PEM with CRLF line ends is read; a service account key needs client_email and private_key', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\r\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\r\n-----END PRIVATE KEY-----\r\n';
    const snowflake = { engine: 'snowflake', snowflake: { account: 'a', user: 'u', database: 'D', schema: 'S', private_key: pem } };
    expect(parseLoaderConfig(snowflake).config.snowflake?.private_key).toBe(pem.replace(/\r\n/g, '\n').trim());
    expect(
      message(() =>
        parseLoaderConfig({
          engine: 'bigquery',
          bigquery: { project_id: 'p', dataset: 'd', credentials_json: '{"type": "service_account"}' },
        }),
      ),
    ).toMatch(/must be the JSON of a service account key file \(an object with "type": "service_account", client_email and private_key\)/);
  });
});

test('nearestKey suggests only close keys', () => {
  expect(nearestKey('page_sise', ['page_size', 'api_token'])).toBe('page_size');
  expect(nearestKey('apitoken', ['page_size', 'api_token'])).toBe('api_token');
  expect(nearestKey('colour', ['page_size', 'api_token'])).toBeUndefined();
});

test('config defaults, transaction type spellings and numeric account ids', () => {
  const { config, warnings } = parseTapConfig({
    api_token: 'tok',
    account_id: 1234,
    transaction_types: ['Post Call Event', 'PostCallEvent', 'Reported Conversion'],
  });
  expect(config).toMatchObject({
    accountId: '1234',
    accountType: 'network',
    baseUrl: 'https://invoca.net',
    apiVersion: '2020-10-01',
    pageSize: 4000,
    includeColumns: ['$invoca_default_columns', '$invoca_custom_columns', 'custom_data'],
    transactionTypes: ['PostCallEvent', 'Sale'],
    requestTimeoutMs: 300_000,
    maxRetries: 5,
  });
  expect(warnings).toEqual([]);
  expect(parseTapConfig({ api_token: 't', account_id: '1', start_date: '2026-02-01T10:00:00-07:00' }).config.startDate).toBe('2026-02-01');
  expect(() => parseTapConfig({ api_token: 't', account_id: '1', start_date: '2026-02-31' })).toThrow("'start_date' is not a real date");
  expect(() => parseTapConfig({ api_token: 't', account_id: '1', start_date: '2026-99-01' })).toThrow("'start_date' is not a real date");
});

test('transaction_types: the FAQ spellings in any case; an unknown one lists the accepted ones', () => {
  const types = (values: string[]): unknown =>
    parseTapConfig({ api_token: 't', account_id: '1', transaction_types: values }).config.transactionTypes;
  expect(types(['call', 'Call', 'CALL'])).toEqual(['Call']);
  expect(types(['post call event', 'post_call_event', 'PostCallEvent', 'Post Call Event'])).toEqual(['PostCallEvent']);
  expect(types(['sale', 'reported conversion', 'Reported_Conversion'])).toEqual(['Sale']);
  expect(types(['signal'])).toEqual(['Signal']);
  expect(() => types(['Refund'])).toThrow(
    /config field 'transaction_types' has "Refund", which is no transaction type; use Call, PostCallEvent .*Signal; in any case/,
  );
});

test('min_poll_interval_seconds: 300 by default, at least 300 against invoca.net, any value from 0 elsewhere', () => {
  const parse = (extra: Record<string, unknown>): number =>
    parseTapConfig({ api_token: 't', account_id: '1', ...extra }).config.minPollIntervalSeconds;
  expect(parse({})).toBe(300);
  expect(parse({ base_url: 'https://acme.invoca.net', min_poll_interval_seconds: 600 })).toBe(600);
  expect(() => parse({ min_poll_interval_seconds: 60 })).toThrow(
    /config field 'min_poll_interval_seconds' is 60, below Invoca's floor of 300 seconds for https:\/\/invoca.net/,
  );
  expect(() => parse({ base_url: 'https://ACME.Invoca.net/', min_poll_interval_seconds: 299 })).toThrow(
    "'min_poll_interval_seconds' is 299",
  );
  expect(parse({ base_url: 'http://127.0.0.1:8080', min_poll_interval_seconds: 0 })).toBe(0);
  expect(parse({ base_url: 'https://notinvoca.net.example', min_poll_interval_seconds: 5 })).toBe(5);
  expect(() => parse({ base_url: 'http://127.0.0.1:8080', min_poll_interval_seconds: -1 })).toThrow("'min_poll_interval_seconds'");
});

test('the redactor replaces a secret as written, URL-encoded and JSON-escaped', () => {
  const redact = createRedactor(['p@ss "word"/x', undefined, 'ab']);
  expect(redact('a p@ss "word"/x b')).toBe('a [REDACTED] b');
  expect(redact(`u=${encodeURIComponent('p@ss "word"/x')}`)).toBe('u=[REDACTED]');
  expect(redact(JSON.stringify({ k: 'p@ss "word"/x' }))).toBe('{"k":"[REDACTED]"}');
  expect(redact('ab stays: too short to search for')).toBe('ab stays: too short to search for');
});
