/**
 * The Dockerfile checked statically (hadolint from PyPI, and the Airbyte conventions below), and
 * the entrypoint scripts run from the checkout: docker/follow.sh as PID 1 of a PID namespace of
 * its own, as in a container. The image itself is built and run in its own lane
 * (test/image/image.test.ts, `npm run test:image`), which needs podman.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink, watch, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, test } from '@jest/globals';
import { openDuckDb } from '../../src/load/duckdb-warehouse.js';
import { PACKAGE_VERSION } from '../../src/paths.js';
import { simulator } from '../helpers/simulator.js';
import { jsonFile, tapConfig, tempDir } from '../helpers/tap.js';
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
  // Every stage on the one base, a supported Node LTS pinned to the release the tests run on.
  expect(from.every(([, image]) => /^\$\{BASE_IMAGE\}$/.test(image ?? ''))).toBe(true);
  const base = /^ARG BASE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1] ?? '';
  const nodeSh = await readFile('scripts/node.sh', 'utf8');
  expect(base).toBe(`node:${/^NODE_VERSION=(\S+)$/m.exec(nodeSh)?.[1]}-bookworm-slim`);
  expect(base).toMatch(/^node:24\.\d+\.\d+-bookworm-slim$/);
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
  expect(JSON.parse(spec.stdout)).toMatchObject({
    type: 'SPEC',
    spec: { connectionSpecification: { required: ['api_token', 'account_id'] } },
  });
  const sim = await simulator({ rows: 3 });
  try {
    const check = await runProcess('docker/entrypoint.sh', ['check', '--config', await jsonFile(tapConfig(sim))], { env });
    expect(JSON.parse(check.stdout)).toEqual({ type: 'CONNECTION_STATUS', connectionStatus: { status: 'SUCCEEDED' } });
  } finally {
    await sim.close();
  }
});

test('docker/follow.sh, as PID 1 of its own PID namespace (as in a container): lands new rows, keeps the state file, and ends on SIGTERM with 143 and everything committed', async () => {
  requireTools(['/usr/bin/unshare'], 'running follow.sh as PID 1');
  const sim = await simulator({ rows: 150 });
  const directory = await tempDir();
  const bin = join(directory, 'bin');
  await mkdir(bin);
  await symlink(resolve('dist/src/bin/tap-invoca.js'), join(bin, 'tap-invoca'));
  await symlink(resolve('dist/src/bin/target-invoca.js'), join(bin, 'target-invoca'));
  await writeFile(join(directory, 'config.json'), JSON.stringify(tapConfig(sim, { min_poll_interval_seconds: 1 })));
  await writeFile(join(directory, 'loader.json'), JSON.stringify({ duckdb: { path: 'invoca.duckdb' }, batch_max_seconds: 0.3 }));
  const script = spawn(
    '/usr/bin/unshare',
    ['--pid', '--fork', '--kill-child', '--mount-proc', resolve('docker/follow.sh'), 'config.json', 'loader.json'],
    {
      cwd: directory,
      env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const exited = once(script, 'exit');
  try {
    const stateFile = join(directory, 'state.json');
    const stateHas = async (id: string): Promise<void> => {
      // The state file is the event: it is replaced whole each time the target echoes a state.
      for await (const _ of watch(directory)) {
        if (script.exitCode !== null) throw new Error('follow.sh ended early');
        if (existsSync(stateFile) && (await readFile(stateFile, 'utf8')).includes(`"${id}"`)) return;
      }
    };
    await stateHas(sim.feed.transactionId(149));
    sim.append(20);
    await stateHas(sim.feed.transactionId(169));
    // The script is PID 1 in its namespace; from here it has its host pid, the child of unshare.
    const pid = Number((await readFile(`/proc/${script.pid}/task/${script.pid}/children`, 'utf8')).trim().split(/\s+/)[0]);
    expect(Number((await readFile(`/proc/${pid}/status`, 'utf8')).match(/^NSpid:.*\s(\d+)$/m)?.[1])).toBe(1);
    process.kill(pid, 'SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(143);
  } finally {
    script.kill('SIGKILL');
    await sim.close();
  }
  const warehouse = await openDuckDb({ path: join(directory, 'invoca.duckdb'), schema: 'main' });
  try {
    expect(await warehouse.query('SELECT COUNT(*) AS n FROM transactions')).toEqual([{ n: '170' }]);
  } finally {
    await warehouse.close();
  }
}, 60_000);

test('a bin as PID 1 (a container without an init) ends on SIGTERM with 143 after its final STATE, as it does elsewhere by the signal', async () => {
  requireTools(['/usr/bin/unshare'], 'running a bin as PID 1');
  const sim = await simulator({ rows: 120 });
  const child = spawn(
    '/usr/bin/unshare',
    [
      '--pid',
      '--fork',
      '--kill-child',
      '--mount-proc',
      process.execPath,
      resolve('dist/src/bin/tap-invoca.js'),
      '--config',
      await jsonFile(tapConfig(sim)),
      '--follow',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = once(child, 'exit');
  let stdout = '';
  child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
  try {
    await new Promise<void>((resolvePoll, reject) => {
      createInterface({ input: child.stderr }).on('line', (line) => {
        if (/^INFO poll 1: 120 rows/.test(line)) resolvePoll();
      });
      void exited.then(() => reject(new Error('the tap ended before its first poll')));
    });
    const pid = Number((await readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8')).trim().split(/\s+/)[0]);
    expect(Number((await readFile(`/proc/${pid}/status`, 'utf8')).match(/^NSpid:.*\s(\d+)$/m)?.[1])).toBe(1);
    process.kill(pid, 'SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(143);
    const lines = stdout.trim().split('\n');
    expect(JSON.parse(lines.at(-1) ?? '{}')).toMatchObject({
      type: 'STATE',
      value: { bookmarks: { transactions: { replication_key_value: sim.feed.transactionId(119) } } },
    });
  } finally {
    child.kill('SIGKILL');
    await sim.close();
  }
}, 60_000);
