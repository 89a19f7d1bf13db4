/**
 * The walk a read stream makes over the page cache: bytes `[start, end]` of one source, page by
 * page, with the next pages requested ahead of the consumer in batches.
 * @module
 */
import type { PageCache, PageReadOptions, PageSource } from '../cache/page-cache.js';
import type { ByteRange } from '../store/under-store.js';

/** How far a stream reads ahead of its consumer. */
const READ_AHEAD_BYTES = 8 * 1024 * 1024;

/** Pages requested ahead of the one being consumed (at least one). */
function windowPages(pageSize: number): number {
  return Math.max(1, Math.ceil(READ_AHEAD_BYTES / pageSize));
}

/** Pages per request: half the window, so a stream is neither one round trip per page nor one request per page. */
function batchPages(pageSize: number): number {
  return Math.max(1, Math.floor(windowPages(pageSize) / 2));
}

/** The page-aligned range of the first batch a walk of `[start, end]` requests (told to `open` ahead of the walk). */
export function firstBatch(pageSize: number, start: number, end: number | undefined): ByteRange {
  const firstIndex = Math.floor(start / pageSize);
  const batch = batchPages(pageSize);
  const count = end === undefined ? batch : Math.min(batch, Math.floor(end / pageSize) - firstIndex + 1);
  return { offset: firstIndex * pageSize, length: count * pageSize };
}

/** How a walk reads and cuts its pages. */
export interface PageWalkOptions extends PageReadOptions {
  /** Largest chunk handed out (at most a page). */
  chunkSize: number;
  /** Hand out views of the cache's pages instead of copies (for readers that only read them). */
  shareChunks?: boolean;
}

/**
 * Bytes `[start, end]` (inclusive; `end` omitted: to the end) of `src`, in chunks. At most a
 * window of {@link READ_AHEAD_BYTES} of pages is requested ahead of the consumer, so memory
 * stays bounded whatever the file size. Requests carry `opts.signal`: aborting it gives up the
 * pages still on their way (the page cache aborts a fetch once every reader of it gave up).
 */
export class PageWalk {
  readonly #window: number;
  readonly #batch: number;
  readonly #first: number;
  readonly #last: number;
  readonly #lastIndex: number;
  /** Pages requested and not consumed yet, by index. */
  readonly #ahead = new Map<number, Promise<Buffer>>();
  #position: number;
  /** The first page not requested yet. */
  #next: number;

  constructor(
    private readonly cache: PageCache,
    private readonly src: PageSource,
    start: number,
    end: number | undefined,
    private readonly opts: PageWalkOptions,
  ) {
    this.#window = windowPages(cache.pageSize);
    this.#batch = batchPages(cache.pageSize);
    this.#last = Math.min(src.size - 1, end ?? Infinity);
    this.#lastIndex = Math.floor(this.#last / cache.pageSize);
    this.#first = start;
    this.#position = start;
    this.#next = Math.floor(start / cache.pageSize);
  }

  /**
   * The chunks of the next page (copies the caller owns, unless `shareChunks`); `null` once the
   * range is done. One call at a time.
   */
  async next(): Promise<Buffer[] | null> {
    const pageSize = this.cache.pageSize;
    if (this.#position > this.#last) return null;
    const index = Math.floor(this.#position / pageSize);
    this.#requestAhead(index);
    const page = await this.#ahead.get(index)!;
    this.#ahead.delete(index);
    const pageStart = index * pageSize;
    const from = this.#position - pageStart;
    const to = Math.min(page.length, this.#last - pageStart + 1);
    if (to <= from) {
      this.#position = this.#last + 1; // a short page: the object ends here
      return null;
    }
    this.#position = pageStart + to;
    if (this.opts.shareChunks) return [page.subarray(from, to)];
    const chunks: Buffer[] = [];
    for (let at = from; at < to; at += this.opts.chunkSize) chunks.push(Buffer.from(page.subarray(at, Math.min(to, at + this.opts.chunkSize))));
    return chunks;
  }

  /** Requests the batches that keep the window ahead of page `index` full. */
  #requestAhead(index: number): void {
    const opts = { readType: this.opts.readType, signal: this.opts.signal };
    while (this.#next <= this.#lastIndex && this.#next < index + this.#window) {
      const first = this.#next;
      const used = { offset: this.#first, length: this.#last + 1 - this.#first }; // hits count the bytes of the walk only
      this.cache.pages(this.src, first, Math.min(this.#batch, this.#lastIndex - first + 1), opts, used).forEach((p, k) => {
        p.catch(() => undefined); // a page given up (the stream destroyed) fails unobserved
        this.#ahead.set(first + k, p);
      });
      this.#next = first + this.#batch;
    }
  }
}
