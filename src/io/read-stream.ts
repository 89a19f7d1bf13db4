/**
 * `createReadStream`: a byte stream that walks the page cache page by page, handing out page
 * buffers without copying, so memory stays bounded whatever the file size.
 * @module
 */
import { Readable } from 'node:stream';
import type { PageCache, PageReadOptions, PageSource } from '../cache/page-cache.js';

/** A Readable over bytes `[start, end]` (inclusive) of `src`, opened lazily by `open`. */
export function pageReadStream(
  cache: PageCache,
  open: () => Promise<PageSource>,
  start: number,
  end: number | undefined,
  opts: PageReadOptions & { highWaterMark?: number },
): Readable {
  async function* pages(): AsyncGenerator<Buffer> {
    const src = await open();
    const last = Math.min(src.size - 1, end ?? Infinity);
    let position = start;
    while (position <= last) {
      const index = Math.floor(position / cache.pageSize);
      const page = await cache.page(src, index, opts);
      const pageStart = index * cache.pageSize;
      const from = position - pageStart;
      const to = Math.min(page.length, last - pageStart + 1);
      if (to <= from) break;
      yield page.subarray(from, to);
      position = pageStart + to;
    }
  }
  return Readable.from(pages(), { objectMode: false, highWaterMark: opts.highWaterMark ?? cache.pageSize });
}
