/**
 * Deterministic randomness for the simulated feed: every value is a pure function of
 * (seed, row index, salt), so any row can be built on its own, in any order, and the same seed
 * always gives the same feed. Written for the simulator alone: it shares no code with the client.
 */

/** murmur3's 32-bit finaliser: a fast, well-mixed bijection on uint32. */
export function mix32(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** A uint32 for (seed, index, salt). */
export function hash(seed: number, index: number, salt: number): number {
  const high = Math.floor(index / 0x1_0000_0000);
  return mix32(mix32(seed ^ Math.imul(salt + 1, 0x9e3779b9)) ^ mix32(index >>> 0) ^ Math.imul(high, 0x27d4eb2f));
}

/** An integer in [0, bound). */
export function pick(seed: number, index: number, salt: number, bound: number): number {
  return hash(seed, index, salt) % bound;
}

/**
 * A keyed permutation of 64-bit values (a 4-round Feistel network on two 32-bit halves).
 * It turns a row index into an id that looks random and sorts in no useful order, and back.
 */
export class Permutation64 {
  readonly #keys: number[];

  constructor(seed: number, salt: number) {
    this.#keys = [0, 1, 2, 3].map((round) => hash(seed, round, salt));
  }

  encode(index: number): [high: number, low: number] {
    let left = Math.floor(index / 0x1_0000_0000) >>> 0;
    let right = index >>> 0;
    for (const key of this.#keys) {
      [left, right] = [right, (left ^ mix32(right ^ key)) >>> 0];
    }
    return [left, right];
  }

  decode(high: number, low: number): number {
    let left = high >>> 0;
    let right = low >>> 0;
    for (let round = this.#keys.length - 1; round >= 0; round--) {
      [left, right] = [(right ^ mix32(left ^ (this.#keys[round] as number))) >>> 0, left];
    }
    return left * 0x1_0000_0000 + right;
  }
}

export function hex(value: number, width: number): string {
  return value.toString(16).toUpperCase().padStart(width, '0').slice(-width);
}
