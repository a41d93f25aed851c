/**
 * The loader's metrics (prom-client, in a registry of its own): what `/metrics` serves for
 * `target-invoca`. The target reports each commit (its rows per table and its duration), each
 * failed one, and the rows waiting for the next.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BatchResult } from '../load/loader.js';
import type { CommitObserver } from '../load/target.js';
import { Health } from './health.js';

export class TargetMetrics implements CommitObserver {
  readonly registry = new Registry();
  readonly health: Health;
  readonly #batches = new Counter({
    name: 'target_invoca_batches_total',
    help: 'Batches, by result (committed, failed).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly #rows = new Counter({
    name: 'target_invoca_rows_merged_total',
    help: 'Rows written by the merge, by table (transactions: new transactions; the others: new or changed rows). Not counted where the engine reports no counts (BigQuery).',
    labelNames: ['table'] as const,
    registers: [this.registry],
  });
  readonly #staged = new Counter({
    name: 'target_invoca_rows_staged_total',
    help: 'Records staged and committed.',
    registers: [this.registry],
  });
  readonly #duration = new Histogram({
    name: 'target_invoca_commit_duration_seconds',
    help: "Duration of a batch's commit: staging what is left, the merge, dropping the stage.",
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
    registers: [this.registry],
  });
  readonly #lastCommit = new Gauge({
    name: 'target_invoca_last_commit_timestamp_seconds',
    help: 'When the last batch was committed, in seconds since the epoch.',
    registers: [this.registry],
  });
  readonly #pending = new Gauge({
    name: 'target_invoca_rows_pending',
    help: 'Rows received and waiting for the next commit.',
    registers: [this.registry],
  });

  #pendingRows = 0;

  constructor(healthMaxAgeSeconds: number, redact: (text: string) => string, now: () => number = Date.now) {
    // A quiet feed brings no rows: with nothing waiting, no commit for a while is health.
    this.health = new Health('commit', healthMaxAgeSeconds * 1000, { redact, now, nothingWaiting: () => this.#pendingRows === 0 });
    collectDefaultMetrics({ register: this.registry });
  }

  committing(): void {
    this.health.busy(true);
  }

  committed(result: BatchResult, seconds: number, atMs: number): void {
    this.health.busy(false);
    this.#batches.inc({ result: 'committed' });
    this.#staged.inc(result.staged);
    for (const [table, rows] of [
      ['transactions', result.inserted],
      ['transactions_current', result.current],
      ['calls', result.calls],
    ] as const) {
      if (rows !== undefined) this.#rows.inc({ table }, rows);
    }
    this.#duration.observe(seconds);
    this.#lastCommit.set(atMs / 1000);
    this.health.progressed();
  }

  commitFailed(message: string): void {
    this.health.busy(false);
    this.#batches.inc({ result: 'failed' });
    this.health.failed(message);
  }

  pending(rows: number): void {
    this.#pendingRows = rows;
    this.#pending.set(rows);
  }
}
