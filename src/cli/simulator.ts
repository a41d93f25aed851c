import yargs from 'yargs';
import { startSimulator, type RunningSimulator } from '../simulator/server.js';
import { check, simulatorOptions, type SimulatorArgv } from './simulator-args.js';

/** Starts the simulator and prints `listening on <url>` on stdout once it accepts requests. */
export async function run(args: string[]): Promise<RunningSimulator> {
  const argv: SimulatorArgv = await yargs(args)
    .scriptName('invoca-simulator')
    .usage('$0 --token T --account-id A [options]\n\nA local Invoca Transactions API for tests, demos and benchmarks.')
    .options(simulatorOptions)
    .strict()
    .version(false)
    .help()
    .parseAsync();
  const checked = check(argv);
  const simulator = await startSimulator({
    port: argv.port,
    host: argv.host,
    rows: argv.rows,
    seed: argv.seed,
    token: argv.token,
    accountId: argv['account-id'],
    accountType: argv['account-type'],
    rowsPerDay: argv['rows-per-day'],
    startMs: checked.startMs,
    utcOffsetMinutes: checked.utcOffsetMinutes,
    emptyDays: checked.emptyDays,
    lateColumnAt: argv['late-column-at'],
    correctionTarget: argv['correction-target'],
    latencyMs: argv['latency-ms'],
    hostile: argv.hostile,
    faults: checked.faults,
  });
  process.stdout.write(`listening on ${simulator.url}\n`);
  return simulator;
}
