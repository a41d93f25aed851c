import type { Writable } from 'node:stream';

/**
 * Writes text to a stream and waits for 'drain' when the stream's buffer is full, so a slow
 * reader slows the tap down instead of making its memory grow. A closed pipe (EPIPE) rejects.
 */
export class StreamWriter {
  readonly #stream: Writable;
  #failure: Error | undefined;

  constructor(stream: Writable) {
    this.#stream = stream;
    stream.on('error', (error: Error) => {
      this.#failure = error;
    });
  }

  async write(text: string): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (this.#stream.write(text)) return;
    await new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        this.#stream.off('error', onError);
        resolve();
      };
      const onError = (error: Error): void => {
        this.#stream.off('drain', onDrain);
        reject(error);
      };
      this.#stream.once('drain', onDrain);
      this.#stream.once('error', onError);
    });
  }
}
