/**
 * A server that does not behave: an endless body, a 10 MB error page of '<' (which the old
 * title and tag regular expressions took minutes over, blocking the event loop), a page that is
 * too large. tap-invoca as a process: each ends with one CRITICAL line naming the problem and
 * exit 1, memory bounded by max_response_mb, nothing from the body's bulk in the message.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from '@jest/globals';
import { jsonFile } from '../helpers/tap.js';
import { runProcess } from '../helpers/tools.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

async function serve(answer: (request: IncomingMessage, response: ServerResponse) => void): Promise<string> {
  const listening = createServer(answer);
  server = listening;
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
}

async function tap(baseUrl: string, extra: Record<string, unknown> = {}) {
  const config = await jsonFile({
    api_token: 'tok_hostile_server_0001',
    account_id: '1',
    base_url: baseUrl,
    max_retries: 1,
    retry_initial_delay_seconds: 0,
    min_poll_interval_seconds: 0,
    ...extra,
  });
  const result = await runProcess(process.execPath, ['dist/src/bin/tap-invoca.js', '--config', config]);
  const critical = result.stderr.split('\n').filter((line) => line.startsWith('CRITICAL'));
  return { ...result, critical };
}

const TEN_MB_OF_LT = '<'.repeat(10 * 1024 * 1024);

test('an endless body ends at max_response_mb (default 256) with one line, exit 1', async () => {
  let bytesSent = 0;
  const url = await serve((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(1024 * 1024, ' ');
    response.write('[');
    const more = (): void => {
      // Writes until the client goes away; a bound keeps a broken client from making this endless too.
      while (!response.destroyed && bytesSent < 2 * 1024 * 1024 * 1024) {
        bytesSent += chunk.length;
        if (!response.write(chunk)) return void response.once('drain', more);
      }
      response.end();
    };
    more();
  });
  const result = await tap(url);
  expect(result.code).toBe(1);
  expect(result.critical).toHaveLength(1);
  expect(result.critical[0]).toMatch(/passed max_response_mb \(256 MB\) and was cut off; .* raise max_response_mb/);
  // Not retried: the same page would come back as large.
  expect(result.stderr).not.toMatch(/retry 1\/1/);
  expect(bytesSent).toBeLessThan(1024 * 1024 * 1024);
}, 120_000);

test('max_response_mb is a setting: a 3 MB page passes the default and fails at 2', async () => {
  const page = `[${JSON.stringify({ transaction_id: 'A-1', padding: 'x'.repeat(3 * 1024 * 1024) })}]`;
  const url = await serve((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(page);
  });
  expect((await tap(url)).code).toBe(0);
  const small = await tap(url, { max_response_mb: 2 });
  expect(small.code).toBe(1);
  expect(small.critical[0]).toMatch(/passed max_response_mb \(2 MB\)/);
});

test.each([
  ['a 200 HTML page', 200, 'text/html'],
  ['a 502 HTML page', 502, 'text/html'],
  ['a 200 "JSON" body', 200, 'application/json'],
])(
  '10 MB of "<" as %s: one line, exit 1',
  async (_name, status, contentType) => {
    const url = await serve((_request, response) => {
      response.writeHead(status, { 'content-type': contentType });
      response.end(TEN_MB_OF_LT);
    });
    const result = await tap(url);
    expect(result.code).toBe(1);
    expect(result.critical).toHaveLength(1);
    expect(result.critical[0]).toMatch(/HTML page instead of JSON|HTTP 502/);
    expect(result.critical[0]?.length).toBeLessThan(1000);
  },
  60_000,
);
