/**
 * An error that escapes every handler (a bug, or a library's callback throwing) in the real bins:
 * one redacted CRITICAL line that names the bin, exit 1, and for source-invoca the Airbyte TRACE
 * a platform reads the failure from. No engine throws on demand: a preloaded module throws from a
 * timer callback when undici announces the first request (after the config, and so its secrets,
 * has been read).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { simulator, TEST_TOKEN } from '../helpers/simulator.js';
import { jsonFile, parseLines, tapConfig, tempDir } from '../helpers/tap.js';
import { runProcess } from '../helpers/tools.js';

let sim: RunningSimulator;
let preload: string;
let config: string;

beforeAll(async () => {
  sim = await simulator({ rows: 20 });
  preload = join(await tempDir(), 'throw-at-first-request.mjs');
  await writeFile(
    preload,
    `import dc from 'node:diagnostics_channel';
let thrown = false;
dc.subscribe('undici:request:create', () => {
  if (thrown) return;
  thrown = true;
  setImmediate(() => { throw new Error('boom with the token ${TEST_TOKEN} in it'); });
});
`,
  );
  config = await jsonFile(tapConfig(sim));
});

afterAll(async () => {
  await sim.close();
});

const crash = (bin: string, args: string[]) => runProcess(process.execPath, ['--import', preload, `dist/src/bin/${bin}.js`, ...args]);

test('tap-invoca: one CRITICAL line naming the bin, the token redacted, exit 1', async () => {
  const { code, stdout, stderr } = await crash('tap-invoca', ['--config', config]);
  expect(code).toBe(1);
  const critical = stderr.split('\n').filter((line) => line.startsWith('CRITICAL'));
  expect(critical).toEqual(['CRITICAL tap-invoca: unexpected error: boom with the token [REDACTED] in it']);
  expect(`${stdout}${stderr}`).not.toContain(TEST_TOKEN.slice(4, 12));
});

test('source-invoca: the same line, and an Airbyte TRACE ERROR last on stdout', async () => {
  const catalog = await jsonFile({
    streams: [
      {
        stream: { name: 'transactions', json_schema: {}, supported_sync_modes: ['incremental'] },
        sync_mode: 'incremental',
        destination_sync_mode: 'append',
      },
    ],
  });
  const { code, stdout, stderr } = await crash('source-invoca', ['read', '--config', config, '--catalog', catalog]);
  expect(code).toBe(1);
  expect(stderr.split('\n').filter((line) => line.startsWith('CRITICAL'))).toEqual([
    'CRITICAL source-invoca: unexpected error: boom with the token [REDACTED] in it',
  ]);
  expect(parseLines(stdout).at(-1)).toMatchObject({
    type: 'TRACE',
    trace: {
      type: 'ERROR',
      error: { failure_type: 'system_error', message: 'source-invoca: unexpected error: boom with the token [REDACTED] in it' },
    },
  });
  expect(`${stdout}${stderr}`).not.toContain(TEST_TOKEN.slice(4, 12));
});
