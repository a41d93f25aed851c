/**
 * Injectable faults. A fault applies to the transactions endpoint only; `after` lets that many
 * requests through first, `times` is how many requests it then spoils.
 */

export type FaultKind =
  | 'status' // an HTTP error status with an Invoca error body; `status`, optional `retryAfter`
  | 'html' // status 200 (or `status`) with an HTML maintenance page
  | 'truncated' // status 200 with the JSON cut in half
  | 'not-array' // status 200 with a JSON object instead of an array
  | 'malformed' // status 200 with a whole body that is not valid JSON
  | 'reset' // headers and half the body, then the connection is destroyed
  | 'latency' // the normal answer after `delayMs`
  | 'repeat'; // the previous answer again (a page that repeats the previous page)

export interface FaultSpec {
  kind: FaultKind;
  status?: number;
  /** The Retry-After header value, sent as given (seconds or an HTTP date). */
  retryAfter?: string;
  delayMs?: number;
  times?: number;
  after?: number;
}

const KINDS = new Set<FaultKind>(['status', 'html', 'truncated', 'malformed', 'not-array', 'reset', 'latency', 'repeat']);

/** Validates fault specs from JSON (CLI flag or control route); throws a message naming the bad item. */
export function parseFaults(input: unknown): FaultSpec[] {
  const list = Array.isArray(input) ? input : [input];
  return list.map((item, index) => {
    if (!item || typeof item !== 'object') throw new Error(`fault ${index} must be an object`);
    const spec = item as Record<string, unknown>;
    const kind = spec['kind'];
    if (typeof kind !== 'string' || !KINDS.has(kind as FaultKind)) {
      throw new Error(`fault ${index}: kind must be one of ${[...KINDS].join(', ')}`);
    }
    for (const key of ['status', 'delayMs', 'times', 'after'] as const) {
      if (spec[key] !== undefined && (typeof spec[key] !== 'number' || !Number.isInteger(spec[key]) || (spec[key] as number) < 0)) {
        throw new Error(`fault ${index}: ${key} must be a non-negative integer`);
      }
    }
    if (kind === 'status' && typeof spec['status'] !== 'number') throw new Error(`fault ${index}: kind status needs a status`);
    if (spec['retryAfter'] !== undefined && typeof spec['retryAfter'] !== 'string') {
      throw new Error(`fault ${index}: retryAfter must be a string`);
    }
    return spec as unknown as FaultSpec;
  });
}

/** The queue of pending faults: the first one decides the next request. */
export class FaultQueue {
  #pending: { spec: FaultSpec; skip: number; left: number }[] = [];

  replace(specs: readonly FaultSpec[]): void {
    this.#pending = specs.map((spec) => ({ spec, skip: spec.after ?? 0, left: spec.times ?? 1 }));
  }

  get size(): number {
    return this.#pending.length;
  }

  /** The fault for this request, if any, and its bookkeeping. */
  next(): FaultSpec | undefined {
    const head = this.#pending[0];
    if (!head) return undefined;
    if (head.skip > 0) {
      head.skip--;
      return undefined;
    }
    head.left--;
    if (head.left <= 0) this.#pending.shift();
    return head.spec;
  }
}
