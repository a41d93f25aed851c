/**
 * The image itself, built by `npm run image` (scripts/image.sh) and run with podman: the Airbyte
 * entrypoint, the Singer bins piped into DuckDB at the image's default path, and how a container
 * ends on SIGTERM, without an init (a bin is PID 1) and with docker/follow.sh. The simulator runs
 * on the host; the containers share the host's network to reach it. `npm run test:image` builds
 * the image, then runs this suite; it is not part of `npm test`, which needs no container engine.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chmod, readFile, watch, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { rootCertificates } from 'node:tls';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { openDuckDb } from '../../src/load/duckdb-warehouse.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { simulator } from '../helpers/simulator.js';
import { tapConfig, tempDir } from '../helpers/tap.js';
import { freePort } from '../helpers/ports.js';
import { runProcess } from '../helpers/tools.js';

const IMAGE = process.env['IMAGE'] ?? 'tap-invoca:local';
const env = { ...process.env, CONTAINERS_CONF: resolve('.tools/podman/containers.conf') };

let sim: RunningSimulator;
/** A host folder mounted at /config, holding the tap's config.json. */
let configDir: string;

beforeAll(async () => {
  const image = await runProcess('podman', ['image', 'exists', IMAGE], { env });
  if (image.code !== 0) throw new Error(`no image ${IMAGE}: run npm run image (npm run test:image does)`);
  sim = await simulator({ rows: 300 });
  configDir = await tempDir();
  await writeFile(join(configDir, 'config.json'), JSON.stringify(tapConfig(sim, { min_poll_interval_seconds: 1 })));
  await chmod(configDir, 0o755);
});
afterAll(async () => {
  await sim?.close();
});

/** `podman run --rm` of the image on the host's network, /config mounted read-only. */
function podmanRun(args: readonly string[]): Promise<Awaited<ReturnType<typeof runProcess>>> {
  return runProcess('podman', ['run', '--rm', '--network', 'host', '-v', `${configDir}:/config:ro`, ...args], { env });
}

function messages(stdout: string): Record<string, unknown>[] {
  return stdout
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

test('spec: the Airbyte entrypoint answers without a config', async () => {
  const result = await runProcess('podman', ['run', '--rm', IMAGE, 'spec'], { env });
  expect(result.code).toBe(0);
  expect(messages(result.stdout)).toEqual([
    expect.objectContaining({
      type: 'SPEC',
      spec: expect.objectContaining({ connectionSpecification: expect.objectContaining({ required: ['api_token', 'account_id'] }) }),
    }),
  ]);
});

test("every warehouse driver loads in the image, the cloud storage paths of snowflake-sdk's PUT included (the build removes files Node never loads)", async () => {
  const modules = [
    // First, as the loader does: snowflake-sdk then makes no cloud metadata probe on import.
    '/app/dist/src/load/snowflake-no-probe.js',
    '@duckdb/node-api',
    '@google-cloud/bigquery',
    'snowflake-sdk',
    'snowflake-sdk/dist/lib/file_transfer_agent/s3_util.js',
    'snowflake-sdk/dist/lib/file_transfer_agent/azure_util.js',
    'snowflake-sdk/dist/lib/file_transfer_agent/gcs_util.js',
    'snowflake-sdk/dist/lib/authentication/auth_workload_identity/attestation_azure.js',
    'snowflake-sdk/dist/lib/authentication/auth_workload_identity/attestation_aws.js',
    '@azure/identity',
  ];
  // A package by its name; a file of snowflake-sdk by its path (the package exports no subpaths).
  const script = `for (const name of ${JSON.stringify(modules)}) await import(name.startsWith('/') ? name : name.endsWith('.js') ? '/app/node_modules/' + name : name); console.log('loaded')`;
  const result = await runProcess(
    'podman',
    ['run', '--rm', '-w', '/app', '--entrypoint', 'node', IMAGE, '--input-type=module', '-e', script],
    { env },
  );
  expect([result.code, result.stderr.split('\n').filter((line) => /Error/.test(line)), result.stdout.trim()]).toEqual([0, [], 'loaded']);
});

test('check, discover and read against the simulator', async () => {
  const check = await podmanRun([IMAGE, 'check', '--config', '/config/config.json']);
  expect([check.code, messages(check.stdout)]).toEqual([0, [{ type: 'CONNECTION_STATUS', connectionStatus: { status: 'SUCCEEDED' } }]]);

  const discover = await podmanRun([IMAGE, 'discover', '--config', '/config/config.json']);
  expect(discover.code).toBe(0);
  const [catalogMessage] = messages(discover.stdout);
  const catalog = (catalogMessage as { catalog: { streams: { name: string }[] } }).catalog;
  expect(catalog.streams.map((stream) => stream.name)).toEqual(['transactions']);
  const configured = {
    streams: catalog.streams.map((stream) => ({
      stream,
      sync_mode: 'incremental',
      destination_sync_mode: 'append',
      cursor_field: ['transaction_id'],
    })),
  };
  await writeFile(join(configDir, 'configured.json'), JSON.stringify(configured));

  const read = await podmanRun([IMAGE, 'read', '--config', '/config/config.json', '--catalog', '/config/configured.json']);
  expect(read.code).toBe(0);
  const records = messages(read.stdout).filter((message) => message['type'] === 'RECORD');
  expect(records).toHaveLength(300);
  expect(messages(read.stdout).filter((message) => message['type'] === 'STATE').length).toBeGreaterThan(0);
  expect(messages(read.stdout).at(-1)).toMatchObject({
    type: 'TRACE',
    trace: { type: 'STREAM_STATUS', stream_status: { status: 'COMPLETE' } },
  });
});

test('tap-invoca | target-invoca in the image: DuckDB at its default path, in the working directory the node user owns', async () => {
  // No duckdb.path: the default, invoca.duckdb in the working directory.
  await writeFile(join(configDir, 'loader.json'), JSON.stringify({ engine: 'duckdb' }));
  const pipeline =
    'tap-invoca --config /config/config.json | target-invoca --config /config/loader.json > states.jsonl && test -s invoca.duckdb && tail -n 1 states.jsonl';
  const result = await podmanRun(['--entrypoint', 'sh', IMAGE, '-c', pipeline]);
  expect([result.code, result.stderr.split('\n').filter((line) => /^(CRITICAL|ERROR)/.test(line))]).toEqual([0, []]);
  expect(result.stderr).toMatch(/INFO done: 300 records, 300 new transactions/);
  expect(JSON.parse(result.stdout)).toMatchObject({ bookmarks: { transactions: { replication_key_value: sim.feed.transactionId(299) } } });
}, 120_000);

test('target-invoca check in the image, as the README runs it (--entrypoint target-invoca ... check)', async () => {
  await writeFile(join(configDir, 'check.json'), JSON.stringify({ engine: 'duckdb' }));
  const result = await podmanRun(['--entrypoint', 'target-invoca', IMAGE, 'check', '--config', '/config/check.json', '--format', 'json']);
  expect([result.code, result.stderr.split('\n').filter((line) => /^(CRITICAL|ERROR)/.test(line))]).toEqual([0, []]);
  const report = JSON.parse(result.stdout) as { passed: boolean; steps: { name: string; status: string }[] };
  expect(report.steps.map((step) => `${step.name}: ${step.status}`)).toEqual([
    'connect: passed',
    'grants: passed',
    'merge: passed',
    'cost: passed',
    'clean up: passed',
  ]);
}, 120_000);

test('SIGTERM to a sync running in a container (the bin is PID 1, no init) ends it with 143 after a final STATE', async () => {
  const slow = await simulator({ rows: 6000, latencyMs: 300 });
  const name = `tap-invoca-test-${process.pid}-term`;
  try {
    await writeFile(join(configDir, 'slow.json'), JSON.stringify(tapConfig(slow, { page_size: 500 })));
    const child = spawn(
      'podman',
      [
        'run',
        '--rm',
        '--name',
        name,
        '--network',
        'host',
        '-v',
        `${configDir}:/config:ro`,
        '--entrypoint',
        'tap-invoca',
        IMAGE,
        '--config',
        '/config/slow.json',
      ],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = once(child, 'exit');
    let stdout = '';
    let states = 0;
    // The event: two pages and their STATEs are out, and ten more pages are still to come.
    await new Promise<void>((resolveStates, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        stdout += `${line}\n`;
        if (line.startsWith('{"type":"STATE"') && ++states === 2) resolveStates();
      });
      void exited.then(() => reject(new Error('the sync ended before its second page')));
    });
    const kill = await runProcess('podman', ['kill', '--signal', 'TERM', name], { env });
    expect(kill.code).toBe(0);
    const [code] = (await exited) as [number | null];
    expect(code).toBe(143);
    const last = messages(stdout).at(-1);
    expect(last).toMatchObject({ type: 'STATE', value: { bookmarks: { transactions: { replication_key_value: expect.any(String) } } } });
    expect(messages(stdout).filter((message) => message['type'] === 'RECORD').length).toBeLessThan(6000);
  } finally {
    await runProcess('podman', ['rm', '--force', name], { env });
    await slow.close();
  }
}, 120_000);

test('docker/follow.sh as the container: polls, lands new rows, keeps the state file, and ends cleanly on podman stop', async () => {
  const dataDir = await tempDir();
  // Both serve /healthz (on free ports: the container shares the host's network), and the image's HEALTHCHECK asks them.
  const [tapPort, loaderPort] = [await freePort(), await freePort()];
  await writeFile(join(dataDir, 'config.json'), JSON.stringify(tapConfig(sim, { min_poll_interval_seconds: 1, metrics_port: tapPort })));
  await writeFile(
    join(dataDir, 'loader.json'),
    JSON.stringify({ duckdb: { path: 'invoca.duckdb' }, batch_max_seconds: 0.3, metrics_port: loaderPort }),
  );
  const name = `tap-invoca-test-${process.pid}-follow`;
  const uid = `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;
  // As the README says to run it: the host folder mounted at /work, as the folder's own user.
  const run = await runProcess(
    'podman',
    [
      'run',
      '-d',
      '--name',
      name,
      '--network',
      'host',
      '--user',
      uid,
      '-v',
      `${dataDir}:/work`,
      '-w',
      '/work',
      '-e',
      `INVOCA_HEALTH_PORTS=${tapPort} ${loaderPort}`,
      '--entrypoint',
      '/app/docker/follow.sh',
      IMAGE,
      'config.json',
      'loader.json',
      'state.json',
    ],
    { env },
  );
  // Without systemd (these machines) podman cannot schedule the HEALTHCHECK's timer and says so;
  // the check itself runs below on demand.
  const noSystemd = /unable to get systemd connection/;
  expect([run.code, run.stderr.split('\n').filter((line) => line !== '' && !noSystemd.test(line))]).toEqual([0, []]);
  const stateFile = join(dataDir, 'state.json');
  try {
    const stateHas = async (id: string): Promise<void> => {
      // The state file is the event: follow.sh replaces it whole each time the target echoes one.
      for await (const _ of watch(dataDir)) {
        if (existsSync(stateFile) && (await readFile(stateFile, 'utf8')).includes(`"${id}"`)) return;
      }
    };
    await stateHas(sim.feed.transactionId(299));
    // The image's HEALTHCHECK, run now: both processes answer 200.
    const check = await runProcess('podman', ['healthcheck', 'run', name], { env });
    expect([check.code, check.stdout.trim()]).toEqual([0, expect.stringMatching(/^(healthy)?$/)]);
    const checkLog = await runProcess('podman', ['inspect', name, '--format', '{{json .State.Health}}'], { env });
    expect(checkLog.stdout).toContain(`port ${tapPort}: {\\"status\\":\\"ok\\"`);
    sim.append(25);
    await stateHas(sim.feed.transactionId(324));
    const stop = await runProcess('podman', ['stop', '--time', '30', name], { env });
    expect(stop.code).toBe(0);
    const inspect = await runProcess('podman', ['inspect', name, '--format', '{{.State.ExitCode}}'], { env });
    expect(inspect.stdout.trim()).toBe('143');
  } finally {
    const logs = await runProcess('podman', ['logs', name], { env });
    await runProcess('podman', ['rm', '--force', name], { env });
    if (!existsSync(stateFile)) console.error(logs.stderr);
  }
  const warehouse = await openDuckDb({ path: join(dataDir, 'invoca.duckdb'), schema: 'main' });
  try {
    expect(await warehouse.query('SELECT COUNT(*) AS n FROM transactions')).toEqual([{ n: '325' }]);
  } finally {
    await warehouse.close();
  }
}, 120_000);

test('the image runs the Node.js the tests run on (a supported LTS), and holds no CA or setting of the machine that built it', async () => {
  const version = await runProcess('podman', ['run', '--rm', '--entrypoint', 'node', IMAGE, '--version'], { env });
  expect(version.stdout.trim()).toBe(process.version);
  expect(process.version).toMatch(/^v24\./);
  const inspect = await runProcess('podman', ['image', 'inspect', IMAGE, '--format', '{{json .Config.Env}}'], { env });
  const imageEnv = JSON.parse(inspect.stdout) as string[];
  expect(imageEnv.filter((entry) => /CA_CERT|SSL_CERT|PROXY|NPM_CONFIG_(CAFILE|REGISTRY)/i.test(entry))).toEqual([]);
  // The certificates this machine trusts beyond Node's own roots (a proxy's CA): no file of the
  // image may hold any of them. The image's whole file system is searched, as exported.
  const own = new Set(rootCertificates.map((pem) => pem.replace(/\s+/g, '')));
  const extraFile = process.env['NODE_EXTRA_CA_CERTS'];
  const extra =
    extraFile && existsSync(extraFile)
      ? ((await readFile(extraFile, 'utf8')).match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [])
      : [];
  const needles = extra
    .filter((pem) => !own.has(pem.replace(/\s+/g, '')))
    .map((pem) => Buffer.from(pem.split('\n')[2] ?? '', 'latin1'))
    .filter((line) => line.length >= 60);
  const names = ['host-ca.crt', 'npm-ca.pem'].map((name) => Buffer.from(name));
  const found = await searchExport(IMAGE, [...needles, ...names]);
  expect(found.map((needle) => needle.toString('latin1'))).toEqual([]);
}, 300_000);

/** The needles found anywhere in the image's file system (`podman export` of a container of it). */
async function searchExport(image: string, needles: readonly Buffer[]): Promise<Buffer[]> {
  const created = await runProcess('podman', ['create', image], { env });
  const id = created.stdout.trim();
  try {
    const exporter = spawn('podman', ['export', id], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const longest = Math.max(1, ...needles.map((needle) => needle.length));
    const found = new Set<Buffer>();
    let tail = Buffer.alloc(0);
    for await (const chunk of exporter.stdout) {
      const window = Buffer.concat([tail, chunk as Buffer]);
      for (const needle of needles) if (!found.has(needle) && window.includes(needle)) found.add(needle);
      tail = window.subarray(Math.max(0, window.length - longest));
    }
    return [...found];
  } finally {
    await runProcess('podman', ['rm', '-f', id], { env });
  }
}
