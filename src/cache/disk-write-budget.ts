/**
 * The bound on the page writes to the disk tier that are on their way. Each one holds its page
 * in memory and, until it is renamed into place, a temp file in the cache dir that the dir's
 * capacity does not count yet: without a bound, reads that fetch faster than the disk writes
 * would pile up page memory and temp files without limit (the process outgrows its memory, the
 * cache dir its capacity). Past the bound, a page read is simply not written to disk (the read
 * is not slowed down); `load` waits for room instead, so it still warms the disk. Each write
 * counts at least 1/{@link MAX_DISK_WRITES} of the bound: tiny pages (small files, a small
 * `pageSize`) cannot put thousands of writes, each with a file open, on their way at once.
 * @module
 */
import { untilAborted } from '../errors.js';

/** Most bytes of page writes on their way to the disk tier: a quarter of its capacity, at most 64 MiB, at least one page. */
export function diskWriteBytesFor(capacity: number, pageSize: number): number {
  return Math.max(pageSize, Math.min(64 * 1024 * 1024, Math.floor(capacity / 4)));
}

/** Most page writes on their way at once, however small their pages (each holds a file open). */
export const MAX_DISK_WRITES = 256;

/** Bytes of page writes on their way, and the bound on them (see the module comment). */
export class DiskWriteBudget {
  #used = 0;
  #waiters: (() => void)[] = [];

  constructor(
    /** Most bytes on their way (exceeded only by a forced {@link tryTake}). */
    readonly maxBytes: number,
  ) {}

  /** Bytes on their way. */
  get used(): number {
    return this.#used;
  }

  /**
   * Takes `bytes` when they fit (always when nothing is on its way, or when `force`: pinned
   * pages, pages of a `load` that waited for {@link room}); `false` when they do not.
   */
  tryTake(bytes: number, force = false): boolean {
    const charge = this.#chargeOf(bytes);
    if (!force && !this.#fits(charge)) return false;
    this.#used += charge;
    return true;
  }

  /** Gives back bytes taken (as given to {@link tryTake}) once their write has ended. */
  release(bytes: number): void {
    this.#used = Math.max(0, this.#used - this.#chargeOf(bytes));
    if (this.#waiters.length === 0 || !this.#fits(0)) return;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves once `bytes` more fit (or nothing is on its way); rejects with an `AbortError` when `signal` aborts first. */
  async room(bytes: number, signal?: AbortSignal): Promise<void> {
    while (!this.#fits(bytes)) await untilAborted(new Promise<void>((resolve) => this.#waiters.push(resolve)), signal);
  }

  /** What a write of `bytes` counts: at least its share of {@link MAX_DISK_WRITES}. */
  #chargeOf(bytes: number): number {
    return Math.max(bytes, this.maxBytes / MAX_DISK_WRITES);
  }

  #fits(bytes: number): boolean {
    return this.#used === 0 || this.#used + bytes <= this.maxBytes;
  }
}
