import type { Writable } from 'node:stream';
import { OutputError } from '../errors.js';

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
      this.#failure = asOutputError(error);
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
        reject(asOutputError(error));
      };
      this.#stream.once('drain', onDrain);
      this.#stream.once('error', onError);
    });
  }
}

function asOutputError(error: Error): Error {
  const code = (error as { code?: unknown }).code;
  if (code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED') {
    return new OutputError('the reader of stdout closed it (did the target stop? see its error above)', { cause: error });
  }
  return error;
}
