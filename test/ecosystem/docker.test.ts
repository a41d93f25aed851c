/**
 * No Docker engine runs here, so the Dockerfile is checked statically (hadolint from PyPI, and
 * the Airbyte conventions below), and the entrypoint script itself is run from the checkout.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { expect, test } from '@jest/globals';
import { PACKAGE_VERSION } from '../../src/paths.js';
import { simulator } from '../helpers/simulator.js';
import { jsonFile, tapConfig } from '../helpers/tap.js';
import { requireTools, runProcess } from '../helpers/tools.js';

const HADOLINT = '.venv/bin/hadolint';

test('hadolint finds no warning or error in the Dockerfile', async () => {
  requireTools([HADOLINT], 'hadolint');
  const result = await runProcess(HADOLINT, ['--failure-threshold', 'warning', '--no-color', 'Dockerfile']);
  expect([result.code, result.stdout.split('\n').filter((line) => /warning|error/.test(line))]).toEqual([0, []]);
});

test('the Dockerfile follows the Airbyte conventions and copies paths that exist', async () => {
  const dockerfile = await readFile('Dockerfile', 'utf8');
  const from = [...dockerfile.matchAll(/^FROM (\S+)(?: AS (\S+))?$/gm)];
  expect(from.length).toBeGreaterThanOrEqual(2);
  expect(from.every(([, image]) => /^node:20[.\d]*-bookworm-slim$/.test(image ?? ''))).toBe(true);
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(finalStage)?.[1];
  const airbyteEntrypoint = /AIRBYTE_ENTRYPOINT="([^"]+)"/.exec(finalStage)?.[1];
  expect(JSON.parse(entrypoint ?? '[]')).toEqual([airbyteEntrypoint]);
  expect(finalStage).toMatch(/io\.airbyte\.name="airbyte\/source-invoca"/);
  expect(/^ARG VERSION=(\S+)$/m.exec(finalStage)?.[1]).toBe(PACKAGE_VERSION);
  expect(finalStage).toMatch(/io\.airbyte\.version="\$\{VERSION\}"/);
  expect(/^USER (\S+)$/m.exec(finalStage)?.[1]).not.toMatch(/^(root|0)$/);
  // COPY sources: from the build context they exist in the checkout; from the build stage, in the build output.
  for (const [, stage, source] of dockerfile.matchAll(/^COPY (?:--from=(\S+) )?(\S+)(?: \S+)+$/gm)) {
    const path = stage ? (source ?? '').replace(/^\/build\//, '') : (source ?? '');
    expect([path, existsSync(path)]).toEqual([path, true]);
  }
  // Every bin the image links onto PATH is built.
  for (const [, bin] of finalStage.matchAll(/ln -s \/app\/(\S+) /g)) expect(existsSync(bin ?? '')).toBe(true);
  expect(airbyteEntrypoint).toBe('/app/docker/entrypoint.sh');
});

test('the entrypoint script runs the Airbyte source: spec, and check against the simulator', async () => {
  const env = { ...process.env, APP_DIR: resolve('.') };
  const spec = await runProcess('docker/entrypoint.sh', ['spec'], { env });
  expect(spec.code).toBe(0);
  expect(JSON.parse(spec.stdout)).toMatchObject({ type: 'SPEC', spec: { connectionSpecification: { required: ['api_token', 'account_id'] } } });
  const sim = await simulator({ rows: 3 });
  try {
    const check = await runProcess('docker/entrypoint.sh', ['check', '--config', await jsonFile(tapConfig(sim))], { env });
    expect(JSON.parse(check.stdout)).toEqual({ type: 'CONNECTION_STATUS', connectionStatus: { status: 'SUCCEEDED' } });
  } finally {
    await sim.close();
  }
});
