import type { FromSchema } from 'json-schema-to-ts';
import { validated } from '../config/validate.js';

/**
 * Injectable faults. A fault applies to the transactions endpoint only; `after` lets that many
 * requests through first, `times` is how many requests it then spoils.
 */

const FAULT_KINDS = [
  'status', // an HTTP error status with an Invoca error body; `status`, optional `retryAfter`
  'html', // status 200 (or `status`) with an HTML maintenance page
  'truncated', // status 200 with the JSON cut in half
  'malformed', // status 200 with a whole body that is not valid JSON
  'not-array', // status 200 with a JSON object instead of an array
  'reset', // headers and half the body, then the connection is destroyed
  'latency', // the normal answer after `delayMs`
  'repeat', // the previous answer again (a page that repeats the previous page)
] as const;

const COUNT = { type: 'integer', minimum: 0, mustBe: 'a non-negative integer' } as const;

/** One fault, as the CLI flag and the control route take it. */
const FAULT_SCHEMA = {
  type: 'object',
  mustBe: 'an object',
  required: ['kind'],
  properties: {
    kind: { type: 'string', enum: FAULT_KINDS, mustBe: `one of ${FAULT_KINDS.join(', ')}` },
    status: COUNT,
    /** The Retry-After header value, sent as given (seconds or an HTTP date). */
    retryAfter: { type: 'string', mustBe: 'a string' },
    delayMs: COUNT,
    times: COUNT,
    after: COUNT,
  },
  if: { required: ['kind'], properties: { kind: { const: 'status' } } },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, not a promise
  then: { required: ['status'], properties: { status: COUNT } },
} as const;

export type FaultKind = (typeof FAULT_KINDS)[number];
export type FaultSpec = FromSchema<typeof FAULT_SCHEMA>;

/** Validates fault specs from JSON (CLI flag or control route); throws a message naming the bad item. */
export function parseFaults(input: unknown): FaultSpec[] {
  const list = Array.isArray(input) ? input : [input];
  return list.map((item, index) => {
    const result = validated<FaultSpec>(FAULT_SCHEMA, item, `fault ${index}`);
    if ('problem' in result) throw new Error(result.problem);
    return result.value;
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
