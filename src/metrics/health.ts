/**
 * `/healthz`: is the process making progress? Healthy while
 * - the last progress (a page or a poll of the tap, a commit of the loader) is at most `maxAgeMs`
 *   old (a process counts from its start until its first progress, so a slow start is not a
 *   failure), or
 * - work is under way (a commit running: the warehouse's own timeouts bound it), or
 * - nothing waits to be done (a loader with no rows pending on a quiet feed).
 * Else unhealthy, with the reason and the last error.
 */
export interface HealthReport {
  ok: boolean;
  /** One line: why it is unhealthy, or what it last did. */
  reason: string;
}

export class Health {
  readonly #maxAgeMs: number;
  readonly #what: string;
  readonly #now: () => number;
  readonly #redact: (text: string) => string;
  readonly #nothingWaiting: () => boolean;
  #lastProgressMs: number;
  #progressedOnce = false;
  #busySince: number | undefined;
  #lastError: string | undefined;

  /**
   * `what` names the progress in the reason ("page or poll", "commit"); `redact` hides the
   * config's secrets in an error's message; `nothingWaiting` says when idleness is health.
   */
  constructor(
    what: string,
    maxAgeMs: number,
    options: { redact: (text: string) => string; nothingWaiting?: () => boolean; now?: () => number },
  ) {
    this.#what = what;
    this.#maxAgeMs = maxAgeMs;
    this.#redact = options.redact;
    this.#nothingWaiting = options.nothingWaiting ?? (() => false);
    this.#now = options.now ?? Date.now;
    this.#lastProgressMs = this.#now();
  }

  progressed(): void {
    this.#lastProgressMs = this.#now();
    this.#progressedOnce = true;
    this.#lastError = undefined;
  }

  /** Work under way (true) or done (false): healthy while it runs. */
  busy(running: boolean): void {
    this.#busySince = running ? this.#now() : undefined;
  }

  /** A failure: remembered (its first line, redacted, then cut) for the reason. */
  failed(message: string): void {
    this.#lastError = this.#redact(message).split('\n')[0]?.slice(0, 300);
  }

  report(): HealthReport {
    const now = this.#now();
    const ageSeconds = Math.round((now - this.#lastProgressMs) / 1000);
    const since = this.#progressedOnce
      ? `the last ${this.#what} was ${ageSeconds} s ago`
      : `no ${this.#what} yet in the ${ageSeconds} s since the start`;
    if (this.#busySince !== undefined) return { ok: true, reason: `working for ${Math.round((now - this.#busySince) / 1000)} s; ${since}` };
    if (now - this.#lastProgressMs <= this.#maxAgeMs) return { ok: true, reason: since };
    if (this.#nothingWaiting()) return { ok: true, reason: `nothing waiting; ${since}` };
    const last = this.#lastError ? `; the last error: ${this.#lastError}` : '';
    return { ok: false, reason: `${since}, more than health_max_age_seconds (${Math.round(this.#maxAgeMs / 1000)})${last}` };
  }
}
