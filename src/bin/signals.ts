import { constants } from 'node:os';
import type { Redactor } from '../config/redact.js';

/**
 * How every bin ends on SIGTERM / SIGINT (README: "Exit codes and signals"): the first signal
 * aborts `main`'s signal, `main` stops reading, flushes what is complete and emits the state for
 * it; then the process ends by that same signal (exit status -15 / -2), which is what
 * `meltano config test` expects. A second signal ends the process at once.
 */
export function runWithSignals(main: (signal: AbortSignal, useRedactor: (redact: Redactor) => void) => Promise<number>): void {
  const controller = new AbortController();
  // What the process prints outside main's own lines (warnings, a crash) is redacted too, once
  // main has read the config and knows its secrets.
  let redact: Redactor = (text) => text;
  const oneLine = (text: string): string => redact(text).replace(/\s+/g, ' ').trim();
  const crash = (error: unknown): void => {
    process.stderr.write(`CRITICAL unexpected error: ${oneLine(error instanceof Error ? error.message : String(error))}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  let received: NodeJS.Signals | undefined;
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
  }).then(
    (code) => {
      if (received) endBySignal(received);
      else process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`CRITICAL unexpected error: ${oneLine(error instanceof Error ? error.message : String(error))}\n`);
      process.exitCode = 1;
    },
  );
}
