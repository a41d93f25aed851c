/**
 * Reading a response body within bounds: a page up to `max_response_mb` (a broken proxy's endless
 * body must not grow memory until the request times out), an error page only as far as its
 * start, the rest left unread.
 */
import type { Readable } from 'node:stream';
import { ApiBodyError } from '../errors.js';

/** The whole body as text, or an error once it passes `maxBytes`. */
export async function readBounded(body: Readable, maxBytes: number, description: string): Promise<{ text: string; bytes: number }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    bytes += buffer.length;
    if (bytes > maxBytes) {
      body.destroy();
      throw new ApiBodyError(
        `Invoca's answer to ${description} passed max_response_mb (${Math.round(maxBytes / 1024 / 1024)} MB) and was cut off; ` +
          'a page of 4,000 rows is far smaller, so check what answers at base_url (a proxy?), or raise max_response_mb',
        { retryable: false },
      );
    }
    chunks.push(buffer);
  }
  return { text: Buffer.concat(chunks, bytes).toString('utf8'), bytes };
}

/** The first `maxBytes` of the body as text; the rest is not read. */
export async function readPrefix(body: Readable, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    chunks.push(buffer);
    bytes += buffer.length;
    if (bytes >= maxBytes) break;
  }
  // Leaving the loop early destroys the stream: the connection is not reused for a body not read.
  body.destroy();
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}
