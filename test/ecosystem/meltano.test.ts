/**
 * A real `meltano` (PyPI, in .venv-meltano) runs tap-invoca and target-invoca from their plugin
 * definitions in meltano/plugins (added with --from-ref), and target-jsonl, against the simulator:
 * `meltano config test`, then `meltano run` twice, the second resuming from the state Meltano
 * stored. The bins are installed as the README says (`npm pack`, then `npm install -g` of the
 * tarball, into a clean prefix), and the state lives in a `file://` state backend.
 */
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { openDuckDb } from '../../src/load/duckdb-warehouse.js';
import type { RunningSimulator } from '../../src/simulator/server.js';
import { simulator, TEST_ACCOUNT, TEST_TOKEN } from '../helpers/simulator.js';
import { tempDir } from '../helpers/tap.js';
import { runProcess, requireTools } from '../helpers/tools.js';

const MELTANO = resolve('.venv-meltano/bin/meltano');
const JSONL = resolve('.venv-target-jsonl/bin/target-jsonl');
requireTools([MELTANO, JSONL], 'the Meltano tests');

describe('meltano', () => {
  let sim: RunningSimulator;
  let project: string;
  let env: NodeJS.ProcessEnv;
  let output: string;
  let stateDir: string;

  async function meltano(...args: string[]): Promise<string> {
    const result = await runProcess(MELTANO, args, { cwd: project, env });
    const text = result.stdout + result.stderr;
    if (result.code !== 0) throw new Error(`meltano ${args.join(' ')} exited ${result.code}:\n${text.slice(-3000)}`);
    return text;
  }

  beforeAll(async () => {
    sim = await simulator({ rows: 300 });
    const root = await tempDir();
    const bin = join(root, 'bin');
    output = join(root, 'out');
    stateDir = join(root, 'state');
    await mkdir(bin);
    await mkdir(output);
    // The install the README gives, as on a machine without this clone's dist/ on PATH: the
    // package packed (from the build npm test made) and installed globally into a clean prefix.
    const pack = await runProcess('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', root]);
    if (pack.code !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
    const prefix = join(root, 'prefix');
    const install = await runProcess('npm', [
      'install',
      '--global',
      '--prefix',
      prefix,
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      join(root, pack.stdout.trim()),
    ]);
    if (install.code !== 0) throw new Error(`npm install -g of the package failed: ${install.stderr.slice(-2000)}`);
    await symlink(JSONL, join(bin, 'target-jsonl'));
    env = {
      ...process.env,
      PATH: `${join(prefix, 'bin')}:${bin}:${process.env['PATH'] ?? ''}`,
      MELTANO_SEND_ANONYMOUS_USAGE_STATS: 'false',
      TAP_INVOCA_API_TOKEN: TEST_TOKEN,
      // State kept outside the project, as the README says for runs in throwaway containers (a
      // mounted volume here; a bucket, s3:// or gs://, in production).
      MELTANO_STATE_BACKEND_URI: `file://${stateDir}`,
    };
    project = root;
    await meltano('init', 'project', '--no-usage-stats');
    project = join(root, 'project');
    await meltano('add', 'extractor', 'tap-invoca', '--from-ref', resolve('meltano/plugins/extractors/tap-invoca.yml'));
    await meltano('add', 'loader', 'target-invoca', '--from-ref', resolve('meltano/plugins/loaders/target-invoca.yml'));
    const jsonlDefinition = join(root, 'target-jsonl.yml');
    await writeFile(
      jsonlDefinition,
      'name: target-jsonl\nnamespace: target_jsonl\nvariant: andyh1203\nexecutable: target-jsonl\nsettings:\n- name: destination_path\n',
    );
    await meltano('add', 'loader', 'target-jsonl', '--from-ref', jsonlDefinition);
    await meltano('config', 'set', 'tap-invoca', 'account_id', TEST_ACCOUNT);
    await meltano('config', 'set', 'tap-invoca', 'base_url', sim.url);
    await meltano('config', 'set', 'tap-invoca', 'page_size', '100');
    // The second run follows at once: the polling floor (300 s by default) is tested in polling.test.ts.
    await meltano('config', 'set', 'tap-invoca', 'min_poll_interval_seconds', '0');
    await meltano('config', 'set', 'target-jsonl', 'destination_path', output);
    await meltano('config', 'set', 'target-invoca', 'duckdb', JSON.stringify({ path: join(root, 'invoca.duckdb'), schema: 'main' }));
  }, 300_000);
  afterAll(async () => {
    await sim?.close();
  });

  test('the example project in meltano/ has the five-minute schedule and its job', async () => {
    const example = await tempDir();
    await writeFile(join(example, 'meltano.yml'), await readFile('meltano/meltano.yml', 'utf8'));
    const result = await runProcess(MELTANO, ['schedule', 'list', '--format', 'json'], { cwd: example, env });
    expect(result.code).toBe(0);
    const listed = JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))) as {
      schedules: { job: { name: string; interval: string; job: { name: string; tasks: string[] } }[] };
    };
    expect(listed.schedules.job).toEqual([
      expect.objectContaining({
        name: 'invoca-every-5-minutes',
        interval: '*/5 * * * *',
        job: expect.objectContaining({ name: 'invoca-to-warehouse', tasks: ['tap-invoca target-invoca'] }),
      }),
    ]);
  }, 120_000);

  test('meltano config test tap-invoca', async () => {
    expect(await meltano('config', 'test', 'tap-invoca')).toContain('Plugin configuration is valid');
  }, 60_000);

  test('meltano invoke target-invoca check: the preflight runs with the config Meltano writes', async () => {
    const text = await meltano('invoke', 'target-invoca', 'check');
    expect(text).toMatch(/^PASS {2}merge /m);
    expect(text).toContain('check passed: every step passed');
  }, 120_000);

  test('meltano run, twice: the second run resumes from the state Meltano stored', async () => {
    await meltano('run', 'tap-invoca', 'target-jsonl');
    await meltano('run', 'tap-invoca', 'target-invoca');
    const lines = async (): Promise<number> => {
      let count = 0;
      for (const file of await readdir(output))
        count += (await readFile(join(output, file), 'utf8')).trim().split('\n').filter(Boolean).length;
      return count;
    };
    expect(await lines()).toBe(300);
    const stateLine = (await meltano('state', 'get', 'dev:tap-invoca-to-target-invoca')).split('\n').find((line) => line.startsWith('{'));
    const state = JSON.parse(stateLine ?? '{}') as {
      singer_state: { bookmarks: { transactions: { replication_key_value: string } } };
    };
    expect(state.singer_state.bookmarks.transactions.replication_key_value).toBe(sim.feed.transactionId(299));
    // The state backend is the folder configured, not the project's database.
    const stored = (await readdir(stateDir, { recursive: true })).map(String);
    expect(stored.some((path) => path.includes('tap-invoca-to-target-invoca'))).toBe(true);

    sim.append(40);
    const before = sim.stats().transactionRequests;
    await meltano('run', 'tap-invoca', 'target-jsonl');
    await meltano('run', 'tap-invoca', 'target-invoca');
    expect(await lines()).toBe(340);
    // Resumed runs start after the stored cursor: one request each, never from the beginning.
    const resumedUrls = sim.stats().recentUrls.slice(-(sim.stats().transactionRequests - before));
    expect(resumedUrls.filter((url) => url.includes('limit=100&')).every((url) => url.includes('start_after_transaction_id='))).toBe(true);
    const warehouse = await openDuckDb({ path: join(project, '..', 'invoca.duckdb'), schema: 'main' });
    try {
      expect((await warehouse.query('SELECT COUNT(*) AS n FROM transactions'))[0]?.['n']).toBe('340');
    } finally {
      await warehouse.close();
    }
  }, 180_000);
});
