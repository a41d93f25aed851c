import type { Redactor } from './config/redact.js';

/**
 * Logs go to stderr as `LEVEL message` lines (the Singer convention); stdout is reserved for
 * protocol messages. Every line passes through the redactor first.
 */
export type LogLevel = 'INFO' | 'WARN' | 'ERROR';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** A Singer `METRIC: {...}` line (https://hub.meltano.com/singer/spec#metric-messages). */
  metric(metric: Record<string, unknown>): void;
}

export type LineSink = (line: string) => void;

export const stderrSink: LineSink = (line) => {
  process.stderr.write(`${line}\n`);
};

export function createLogger(options: { sink?: LineSink; redact?: Redactor }): Logger {
  const sink = options.sink ?? stderrSink;
  const redact = options.redact ?? ((text: string) => text);
  const write = (level: LogLevel, message: string): void => {
    // A message must stay one line: a multi-line line would break log parsers.
    sink(`${level} ${redact(message).replace(/\r?\n/g, ' ')}`);
  };
  return {
    info: (message) => write('INFO', message),
    warn: (message) => write('WARN', message),
    error: (message) => write('ERROR', message),
    metric: (metric) => sink(redact(`METRIC: ${JSON.stringify(metric)}`)),
  };
}
