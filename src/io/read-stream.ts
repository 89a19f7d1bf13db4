/**
 * `createReadStream`: a byte stream that walks the page cache page by page (see
 * {@link PageWalk}), so memory stays bounded whatever the file size. Each chunk is a copy the
 * consumer owns, as with `fs` streams: writing to it never reaches the cache's pages (nor a page
 * still on its way to the disk tier). As with `fs` streams, `destroy()` and the caller's `signal`
 * end it at once, and the page fetches it started are given up.
 * @module
 */
import { Readable } from 'node:stream';
import type { PageCache, PageReadOptions, PageSource } from '../cache/page-cache.js';
import { abortError, asAbortError, isAbortError, toStrataError, type StrataError, type StrataErrorContext } from '../errors.js';
import { linkSignals, whenAborted, type LinkedSignal } from '../abort-listeners.js';
import type { ByteRange } from '../store/under-store.js';
import { PageWalk, firstBatch } from './page-walk.js';
import { eventLoopTurn } from '../event-loop-turn.js';
import { readAgainOnNewVersion } from './new-version.js';

/** Options of {@link pageReadStream}. */
export interface PageReadStreamOptions extends PageReadOptions {
  /** Buffered bytes, and the chunk size when smaller than a page (as `fs` streams read). Default: a page. */
  highWaterMark?: number;
  /** Chunks are the cache's pages themselves, not copies: only for readers inside stratafs that never write to them (a copy's upload). */
  shareChunks?: boolean;
  /** Added to every `StrataError` the stream fails with (others become `StrataError`s); `AbortError`s stay as they are. */
  context?: Pick<StrataErrorContext, 'path' | 'op' | 'mount'>;
  /** Throws once the stream may read no more (its StrataFS closed, its mount unmounted): called before each page, the stream fails with what it throws. */
  live?: () => void;
}

/** The Readable of `createReadStream`, with the `fs` read stream's byte count. */
export interface StrataReadStream extends Readable {
  /** Bytes of the file read into the stream so far (handed out or buffered), as on an `fs` read stream. */
  readonly bytesRead: number;
}

/**
 * Opens the source a stream reads, told the stream's first fetch (the first batch of pages) and
 * a signal that aborts when the stream is destroyed (or when the caller's `signal` aborts).
 */
export type OpenPageSource = (first: ByteRange, signal: AbortSignal) => Promise<PageSource>;

/**
 * A Readable over bytes `[start, end]` (inclusive) of `src`, opened lazily by `open` (see
 * {@link PageReadStreamOptions}). It is destroyed with an `AbortError` as soon as `opts.signal`
 * aborts, even while paused; `destroy()` closes it at once and gives up its page fetches.
 */
export function pageReadStream(cache: PageCache, open: OpenPageSource, start: number, end: number | undefined, opts: PageReadStreamOptions): StrataReadStream {
  return new PageReadStream(cache, open, start, end, opts);
}

/** See {@link pageReadStream}. */
class PageReadStream extends Readable implements StrataReadStream {
  readonly #cache: PageCache;
  readonly #open: OpenPageSource;
  readonly #start: number;
  readonly #end: number | undefined;
  readonly #opts: PageReadStreamOptions;
  /** Aborted when the stream is destroyed: the signal of everything it started. */
  readonly #controller = new AbortController();
  #stopListening: () => void = () => undefined;
  #walk: PageWalk | undefined;
  /** The signal of the current walk's page fetches: follows the stream's, and aborts when the walk is given up for a new one. */
  #walkSignal: LinkedSignal | undefined;
  /** Gives up the current walk's page fetches. */
  #giveUpWalk = new AbortController();
  /** Some bytes of the file were handed out: from then on it is read at that version or not at all. */
  #started = false;
  /** Chunks of the current page not pushed yet. */
  #queue: Buffer[] = [];
  /** A page (or the open step) is on its way. */
  #busy = false;
  #bytesRead = 0;

  constructor(cache: PageCache, open: OpenPageSource, start: number, end: number | undefined, opts: PageReadStreamOptions) {
    super({ highWaterMark: opts.highWaterMark ?? cache.pageSize });
    this.#cache = cache;
    this.#open = open;
    this.#start = start;
    this.#end = end;
    this.#opts = opts;
    // A handler on the caller's signal rather than `AbortSignal.any`: it destroys the stream
    // (which aborts the stream's own signal), and it is removed on close, so a long-lived caller
    // signal (a CLI's, shared by many streams) holds nothing of a stream once it is closed.
    const signal = opts.signal;
    if (signal?.aborted) this.destroy(abortError(signal));
    else if (signal) this.#stopListening = whenAborted(signal, () => void this.destroy(abortError(signal)));
  }

  get bytesRead(): number {
    return this.#bytesRead;
  }

  override _read(): void {
    // Pushed on the next tick, not inside this call: `read()` would hand out what `_read` pushes
    // synchronously together with what was buffered, as one chunk larger than `highWaterMark`.
    if (this.#queue.length > 0) return void process.nextTick(() => this.#pushQueued());
    if (this.#busy) return;
    this.#busy = true;
    this.#nextChunks().then(
      (chunks) => {
        this.#busy = false;
        if (this.destroyed) return;
        if (chunks === null) this.push(null);
        else {
          this.#queue = chunks;
          this.#pushQueued();
        }
      },
      (error: unknown) => {
        this.#busy = false;
        this.destroy(this.#failure(error));
      },
    );
  }

  /** Pushes the chunks of the current page while the buffer wants more (one at a time: a small `highWaterMark` sets the chunk size). */
  #pushQueued(): void {
    let more = true;
    while (more && this.#queue.length > 0 && !this.destroyed) {
      const chunk = this.#queue.shift()!;
      this.#bytesRead += chunk.length;
      more = this.push(chunk); // a 'data' listener may destroy it
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#stopListening();
    // Pages still on their way are given up (a fetch other readers share goes on for them).
    this.#controller.abort(this.#opts.signal?.aborted ? this.#opts.signal.reason : (error ?? undefined));
    this.#walkSignal?.dispose();
    callback(error);
  }

  /**
   * The chunks of the next page, `null` at the end; opens the source first. A file replaced
   * before its first bytes came (`ESTALE`) is opened again at its new version, as `readFile`
   * reads it again; once bytes were handed out, `ESTALE` ends the stream rather than mix versions.
   */
  async #nextChunks(): Promise<Buffer[] | null> {
    const turn = eventLoopTurn(); // (pages from the cache, one after another, let timers and I/O run)
    if (turn) await turn;
    if (this.destroyed) return null;
    this.#opts.live?.();
    return readAgainOnNewVersion(
      async () => {
        if (!this.#walk) {
          this.#giveUpWalk = new AbortController();
          const walkSignal = linkSignals([this.#controller.signal, this.#giveUpWalk.signal]);
          this.#walkSignal = walkSignal;
          const src = await this.#open(firstBatch(this.#cache.pageSize, this.#start, this.#end), walkSignal.signal);
          if (this.destroyed) return null; // closed while opening: nothing more is read
          const chunkSize = Math.min(this.#cache.pageSize, this.#opts.highWaterMark || this.#cache.pageSize);
          this.#walk = new PageWalk(this.#cache, src, this.#start, this.#end, { readType: this.#opts.readType, signal: walkSignal.signal, chunkSize, shareChunks: this.#opts.shareChunks });
        }
        const chunks = await this.#walk.next();
        this.#started = true;
        return chunks;
      },
      (error) => {
        if (this.#started || this.destroyed || (error as StrataError).code !== 'ESTALE') return false;
        // Nothing handed out yet: the pages asked ahead at the old version are given up.
        this.#giveUpWalk.abort(error);
        this.#walkSignal?.dispose();
        this.#walk = undefined;
        return true;
      },
    );
  }

  /** What the stream fails with: aborts as `AbortError`s, the rest with the stream's context. */
  #failure(error: unknown): Error {
    if (isAbortError(error)) return asAbortError(error);
    return this.#opts.context ? toStrataError(error, this.#opts.context) : (error as Error);
  }
}
