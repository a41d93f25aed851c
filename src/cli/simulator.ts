import { startSimulator, type RunningSimulator } from '../simulator/server.js';
import { cliParser } from './parser.js';
import { check, simulatorOptions, type SimulatorArgv } from './simulator-args.js';

/**
 * Starts the simulator and prints `listening on <url>` on stdout once it accepts requests;
 * with --help prints the help instead and returns undefined.
 */
export async function run(args: string[]): Promise<RunningSimulator | undefined> {
  const parser = cliParser(
    args,
    'invoca-simulator',
    '$0 --token T --account-id A [options]\n\nA local Invoca Transactions API for tests, demos and benchmarks.',
    simulatorOptions,
  );
  const argv: SimulatorArgv = await parser.parseAsync();
  if (argv.help) {
    process.stdout.write(`${await parser.getHelp()}\n`);
    return undefined;
  }
  const checked = check(argv);
  const simulator = await startSimulator({
    port: argv.port,
    host: argv.host,
    rows: argv.rows,
    seed: argv.seed,
    token: checked.token,
    accountId: checked.accountId,
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
