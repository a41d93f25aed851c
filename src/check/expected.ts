/**
 * An independent model of the merge semantics, in plain TypeScript, for comparing with what the
 * SQL leaves in a warehouse (the tests, and `target-invoca check` on the user's own warehouse). It
 * follows the design's words, not the SQL: first-seen sequence, lineage roots through
 * corrections, the version order, latest version per lineage, calls from their Call lineages with
 * legs counted and money summed.
 */
/** A record as the tap delivers it: its fields, and the sequence it was delivered with. */
export type FeedRecord = Record<string, unknown> & { transaction_id: string; _invoca_sequence: number };

interface Seen {
  record: FeedRecord;
  sequence: number;
}

export interface Expected {
  /** root -> transaction_id of the latest version */
  current: Map<string, string>;
  /** complete_call_id -> legs, payin sum (decimal text) and the latest leg's transaction_id */
  calls: Map<string, { legs: number; payin: string | null; transactionId: string }>;
  transactions: number;
}

const isCorrection = (record: FeedRecord): boolean =>
  typeof record['corrects_transaction_id'] === 'string' && record['corrects_transaction_id'] !== '';

export class MergeOracle {
  readonly #seen = new Map<string, Seen>();

  load(batch: readonly FeedRecord[]): void {
    for (const record of batch) {
      if (!this.#seen.has(record.transaction_id)) this.#seen.set(record.transaction_id, { record, sequence: record._invoca_sequence });
    }
  }

  root(id: string): string {
    let current = id;
    for (let step = 0; step < 1000; step++) {
      const seen = this.#seen.get(current);
      if (!seen || !isCorrection(seen.record)) return current;
      current = String(seen.record['corrects_transaction_id']);
    }
    throw new Error(`correction cycle at ${id}`);
  }

  version(seen: Seen): [number, number, number, string] {
    const correctedAt = seen.record['corrected_at_utc'];
    return [
      isCorrection(seen.record) ? 1 : 0,
      typeof correctedAt === 'string' ? Date.parse(correctedAt) : 0,
      seen.sequence,
      seen.record.transaction_id,
    ];
  }

  expected(): Expected {
    const latest = new Map<string, Seen>();
    for (const seen of this.#seen.values()) {
      const root = this.root(seen.record.transaction_id);
      const best = latest.get(root);
      if (!best || compare(this.version(seen), this.version(best)) > 0) latest.set(root, seen);
    }
    const current = new Map([...latest].map(([root, seen]) => [root, seen.record.transaction_id]));
    const calls = new Map<string, { legs: number; payin: string | null; transactionId: string; best: Seen }>();
    for (const seen of latest.values()) {
      if (seen.record['transaction_type'] !== 'Call') continue;
      // A leg whose latest version names no call belongs to none.
      if (seen.record['complete_call_id'] === null || seen.record['complete_call_id'] === undefined) continue;
      const callId = String(seen.record['complete_call_id']);
      const payin = seen.record['advertiser_payin_localized'];
      const entry = calls.get(callId);
      const amount = payin === null || payin === undefined || payin === '' ? null : toNanos(payin);
      if (!entry) {
        calls.set(callId, {
          legs: 1,
          payin: amount === null ? null : String(amount),
          transactionId: seen.record.transaction_id,
          best: seen,
        });
      } else {
        entry.legs++;
        if (amount !== null) entry.payin = String(BigInt(entry.payin ?? '0') + amount);
        if (compare(this.version(seen), this.version(entry.best)) > 0) {
          entry.best = seen;
          entry.transactionId = seen.record.transaction_id;
        }
      }
    }
    return {
      current,
      calls: new Map(
        [...calls].map(([id, { legs, payin, transactionId }]) => [
          id,
          { legs, payin: payin === null ? null : fromNanos(BigInt(payin)), transactionId },
        ]),
      ),
      transactions: this.#seen.size,
    };
  }
}

function compare(a: [number, number, number, string], b: [number, number, number, string]): number {
  for (let index = 0; index < 3; index++) {
    const difference = (a[index] as number) - (b[index] as number);
    if (difference !== 0) return difference;
  }
  return a[3] < b[3] ? -1 : a[3] > b[3] ? 1 : 0;
}

/** A decimal (number or text) in billionths, exactly. */
export function toNanos(value: unknown): bigint {
  const text = String(value);
  const match = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match) throw new Error(`not a decimal: ${text}`);
  const [, sign, whole = '', fraction = ''] = match;
  const nanos = BigInt(whole || '0') * 1_000_000_000n + BigInt(`${fraction}000000000`.slice(0, 9));
  return sign === '-' ? -nanos : nanos;
}

export function fromNanos(nanos: bigint): string {
  const negative = nanos < 0n;
  const absolute = negative ? -nanos : nanos;
  const whole = absolute / 1_000_000_000n;
  const fraction = (absolute % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}
