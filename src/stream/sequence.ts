/**
 * `_invoca_sequence`: strictly increasing in emission order, and across runs, also when the state
 * is lost. A run starts at max(last sequence + 1, now in ms * 1000): the clock part keeps a run
 * that lost its state above every earlier run (at up to 1,000 records per millisecond of wall time
 * between runs), and the result stays below 2^53 until the year 2255.
 */
export class SequenceClock {
  #next: number;
  #last: number | undefined;

  constructor(lastSequence: number | undefined, nowMs: number) {
    this.#next = Math.max((lastSequence ?? -1) + 1, nowMs * 1000);
    this.#last = lastSequence;
  }

  next(): number {
    this.#last = this.#next++;
    return this.#last;
  }

  /** The last sequence handed out, or the one the state had when this run has handed out none. */
  get last(): number | undefined {
    return this.#last;
  }
}
