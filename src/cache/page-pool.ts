/**
 * Recycled page memory. A page buffer the memory tier lets go of (evicted, dropped, replaced) is
 * kept for the next page to be fetched or written instead of being left to the garbage
 * collector, so a cache that churns reuses memory that is already mapped rather than faulting in
 * fresh pages for every page it fills.
 *
 * A buffer is reused only when nothing can still be reading it:
 * - only buffers this pool made, of exactly one page, are ever recycled;
 * - a buffer handed out of the cache (a stream's page, a page being published to the shared
 *   tier) is {@link PagePool.lend | lent} and never comes back;
 * - a buffer let go of while reads are running waits until every read that started before it was
 *   let go of has finished (epoch-based reclamation: each {@link PagePool.begin} belongs to the
 *   epoch it started in, and a retired buffer to the epoch it was retired in).
 *
 * The pool holds at most `maxBytes` (waiting and free together) and lets go of its free buffers
 * once none was taken for `idleMs`.
 * @module
 */

/** A retired buffer waiting for the reads older than it to finish. */
interface Waiting {
  buffer: Buffer;
  epoch: number;
}

/** How long free buffers are kept without being taken, by default. */
export const POOL_IDLE_MS = 30_000;

/** Recycled page buffers (see the module comment). */
export class PagePool {
  /** Buffers this pool made and that were never lent. */
  readonly #ours = new WeakSet<Buffer>();
  /** Buffers retired and not yet taken again (waiting or free): a second retire is ignored. */
  readonly #held = new WeakSet<Buffer>();
  readonly #free: Buffer[] = [];
  readonly #waiting: Waiting[] = [];
  /** Running reads per epoch. */
  readonly #active = new Map<number, number>();
  #epoch = 0;
  #lastTake = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  /** Buffers handed out again instead of allocated (for tests and figures). */
  reused = 0;

  constructor(
    /** The size of a page: the only size recycled. */
    readonly pageSize: number,
    /** Most bytes kept, free and waiting together. */
    readonly maxBytes: number,
    readonly idleMs = POOL_IDLE_MS,
  ) {}

  /** Bytes held for reuse (free and waiting). */
  get heldBytes(): number {
    return (this.#free.length + this.#waiting.length) * this.pageSize;
  }

  /** A buffer of `length` bytes for a page to be filled (contents undefined). */
  take(length: number): Buffer {
    if (length !== this.pageSize || this.maxBytes < this.pageSize) return Buffer.allocUnsafeSlow(length);
    this.#lastTake = Date.now();
    const recycled = this.#free.pop();
    if (recycled) {
      this.#held.delete(recycled);
      this.reused++;
      return recycled;
    }
    const buffer = Buffer.allocUnsafeSlow(length);
    this.#ours.add(buffer);
    return buffer;
  }

  /** Marks a buffer as handed out of the cache: it is never recycled. */
  lend(buffer: Buffer): void {
    this.#ours.delete(buffer);
  }

  /**
   * Starts a read that may use page buffers across awaits; call the returned function when it
   * is done. Buffers retired meanwhile are not reused before then.
   */
  begin(): () => void {
    const epoch = this.#epoch;
    this.#active.set(epoch, (this.#active.get(epoch) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const left = this.#active.get(epoch)! - 1;
      if (left > 0) this.#active.set(epoch, left);
      else this.#active.delete(epoch);
      this.#reclaim();
    };
  }

  /** A buffer the cache let go of: reused once no read older than now is running. */
  retire(buffer: Buffer): void {
    if (!this.#ours.has(buffer) || this.#held.has(buffer)) return;
    if (this.heldBytes + this.pageSize > this.maxBytes) return; // full: left to the garbage collector
    this.#held.add(buffer);
    this.#waiting.push({ buffer, epoch: this.#epoch });
    this.#epoch++;
    this.#reclaim();
  }

  /** Drops every held buffer. */
  clear(): void {
    this.#free.length = 0;
    this.#waiting.length = 0;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  /** Moves the waiting buffers that no running read can still see to the free list. */
  #reclaim(): void {
    let oldest = Infinity;
    for (const epoch of this.#active.keys()) if (epoch < oldest) oldest = epoch;
    let n = 0;
    while (n < this.#waiting.length && this.#waiting[n]!.epoch < oldest) n++;
    if (n === 0) return;
    for (const { buffer } of this.#waiting.splice(0, n)) {
      if (this.#ours.has(buffer)) this.#free.push(buffer); // one lent while it waited is dropped
      else this.#held.delete(buffer);
    }
    this.#armIdle();
  }

  #armIdle(): void {
    if (this.#idleTimer || this.#free.length === 0) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (Date.now() - this.#lastTake >= this.idleMs) this.#free.length = 0;
      else this.#armIdle();
    }, this.idleMs);
    this.#idleTimer.unref();
  }
}
