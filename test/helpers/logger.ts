import type { Redactor } from '../../src/config/redact.js';
import { createLogger, type Logger } from '../../src/log.js';

/** A logger that keeps its lines in memory: for tests that assert on what was logged. */
export function createMemoryLogger(redact?: Redactor): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ sink: (line) => lines.push(line), ...(redact ? { redact } : {}) });
  return Object.assign(logger, { lines });
}
