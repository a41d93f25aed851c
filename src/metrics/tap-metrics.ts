/**
 * The tap's metrics (prom-client, in a registry of its own): what `/metrics` serves for
 * `tap-invoca --follow`. The client reports each request and retry, the session each poll and
 * its records; names follow Prometheus' conventions (`_total` counters, `_seconds`, `_timestamp_seconds`).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RequestObserver } from '../invoca/client.js';
import type { PollObserver } from '../tap/session.js';
import { Health } from './health.js';

export class TapMetrics implements RequestObserver, PollObserver {
  readonly registry = new Registry();
  readonly health: Health;
  readonly #polls = new Counter({
    name: 'tap_invoca_polls_total',
    help: 'Polls of the Transactions API, by result (ok, failed).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly #rows = new Counter({
    name: 'tap_invoca_rows_total',
    help: 'Records emitted, by transaction_type.',
    labelNames: ['transaction_type'] as const,
    registers: [this.registry],
  });
  readonly #corrections = new Counter({
    name: 'tap_invoca_corrections_total',
    help: 'Records that correct another transaction.',
    registers: [this.registry],
  });
  readonly #retries = new Counter({
    name: 'tap_invoca_retries_total',
    help: 'Requests retried, by reason (HTTP status or error code).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly #rateLimitWaits = new Counter({
    name: 'tap_invoca_rate_limit_waits_total',
    help: 'Waits after Invoca answered 429.',
    registers: [this.registry],
  });
  readonly #rateLimitSeconds = new Counter({
    name: 'tap_invoca_rate_limit_wait_seconds_total',
    help: 'Seconds waited after 429 answers.',
    registers: [this.registry],
  });
  readonly #requests = new Histogram({
    name: 'tap_invoca_request_duration_seconds',
    help: 'Duration of one API request, by outcome (HTTP status or error code).',
    labelNames: ['outcome'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  readonly #newestCall = new Gauge({
    name: 'tap_invoca_newest_call_start_timestamp_seconds',
    help: 'Start time of the newest call seen, in seconds since the epoch.',
    registers: [this.registry],
  });
  #newestSeconds: number | undefined;
  readonly #lastPoll = new Gauge({
    name: 'tap_invoca_last_successful_poll_timestamp_seconds',
    help: 'When the last poll succeeded, in seconds since the epoch.',
    registers: [this.registry],
  });

  constructor(healthMaxAgeSeconds: number, redact: (text: string) => string, now: () => number = Date.now) {
    this.health = new Health('successful page or poll', healthMaxAgeSeconds * 1000, { redact, now });
    collectDefaultMetrics({ register: this.registry });
  }

  request(seconds: number, outcome: string): void {
    this.#requests.observe({ outcome }, seconds);
  }

  retry(reason: string, delaySeconds: number): void {
    this.#retries.inc({ reason });
    if (reason === '429') {
      this.#rateLimitWaits.inc();
      this.#rateLimitSeconds.inc(delaySeconds);
    }
  }

  /** A page's records: progress, even inside a long first poll (a backfill); counted per page, not per record. */
  records(records: readonly Record<string, unknown>[]): void {
    this.health.progressed();
    const byType = new Map<string, number>();
    let corrections = 0;
    for (const record of records) {
      const type = labelOfType(record['transaction_type']);
      byType.set(type, (byType.get(type) ?? 0) + 1);
      const corrects = record['corrects_transaction_id'];
      if (typeof corrects === 'string' && corrects !== '') corrections++;
    }
    for (const [type, count] of byType) this.#rows.inc({ transaction_type: type }, count);
    if (corrections > 0) this.#corrections.inc(corrections);
  }

  /** `newestCallMs`: the start of the newest call the poll delivered (the session finds it for its own log line). */
  pollSucceeded(atMs: number, newestCallMs: number | undefined): void {
    this.#polls.inc({ result: 'ok' });
    this.#lastPoll.set(atMs / 1000);
    if (newestCallMs !== undefined && newestCallMs / 1000 > (this.#newestSeconds ?? 0)) {
      this.#newestSeconds = newestCallMs / 1000;
      this.#newestCall.set(this.#newestSeconds);
    }
    this.health.progressed();
  }

  pollFailed(message: string): void {
    this.#polls.inc({ result: 'failed' });
    this.health.failed(message);
  }
}

/** Invoca's transaction types as a label; anything else is `other`, so a feed cannot grow the label set. */
const KNOWN_TYPES = new Set(['Call', 'Post Call Event', 'Signal', 'Sale', 'Reported Conversion']);
function labelOfType(value: unknown): string {
  return typeof value === 'string' && KNOWN_TYPES.has(value) ? value : 'other';
}
