/**
 * The quick start's main job, on the embedded default:
 *   invoca-simulator -> tap-invoca | target-invoca -> DuckDB (.demo/invoca.duckdb) -> a summary.
 * All real bins over loopback. The state is kept in .demo/, so a second run resumes: it serves
 * the same feed with 2,000 more rows (new calls and late corrections) and loads only those.
 * Usage: npm run demo [-- --rows N] [-- --fresh]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { openDuckDb } from '../src/load/duckdb-warehouse.js';

const DIR = '.demo';
const flag = (name: string): string | undefined => {
  const index = process.argv.indexOf(name);
  return index > 0 ? process.argv[index + 1] : undefined;
};

async function main(): Promise<void> {
  if (process.argv.includes('--fresh')) await rm(DIR, { recursive: true, force: true });
  await mkdir(DIR, { recursive: true });
  const statePath = join(DIR, 'state.json');
  const runsPath = join(DIR, 'runs.json');
  const runs = existsSync(runsPath)
    ? (JSON.parse(await readFile(runsPath, 'utf8')) as { rows: number; count: number })
    : { rows: Number(flag('--rows') ?? 100_000), count: 0 };
  const rows = runs.rows + runs.count * 2_000;
  const token = `demo-${Math.random().toString(36).slice(2)}`;

  const simulator = spawn(
    process.execPath,
    ['dist/src/bin/invoca-simulator.js', '--port', '0', '--rows', String(rows), '--seed', '1', '--token', token, '--account-id', '1234'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    const [line] = (await once(createInterface({ input: simulator.stdout }), 'line')) as [string];
    const url = line.replace('listening on ', '');
    const tapConfig = join(DIR, 'tap-config.json');
    const loaderConfig = join(DIR, 'loader-config.json');
    // A demo is run again at once: the polling floor (300 s, Invoca's) is off against the simulator.
    await writeFile(tapConfig, JSON.stringify({ api_token: token, account_id: '1234', base_url: url, min_poll_interval_seconds: 0 }));
    await writeFile(loaderConfig, JSON.stringify({ engine: 'duckdb', duckdb: { path: join(DIR, 'invoca.duckdb') } }));
    const resuming = existsSync(statePath);
    process.stderr.write(
      `demo run ${runs.count + 1}: simulator with ${rows} rows at ${url}${resuming ? `, resuming from ${statePath}` : ''}\n`,
    );

    const started = Date.now();
    const tap = spawn(
      process.execPath,
      ['dist/src/bin/tap-invoca.js', '--config', tapConfig, ...(resuming ? ['--state', statePath] : [])],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const target = spawn(process.execPath, ['dist/src/bin/target-invoca.js', '--config', loaderConfig], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    // Listen for the exits now: the tap usually ends while the target is still merging.
    const exits = Promise.all([once(tap, 'exit'), once(target, 'exit')]);
    tap.stdout.pipe(target.stdin);
    let lastState: string | undefined;
    for await (const stateLine of createInterface({ input: target.stdout })) lastState = stateLine;
    const [[tapCode], [targetCode]] = (await exits) as [[number | null], [number | null]];
    if (tapCode !== 0 || targetCode !== 0) throw new Error(`tap-invoca exited with ${tapCode}, target-invoca with ${targetCode}`);
    if (lastState) await writeFile(statePath, lastState);
    await writeFile(runsPath, JSON.stringify({ rows: runs.rows, count: runs.count + 1 }));
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(await summary(join(DIR, 'invoca.duckdb'), seconds, started));
  } finally {
    simulator.kill('SIGTERM');
  }
}

async function summary(path: string, seconds: number, startedMs: number): Promise<string> {
  const warehouse = await openDuckDb({ path, schema: 'main' });
  try {
    const [facts] = await warehouse.query(`
      SELECT
        (SELECT COUNT(*) FROM transactions) AS transactions,
        (SELECT COUNT(*) FROM transactions WHERE _invoca_loaded_at >= epoch_ms(${startedMs - 1000})::TIMESTAMP) AS loaded_now,
        (SELECT COUNT(*) FROM transactions WHERE corrects_transaction_id <> '') AS corrections,
        (SELECT COUNT(*) FROM transactions_current) AS lineages,
        (SELECT COUNT(*) FROM calls) AS calls,
        (SELECT COUNT(*) FROM calls WHERE call_leg_count = 2) AS two_leg_calls,
        (SELECT SUM(call_leg_count) FROM calls) AS legs,
        (SELECT SUM(advertiser_payin_localized) FROM transactions WHERE transaction_type = 'Call') AS payin_naive,
        (SELECT SUM(advertiser_payin_localized) FROM transactions WHERE transaction_type = 'Call' AND COALESCE(corrects_transaction_id, '') = '') AS payin_delivered,
        (SELECT SUM(advertiser_payin_localized) FROM calls) AS payin_corrected`);
    const f = facts ?? {};
    const money = (value: unknown): string =>
      Number(value ?? 0).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    return [
      '',
      `tap-invoca demo: simulator -> tap-invoca | target-invoca -> DuckDB (${path})`,
      `  rows loaded this run          ${f['loaded_now']} in ${seconds.toFixed(1)}s`,
      `  transactions in the table     ${f['transactions']}`,
      `  corrections applied           ${f['corrections']}`,
      `  lineages (current versions)   ${f['lineages']}`,
      `  calls                         ${f['calls']} (${f['two_leg_calls']} with two legs, ${f['legs']} legs)`,
      `  advertiser_payin_localized`,
      `    as first delivered          ${money(f['payin_delivered'])}`,
      `    corrections as extra rows   ${money(f['payin_naive'])}   (what a naive loader reports)`,
      `    after corrections (calls)   ${money(f['payin_corrected'])}`,
      `  next: run it again to load only new rows (2,000 more, with late corrections); query ${path} with any DuckDB client`,
      '',
    ].join('\n');
  } finally {
    await warehouse.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
