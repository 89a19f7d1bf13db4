/**
 * Byte ranges on S3: the `Range` header of a `GetObject`, and the cut a client must make when a
 * server ignores that header and sends the whole object.
 * @module
 */
import { Readable } from 'node:stream';
import type { ByteRange } from '../under-store.js';

/** `bytes=a-b` (or `bytes=a-` without a length); `undefined` when the whole object is wanted. */
export function rangeHeader(range: ByteRange | undefined): string | undefined {
  if (range === undefined || (range.offset === 0 && range.length === undefined)) return undefined;
  return range.length === undefined ? `bytes=${range.offset}-` : `bytes=${range.offset}-${range.offset + range.length - 1}`;
}

/**
 * The bytes of `range` from a stream of the whole object (for servers that answer a ranged
 * request with `200` and everything). Stops reading, and destroys `whole`, once the range is out.
 */
export function cutToRange(whole: Readable, range: ByteRange): Readable {
  const start = range.offset;
  const end = range.length === undefined ? Infinity : range.offset + range.length;
  async function* cut(): AsyncGenerator<Buffer> {
    let position = 0;
    try {
      for await (const chunk of whole as AsyncIterable<Buffer>) {
        const from = Math.max(start - position, 0);
        const to = Math.min(chunk.length, end - position);
        if (to > from) yield chunk.subarray(from, to);
        position += chunk.length;
        if (position >= end) return;
      }
    } finally {
      if (!whole.destroyed) whole.destroy();
    }
  }
  return Readable.from(cut(), { objectMode: false });
}
