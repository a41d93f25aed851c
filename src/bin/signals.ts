import { constants } from 'node:os';
import { reportFatal } from '../cli/report.js';
import type { Redactor } from '../config/redact.js';

export interface BinMain {
  /** The bin's name, for the CRITICAL line of a crash. */
  bin: string;
  main: (signal: AbortSignal, useRedactor: (redact: Redactor) => void) => Promise<number>;
  /** A protocol line (ending in a newline) for stdout when the process crashes: source-invoca's Airbyte TRACE. */
  crashLine?: (message: string) => string;
}

/**
 * How every bin ends on SIGTERM / SIGINT (README: "Exit codes and signals"): the first signal
 * aborts `main`'s signal, `main` stops reading, flushes what is complete and emits the state for
 * it; then the process ends by that same signal (exit status -15 / -2), which is what
 * `meltano config test` expects. A second signal ends the process at once. An error that escapes
 * `main` (or a callback of a library) is reported like any fatal error, redacted, and the process
 * ends with 1, or by the signal it had received.
 */
export function runWithSignals({ bin, main, crashLine }: BinMain): void {
  const controller = new AbortController();
  // What the process prints outside main's own lines (warnings, a crash) is redacted too, once
  // main has read the config and knows its secrets.
  let redact: Redactor = (text) => text;
  const oneLine = (text: string): string => redact(text).replace(/\s+/g, ' ').trim();
  let received: NodeJS.Signals | undefined;
  const report = (error: unknown): void => {
    if (crashLine) process.stdout.write(crashLine(oneLine(error instanceof Error ? error.message : String(error))));
    process.exitCode = reportFatal(bin, error, redact, (line) => process.stderr.write(`${line}\n`));
  };
  const crash = (error: unknown): void => {
    report(error);
    if (received) endBySignal(received);
    else process.exit();
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  const endBySignal = (signal: NodeJS.Signals): void => {
    process.removeAllListeners('SIGTERM');
    process.removeAllListeners('SIGINT');
    // As PID 1 (a container without an init) the kernel drops a signal the process sends itself:
    // end with 128 + its number instead, as a shell reports a process ended by it.
    if (process.pid === 1) process.exit(128 + constants.signals[signal]);
    process.kill(process.pid, signal);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (received) {
      endBySignal(signal);
      return;
    }
    received = signal;
    controller.abort(new Error(`stopped by ${signal}`));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // Warnings of dependencies (the AWS SDK inside snowflake-sdk prints a paragraph) as one WARN
  // line, like every other line on stderr; removing the listeners stops Node's own printing.
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    process.stderr.write(`WARN ${warning.name}: ${oneLine(warning.message)}\n`);
  });
  main(controller.signal, (configRedactor) => {
    redact = configRedactor;
  }).then((code) => {
    if (received) endBySignal(received);
    else process.exitCode = code;
  }, crash);
}
