/**
 * `createReadStream`: a byte stream that walks the page cache page by page, so memory stays
 * bounded whatever the file size. Each chunk is a copy the consumer owns, as with `fs` streams:
 * writing to it never reaches the cache's pages (nor a page still on its way to the disk tier).
 * @module
 */
import { Readable } from 'node:stream';
import type { PageCache, PageReadOptions, PageSource } from '../cache/page-cache.js';
import type { ByteRange } from '../store/under-store.js';

/** How far a stream reads ahead of its consumer. */
const READ_AHEAD_BYTES = 8 * 1024 * 1024;

/**
 * A Readable over bytes `[start, end]` (inclusive) of `src`, opened lazily by `open`, which is
 * told the stream's first fetch (the first batch of pages). With `shareChunks` (for readers inside
 * stratafs that only read them, such as a copy's upload) the chunks are the pages themselves.
 */
export function pageReadStream(
  cache: PageCache,
  open: (first: ByteRange) => Promise<PageSource>,
  start: number,
  end: number | undefined,
  opts: PageReadOptions & { highWaterMark?: number; shareChunks?: boolean },
): Readable {
  // Read ahead: the next READ_AHEAD_BYTES of pages are requested while one is consumed, in
  // batches of half that (one ranged read per batch of missing pages), so a stream is neither
  // one round trip per page nor one request per page; memory stays bounded by the window.
  const window = Math.max(1, Math.ceil(READ_AHEAD_BYTES / cache.pageSize));
  const batch = Math.max(1, Math.floor(window / 2));
  const firstIndex = Math.floor(start / cache.pageSize);
  const firstCount = end === undefined ? batch : Math.min(batch, Math.floor(end / cache.pageSize) - firstIndex + 1);
  // Chunks of `highWaterMark` bytes when it is smaller than a page, as `fs` streams read.
  const chunkSize = Math.min(cache.pageSize, opts.highWaterMark || cache.pageSize);
  async function* pages(): AsyncGenerator<Buffer> {
    const src = await open({ offset: firstIndex * cache.pageSize, length: firstCount * cache.pageSize });
    const last = Math.min(src.size - 1, end ?? Infinity);
    let position = start;
    const lastIndex = Math.floor(last / cache.pageSize);
    const ahead = new Map<number, Promise<Buffer>>();
    let next = firstIndex; // the first page not requested yet
    while (position <= last) {
      const index = Math.floor(position / cache.pageSize);
      while (next <= lastIndex && next < index + window) {
        const first = next;
        cache.pages(src, first, Math.min(batch, lastIndex - first + 1), opts).forEach((p, k) => {
          p.catch(() => undefined);
          ahead.set(first + k, p);
        });
        next = first + batch;
      }
      const page = await ahead.get(index)!;
      ahead.delete(index);
      const pageStart = index * cache.pageSize;
      const from = position - pageStart;
      const to = Math.min(page.length, last - pageStart + 1);
      if (to <= from) break;
      if (opts.shareChunks) yield page.subarray(from, to);
      else for (let at = from; at < to; at += chunkSize) yield Buffer.from(page.subarray(at, Math.min(to, at + chunkSize)));
      position = pageStart + to;
    }
  }
  return Readable.from(pages(), { objectMode: false, highWaterMark: opts.highWaterMark ?? cache.pageSize });
}
