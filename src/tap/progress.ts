import type { Logger } from '../log.js';
import { STREAM } from '../stream/contract.js';

/** Progress on stderr: rows, pages and rows/s every few seconds, and a summary with METRIC lines. */
export class Progress {
  readonly #logger: Logger;
  readonly #everyMs: number;
  readonly #startedMs = Date.now();
  #lastReportMs = Date.now();
  #rows = 0;
  #pages = 0;
  #bytes = 0;

  constructor(logger: Logger, everyMs = 5000) {
    this.#logger = logger;
    this.#everyMs = everyMs;
  }

  page(rows: number, bytes: number): void {
    this.#rows += rows;
    this.#pages++;
    this.#bytes += bytes;
    const now = Date.now();
    if (now - this.#lastReportMs >= this.#everyMs) {
      this.#lastReportMs = now;
      this.#logger.info(`progress: ${this.#summary(now)}`);
    }
  }

  done(requests: number): void {
    const now = Date.now();
    this.#logger.info(`done: ${this.#summary(now)}, ${requests} requests`);
    const tags = { stream: STREAM };
    this.#logger.metric({ type: 'counter', metric: 'record_count', value: this.#rows, tags });
    this.#logger.metric({ type: 'counter', metric: 'http_request_count', value: requests, tags });
    this.#logger.metric({ type: 'timer', metric: 'sync_duration', value: (now - this.#startedMs) / 1000, tags });
  }

  #summary(now: number): string {
    const seconds = Math.max(0.001, (now - this.#startedMs) / 1000);
    const megabytes = this.#bytes / 1e6;
    return (
      `${this.#rows} rows, ${this.#pages} pages, ${Math.round(this.#rows / seconds)} rows/s, ` +
      `${megabytes.toFixed(1)} MB in ${seconds.toFixed(1)}s`
    );
  }
}
