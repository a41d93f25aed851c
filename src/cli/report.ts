import type { Redactor } from '../config/redact.js';
import { isTapInvocaError } from '../errors.js';

/**
 * The one stderr line and the exit code for an error that ends a bin: 2 for usage, config and
 * state mistakes, 1 for everything else. The line is redacted and kept to one line.
 */
export function reportFatal(bin: string, error: unknown, redact: Redactor, writeLine: (line: string) => void): 1 | 2 {
  const known = isTapInvocaError(error);
  const message = error instanceof Error ? error.message : String(error);
  const code = known ? ` [${error.code}]` : '';
  const text = known ? message : `unexpected error: ${message}`;
  writeLine(`CRITICAL ${bin}: ${redact(text).replace(/\s*\r?\n\s*/g, ' ')}${code}`);
  return known ? error.exitCode : 1;
}
