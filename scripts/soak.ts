/**
 * `npm run soak`: the reliability matrix of test/reliability for a set time, each round on a new
 * simulated feed with new seeds: every recoverable fault, every fatal fault, SIGKILL runs, and
 * the hostile feed. Stops at the first failure, printing the case and seed to replay it.
 *
 *   node dist/scripts/soak.js [--minutes 10] [--seed 1]
 */
import { rmSync } from 'node:fs';
import { startSimulator } from '../src/simulator/server.js';
import { TEST_ACCOUNT, TEST_TOKEN } from '../test/helpers/simulator.js';
import { tempDir } from '../test/helpers/tap.js';
import { fatal, FATAL, hostileFeed, killAndResume, recoverable, RECOVERABLE, type CaseFigures } from '../test/reliability/cases.js';
import { cleanRun, workspace } from '../test/reliability/harness.js';

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} takes a positive number`);
  return value;
}

const minutes = flag('minutes', 10);
let seed = flag('seed', 1);
const deadline = Date.now() + minutes * 60_000;
const totals = { rounds: 0, cases: 0, runs: 0, kills: 0, retriesLogged: 0, rowsCompared: 0, hostileRows: 0 };
const add = (figures: CaseFigures): void => {
  totals.cases++;
  totals.runs += figures.runs;
  totals.kills += figures.kills;
  totals.retriesLogged += figures.retriesLogged;
  totals.rowsCompared += figures.rowsCompared;
};
const say = (text: string): void => {
  process.stderr.write(`soak: ${text}\n`);
};

while (Date.now() < deadline) {
  totals.rounds++;
  const rows = 1_600 + (seed % 5) * 400;
  const sim = await startSimulator({ token: TEST_TOKEN, accountId: TEST_ACCOUNT, rows, seed });
  const hostileSim = await startSimulator({ token: TEST_TOKEN, accountId: TEST_ACCOUNT, rows, seed, hostile: true });
  const dir = await tempDir();
  try {
    const space = workspace(sim, dir);
    const clean = await cleanRun(space, `clean-${seed}.duckdb`);
    say(`round ${totals.rounds}: feed of ${rows} rows, seed ${seed}`);
    for (const item of RECOVERABLE) add(await recoverable(sim, space, clean, item, seed * 100 + totals.cases));
    for (const item of FATAL) add(await fatal(sim, space, clean, item, seed * 100 + totals.cases));
    for (let kill = 0; kill < 3; kill++) add(await killAndResume(space, clean, seed * 100 + kill));
    const hostile = await hostileFeed(workspace(hostileSim, dir), seed);
    add(hostile);
    totals.hostileRows += rows;
    say(`round ${totals.rounds} passed: ${JSON.stringify(totals)}`);
  } catch (error) {
    say(`FAILED in round ${totals.rounds} (seed ${seed}): ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
    break;
  } finally {
    await sim.close();
    await hostileSim.close();
    rmSync(dir, { recursive: true, force: true });
  }
  seed++;
}
process.stdout.write(`${JSON.stringify({ minutes, ...totals, passed: process.exitCode !== 1 }, null, 2)}\n`);
