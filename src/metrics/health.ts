/**
 * `/healthz`: healthy while the last success (a tap's poll, a target's commit) is at most
 * `maxAgeMs` old. A process that has not succeeded yet counts from its start, so a slow first
 * poll is not reported as a failure.
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
  #lastSuccessMs: number;
  #succeededOnce = false;
  #lastError: string | undefined;

  readonly #redact: (text: string) => string;

  /** `what` names the success in the reason: "poll" or "commit"; `redact` hides the config's secrets in an error's message. */
  constructor(what: string, maxAgeMs: number, redact: (text: string) => string, now: () => number = Date.now) {
    this.#what = what;
    this.#redact = redact;
    this.#maxAgeMs = maxAgeMs;
    this.#now = now;
    this.#lastSuccessMs = now();
  }

  succeeded(): void {
    this.#lastSuccessMs = this.#now();
    this.#succeededOnce = true;
    this.#lastError = undefined;
  }

  /** A failure: remembered (its first line, redacted, then cut) for the reason. */
  failed(message: string): void {
    this.#lastError = this.#redact(message).split('\n')[0]?.slice(0, 300);
  }

  report(): HealthReport {
    const ageSeconds = Math.round((this.#now() - this.#lastSuccessMs) / 1000);
    const since = this.#succeededOnce
      ? `the last successful ${this.#what} was ${ageSeconds} s ago`
      : `no successful ${this.#what} in the ${ageSeconds} s since the start`;
    if (this.#now() - this.#lastSuccessMs <= this.#maxAgeMs) return { ok: true, reason: since };
    const last = this.#lastError ? `; the last error: ${this.#lastError}` : '';
    return { ok: false, reason: `${since}, more than health_max_age_seconds (${Math.round(this.#maxAgeMs / 1000)})${last}` };
  }
}
