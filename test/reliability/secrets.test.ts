/**
 * Secrets in errors that servers write: an API and a warehouse that echo the credentials they
 * were sent back in their error messages. Whatever the client libraries put in their errors is
 * redacted before it is printed. (The other reliability suites scan all their outputs too.)
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from '@jest/globals';
import { TEST_ACCOUNT, TEST_TOKEN } from '../helpers/simulator.js';
import { jsonFile, tempDir } from '../helpers/tap.js';
import { runProcess } from '../helpers/tools.js';
import { secretLeaks, TEST_PASSWORD } from './harness.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

/** A loopback server whose every answer is built by `answer`. */
async function echoServer(answer: (request: IncomingMessage, body: string) => { status: number; body: string }): Promise<string> {
  server = createServer((request, response) => {
    void bodyOf(request).then((body) => {
      const reply = answer(request, body);
      response.writeHead(reply.status, { 'content-type': 'application/json' });
      response.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server?.address() as AddressInfo | undefined)?.port}`;
}

describe('secrets echoed back by servers are redacted', () => {
  test('an API error body that repeats the token: tap-invoca and source-invoca print [REDACTED]', async () => {
    const url = await echoServer((request) => ({
      status: 400,
      body: JSON.stringify({
        errors: { class: 'BadRequest', invalid_data: `token ${String(request.headers.authorization)} is not valid here` },
      }),
    }));
    const config = await jsonFile({ api_token: TEST_TOKEN, account_id: TEST_ACCOUNT, base_url: url });
    const tap = await runProcess(process.execPath, ['dist/src/bin/tap-invoca.js', '--config', config]);
    expect(tap.code).toBe(1);
    expect(tap.stderr).toContain('token [REDACTED] is not valid here');
    const check = await runProcess(process.execPath, ['dist/src/bin/source-invoca.js', 'check', '--config', config]);
    expect(check.stdout).toContain('token [REDACTED] is not valid here');
    const read = await runProcess(process.execPath, [
      'dist/src/bin/source-invoca.js',
      'read',
      '--config',
      config,
      '--catalog',
      await jsonFile({ streams: [] }),
    ]);
    expect(
      secretLeaks({
        'tap stdout': tap.stdout,
        'tap stderr': tap.stderr,
        check: check.stdout + check.stderr,
        read: read.stdout + read.stderr,
      }),
    ).toEqual([]);
  });

  test('a Snowflake login error that repeats the password: target-invoca prints [REDACTED], exit 1', async () => {
    const url = await echoServer((request, body) => {
      const login = request.url?.startsWith('/session/v1/login-request')
        ? (JSON.parse(body || '{}') as { data?: { PASSWORD?: string } })
        : {};
      return {
        status: 200,
        body: JSON.stringify({
          success: false,
          code: '390100',
          message: `Incorrect username or password was specified (got '${login.data?.PASSWORD ?? ''}').`,
          data: null,
        }),
      };
    });
    const port = Number(new URL(url).port);
    const config = await jsonFile({
      engine: 'snowflake',
      snowflake: {
        account: 'acme',
        user: 'loader',
        password: TEST_PASSWORD,
        database: 'ANALYTICS',
        warehouse: 'WH',
        schema: 'INVOCA',
        host: '127.0.0.1',
        port,
        protocol: 'http',
      },
    });
    const dir = await tempDir();
    const target = await runProcess(process.execPath, ['dist/src/bin/target-invoca.js', '--config', config], {
      input: '',
      cwd: process.cwd(),
      env: { ...process.env, TMPDIR: dir },
    });
    expect(target.code).toBe(1);
    expect(target.stderr).toMatch(/CRITICAL target-invoca: .*\[REDACTED\]/);
    expect(secretLeaks({ stdout: target.stdout, stderr: target.stderr }, [dir])).toEqual([]);
  }, 60_000);
});
