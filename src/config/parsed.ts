/**
 * What parsing a config hands a bin, and the one wrapper both parsers (tap and loader) run their
 * checks in: every problem becomes a ConfigError that names the file, redacted already, since it
 * is built before any logger exists.
 */
import { ConfigError } from '../errors.js';
import { createRedactor, type Redactor } from './redact.js';

export interface ParsedConfig<C> {
  config: C;
  warnings: string[];
  redact: Redactor;
}

export function parseConfig<C>(
  secrets: string[],
  source: string,
  check: (redact: Redactor) => { config: C; warnings: string[] },
): ParsedConfig<C> {
  const redact = createRedactor(secrets);
  try {
    return { ...check(redact), redact };
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`${redact(error.message)}; fix it in ${source}`);
    if (error instanceof Error) error.message = redact(error.message);
    throw error;
  }
}
