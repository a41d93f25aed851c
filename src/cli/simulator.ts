import type { Writable } from 'node:stream';
import type { LineSink } from '../log.js';
import { startSimulator, type RunningSimulator } from '../simulator/server.js';
import { cliParser, helpOrVersion } from './parser.js';
import { reportFatal } from './report.js';
import { check, simulatorOptions, type SimulatorArgv } from './simulator-args.js';

const BIN = 'invoca-simulator';

export interface SimulatorIo {
  stdout: Writable;
  stderr: LineSink;
}

/**
 * Starts the simulator and prints `listening on <url>` on stdout once it accepts requests; the
 * caller closes it. With --help or --version prints that instead (no simulator); a bad flag is
 * one CRITICAL line and exit code 2.
 */
export async function run(args: string[], io: SimulatorIo): Promise<{ code: number; simulator?: RunningSimulator }> {
  try {
    const parser = cliParser(
      args,
      BIN,
      '$0 --token T --account-id A [options]\n\nA local Invoca Transactions API for tests, demos and benchmarks.',
      simulatorOptions,
    );
    const argv: SimulatorArgv = await parser.parseAsync();
    if (argv.help || argv.version) {
      io.stdout.write(await helpOrVersion(argv.help ? 'help' : 'version', parser, BIN));
      return { code: 0 };
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
      narrow: argv.narrow,
      personal: argv.personal,
      faults: checked.faults,
    });
    io.stdout.write(`listening on ${simulator.url}\n`);
    return { code: 0, simulator };
  } catch (error) {
    // The simulator has no secret of a user's: its token is a test value given on the command line.
    return { code: reportFatal(BIN, error, (text) => text, io.stderr) };
  }
}
