/**
 * The page cache: maps a byte range of one version of an object to pages, serves the pages the
 * tiers hold (memory, then disk), fetches the missing ones with as few ranged store reads as
 * possible (adjacent misses coalesced), shares in-flight fetches between concurrent readers
 * (single-flight), and admits fetched pages to the tiers according to the read type.
 * Pages are written through to both tiers when both exist, so memory eviction needs no demotion.
 * @module
 */
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { StrataError, isAbortError, isTemporary, sanitizeCause, throwIfAborted, toStrataError } from '../errors.js';
import { backoffDelay, type RetryPolicy } from '../layers/retry-layer.js';
import type { ReadType } from '../options.js';
import type { DiskTier } from './disk-tier-types.js';
import { DiskWriteBudget, diskWriteBytesFor } from './disk-write-budget.js';
import { MemoryTier } from './memory-tier.js';
import { pageKey, type PageId } from './page-id.js';
import { SharedSignal } from './shared-signal.js';
import { SingleFlight } from './single-flight.js';
import type { SharedTier } from './shared-tier-types.js';
import type { ByteRange } from '../store/under-store.js';

/** Largest run of pages fetched under one fleet-wide lease when the shared tier is on. */
const SHARED_RUN_BYTES = 16 * 1024 * 1024;

/** How long the disk tier is skipped after it fails. */
export const DISK_COOL_DOWN_MS = 30_000;

/** Hit/miss/byte counters, kept globally and per mount. */
export interface CacheCounters {
  hits: number;
  misses: number;
  bytesFromCache: number;
  bytesFromStore: number;
  bytesToStore: number;
}

/** A new zeroed {@link CacheCounters}. */
export function newCounters(): CacheCounters {
  return { hits: 0, misses: 0, bytesFromCache: 0, bytesFromStore: 0, bytesToStore: 0 };
}

/** The answer to one {@link PageSource.fetch}. */
export interface FetchedBody {
  /** The bytes asked for. */
  body: Readable;
  /**
   * For stores that cannot read a given version: checks, once all the bytes are in, that they
   * are still of the version asked for (fails with `ESTALE` otherwise). Nothing of the fetch is
   * cached unless it passes.
   */
  verify?: () => Promise<void>;
}

/** One version of one object, as the page cache reads it. */
export interface PageSource {
  /** Object identity (see `objectId`). */
  object: string;
  /** The version being read. */
  version: string;
  /** Its size in bytes. */
  size: number;
  /** Reads `length` bytes at `offset` of this version from the store (fails with `ESTALE` when the version is gone). */
  fetch(offset: number, length: number, signal?: AbortSignal): Promise<FetchedBody>;
  /** The mount's counters. */
  counters: CacheCounters;
  /** Its bytes are on the local disk already (a pending write): its pages are kept in memory only, never copied to the disk tier. */
  local?: boolean;
}

/** Options of one read. */
export interface PageReadOptions {
  readType: ReadType;
  signal?: AbortSignal;
  /**
   * The pages it fetches go to the disk tier even past the bound on disk writes on their way
   * (`load`, which waits for room before each batch instead, so that it does warm the disk).
   */
  warming?: boolean;
}

/**
 * One run of pages on its way from the store (or the shared tier): marked `dropped` when its
 * object is dropped meanwhile (a write, a removal), and then admits nothing. A store without
 * etags may name the new version as it named the old one (same size, an mtime to the second):
 * the bytes of the old one, arriving late, would otherwise be cached under the new one's name.
 */
interface RunMark {
  dropped: boolean;
}

/** How a run of pages is fetched: as the read asked, and the run's {@link RunMark}. */
type RunOptions = PageReadOptions & { run?: RunMark };

/**
 * What a failed page fetch throws: our own abort as it is; an SDK's abort that no signal of ours
 * fired (a dropped connection) as a temporary `EIO`; anything else as a {@link StrataError}.
 */
function fetchFailure(error: unknown, signal: AbortSignal | undefined): unknown {
  if (isAbortError(error) && signal?.aborted) return error;
  if (isAbortError(error)) return new StrataError('EIO', 'the store connection was aborted mid-body', { temporary: true, cause: sanitizeCause(error) });
  return toStrataError(error);
}

/** The page cache (see the module comment). */
export class PageCache {
  readonly counters = newCounters();
  readonly #flight = new SingleFlight<Buffer>();
  /** The runs of pages on their way, by object (see {@link RunMark}). */
  readonly #runsOf = new Map<string, Set<RunMark>>();
  /** The background disk writes on their way, by object: a drop waits for them, so none lands after it. */
  readonly #diskWritesOf = new Map<string, Set<Promise<unknown>>>();
  /** Bounds the bytes of those writes (their pages in memory, their temp files on disk). */
  readonly #diskWriting: DiskWriteBudget;
  readonly #pinned = new Set<string>();
  /** Objects some pinned page of which found no room (reported by `pin()`, see {@link takePinMisses}). */
  readonly #pinMisses = new Set<string>();
  /** Page buffers of pinned objects already written to the disk tier as pinned (since the pins last changed). */
  #pinnedOnDisk = new WeakSet<Buffer>();

  /** The shared (fleet-wide) tier, below disk, when configured. */
  shared: SharedTier | undefined;
  /** Whether an object's pages may go to the shared tier (not those of process-local stores). */
  shareable: (object: string) => boolean = () => true;
  /** Whether an object's pages may be cached at all (not those of a store no longer mounted, fetched by a read begun before). */
  cacheable: (object: string) => boolean = () => true;
  #diskTier: DiskTier | undefined;
  #diskOffUntil = 0;
  #diskWarned = false;

  constructor(
    readonly pageSize: number,
    readonly memory: MemoryTier,
    disk: DiskTier | undefined,
    /** Retries of a body that breaks off or comes up short. */
    private readonly retry: RetryPolicy = { attempts: 3, minDelay: 100, maxDelay: 2000 },
    /** Milliseconds a body may stall before it fails with `ETIMEDOUT`; none when undefined. */
    private readonly bodyTimeout?: number,
  ) {
    this.#diskTier = disk;
    this.#diskWriting = new DiskWriteBudget(disk ? diskWriteBytesFor(disk.capacity, pageSize) : 0);
  }

  /** The disk tier, unless it failed recently (then reads and writes skip it for a while). */
  get disk(): DiskTier | undefined {
    if (this.#diskOffUntil > 0 && Date.now() < this.#diskOffUntil) return undefined;
    return this.#diskTier;
  }

  /**
   * A disk-tier failure (full disk, unwritable or vanished dir, damaged index): the tier is
   * turned off for {@link DISK_COOL_DOWN_MS} with one warning, and reads go on from memory and
   * the store. It is tried again after the cool-down.
   */
  #diskFailed(error: unknown): void {
    this.#diskOffUntil = Date.now() + DISK_COOL_DOWN_MS;
    if (this.#diskWarned) return;
    this.#diskWarned = true;
    // The code and what failed (the disk cache dir names the cause: missing, not writable, full).
    const reason = error instanceof StrataError ? `${error.code}: ${error.detail}` : ((error as { code?: string })?.code ?? (error as Error)?.message ?? String(error));
    process.emitWarning(`stratafs: the disk cache failed (${reason}); it is skipped for ${DISK_COOL_DOWN_MS / 1000} s at a time while it keeps failing`, { code: 'STRATAFS_DISK_CACHE' });
  }

  /** The page-aligned range of the pages that `[offset, offset + length)` touches (`length` omitted: to the end). */
  span(offset: number, length?: number): ByteRange {
    const start = Math.floor(offset / this.pageSize) * this.pageSize;
    return length === undefined ? { offset: start } : { offset: start, length: Math.ceil((offset + length) / this.pageSize) * this.pageSize - start };
  }

  /** Number of pages of an object of `size` bytes. */
  pageCount(size: number): number {
    return Math.ceil(size / this.pageSize);
  }

  /** Length of page `index` of an object of `size` bytes. */
  pageLength(size: number, index: number): number {
    return Math.max(0, Math.min(this.pageSize, size - index * this.pageSize));
  }

  /** True when `object` is pinned (by itself or by a pinned directory prefix). */
  isPinned(object: string): boolean {
    const id = `${object}\n`;
    for (const prefix of this.#pinned) if (id.startsWith(prefix)) return true;
    return false;
  }

  /**
   * Copies bytes `[offset, offset + length)` of `src` into `target` at `targetOffset`; returns
   * the number of bytes copied (less than `length` only at the end of the object).
   */
  async readInto(src: PageSource, offset: number, length: number, target: Buffer, targetOffset: number, opts: PageReadOptions): Promise<number> {
    // The page buffers this read copies from are not recycled before it is done.
    const done = this.memory.pool.begin();
    try {
      return await this.#readInto(src, offset, length, target, targetOffset, opts);
    } finally {
      done();
    }
  }

  async #readInto(src: PageSource, offset: number, length: number, target: Buffer, targetOffset: number, opts: PageReadOptions): Promise<number> {
    const end = Math.min(src.size, offset + length);
    if (end <= offset) return 0;
    const first = Math.floor(offset / this.pageSize);
    const last = Math.floor((end - 1) / this.pageSize);
    const copy = (index: number, page: Buffer): void => {
      const pageStart = index * this.pageSize;
      const from = Math.max(offset, pageStart) - pageStart;
      const to = Math.min(end, pageStart + page.length) - pageStart;
      if (to > from) page.copy(target, targetOffset + pageStart + from - offset, from, to);
    };
    const missing: number[] = [];
    for (let index = first; index <= last; index++) {
      // A hit counts the bytes this read takes from the page, as a disk hit below does.
      const pageStart = index * this.pageSize;
      const page = this.#fromMemory(src, index, Math.min(end, pageStart + this.pageLength(src.size, index)) - Math.max(offset, pageStart));
      if (page) copy(index, page);
      else missing.push(index);
    }
    if (missing.length === 0) return end - offset;
    let remaining = missing;
    if (this.disk?.readManyInto && opts.readType !== 'CACHE_PROMOTE') {
      // Disk hits go straight into the caller's buffer: no page buffer is allocated. (Pages on
      // their way from the store are taken from that fetch below.)
      const reads = missing
        .filter((index) => !this.#flight.get(pageKey({ object: src.object, version: src.version, index })))
        .map((index) => {
          const pageStart = index * this.pageSize;
          const from = Math.max(offset, pageStart);
          const to = Math.min(end, pageStart + this.pageLength(src.size, index));
          return { index, id: { object: src.object, version: src.version, index }, target, targetOffset: targetOffset + from - offset, pageOffset: from - pageStart, length: to - from };
        });
      const got = reads.length === 0 ? [] : await this.disk.readManyInto(reads).catch((error: unknown) => {
        this.#diskFailed(error);
        return [];
      });
      const read = new Set<number>();
      reads.forEach((r, i) => {
        if (got[i] !== r.length) return;
        this.#hit(src, r.length);
        read.add(r.index);
      });
      remaining = missing.filter((index) => !read.has(index));
    }
    if (remaining.length > 0) {
      // Pages fetched here are copied out as each one completes (while the rest of the body is on
      // its way); the others (disk, other readers' fetches) once all are in.
      const copied = new Set<number>();
      const onPage = (i: number, page: Buffer): void => {
        // A fetch shared with other readers goes on after this one gave up: its buffer is the caller's again.
        if (opts.signal?.aborted) return;
        copy(remaining[i]!, page);
        copied.add(i);
      };
      const pages = await this.#load(src, remaining, opts, this.disk?.readManyInto !== undefined, onPage);
      remaining.forEach((index, i) => {
        if (!copied.has(i)) copy(index, pages[i]!);
      });
    }
    return end - offset;
  }

  /** The buffer of one page (shared with the cache: do not modify it). */
  page(src: PageSource, index: number, opts: PageReadOptions): Promise<Buffer> {
    return this.pages(src, index, 1, opts)[0]!;
  }

  /**
   * The buffers of pages `first … first + count - 1` (shared with the cache: do not modify
   * them), one promise each; the missing ones are fetched together, adjacent misses in one
   * ranged read. A memory hit counts the bytes of the page within `used` (default: all of them).
   */
  pages(src: PageSource, first: number, count: number, opts: PageReadOptions, used?: { offset: number; length: number }): Promise<Buffer>[] {
    // These buffers leave the cache (a stream hands them on): they are never recycled.
    const pool = this.memory.pool;
    const out: Promise<Buffer>[] = new Array(count);
    const missing: number[] = [];
    for (let k = 0; k < count; k++) {
      const pageStart = (first + k) * this.pageSize;
      const bytes = used && Math.max(0, Math.min(used.offset + used.length, pageStart + this.pageLength(src.size, first + k)) - Math.max(used.offset, pageStart));
      const hit = this.#fromMemory(src, first + k, bytes);
      if (hit) {
        pool.lend(hit);
        out[k] = Promise.resolve(hit);
      } else missing.push(first + k);
    }
    if (missing.length > 0) {
      const done = pool.begin();
      const loaded = this.#load(src, missing, opts).then(
        (pages) => {
          for (const page of pages) pool.lend(page);
          done();
          return pages;
        },
        (error: unknown) => {
          done();
          throw error;
        },
      );
      missing.forEach((index, i) => (out[index - first] = loaded.then((pages) => pages[i]!)));
    }
    return out;
  }

  /**
   * Makes pages `first … first + count - 1` cached, fetching the missing ones together (adjacent
   * misses in one ranged read), as `load()` warms a file; resolves the bytes of those pages.
   */
  async warm(src: PageSource, first: number, count: number, opts: PageReadOptions): Promise<number> {
    const done = this.memory.pool.begin();
    try {
      let bytes = 0;
      const missing: number[] = [];
      for (let index = first; index < first + count; index++) {
        const page = this.#fromMemory(src, index);
        if (page) bytes += page.length;
        else missing.push(index);
      }
      if (missing.length === 0) return bytes;
      // Room for this batch among the disk writes on their way first: its pages then all go to disk.
      if (this.disk && opts.readType !== 'NO_CACHE') await this.#diskWriting.room(missing.length * this.pageSize, opts.signal);
      for (const page of await this.#load(src, missing, { ...opts, warming: true })) bytes += page.length;
      return bytes;
    } finally {
      done();
    }
  }

  /**
   * Stores pages of freshly written data under its new version (write types that cache). With
   * `memoryOnly` (data the disk cache holds already, as a pending write) they are not copied to the disk tier.
   */
  admitWritten(object: string, version: string, data: Buffer, memoryOnly = false): void {
    const pinned = this.isPinned(object);
    for (let index = 0; index * this.pageSize < data.length; index++) {
      const page = data.subarray(index * this.pageSize, Math.min(data.length, (index + 1) * this.pageSize));
      const copy = this.memory.pool.take(page.length); // the caller's buffer stays theirs
      page.copy(copy);
      this.#admit({ object, version, index }, copy, { readType: 'CACHE' }, pinned, memoryOnly);
    }
  }

  /** Bytes of this version of the object held in any tier. */
  cachedBytes(object: string, version: string): number {
    const memory = this.memory.bytesOf(object, version);
    const disk = this.disk?.cachedBytes(object, version) ?? 0;
    return Math.max(memory, disk);
  }

  /** True when a tier holds some page of some version of `object` (the disk tier counts when unsure). */
  holdsObject(object: string): boolean {
    return this.memory.holdsObject(object) || (this.disk?.holdsObject?.(object) ?? this.disk !== undefined);
  }

  /** Drops the pages of an object (every version), or of every object below a directory when `prefix`. */
  async drop(object: string, opts: { prefix?: boolean; force?: boolean } = {}): Promise<void> {
    this.#dropRuns(object, opts.prefix);
    await this.#diskWritesSettled(object, opts.prefix);
    if (opts.prefix) this.memory.dropPrefix(object, opts.force);
    else this.memory.dropObject(object, opts.force);
    await this.disk?.drop(object, opts).catch((error: unknown) => this.#diskFailed(error));
  }

  /**
   * Marks the runs of pages of `object` (with `prefix`, of every object whose id starts with it)
   * on their way as dropped: they admit nothing, and later reads do not join them.
   */
  #dropRuns(object: string, prefix = false): void {
    for (const [of, runs] of this.#runsOf) {
      if (prefix ? !of.startsWith(object) : of !== object) continue;
      for (const run of runs) run.dropped = true;
      this.#flight.forgetPrefix(prefix ? of : `${of}\n`);
    }
  }

  /** Resolves once the pages of `object` on their way to the disk tier are written (or have failed). */
  async onDisk(object: string): Promise<void> {
    await this.#diskWritesSettled(object);
  }

  /** Resolves once the background disk writes of `object` (with `prefix`, of every object whose id starts with it) on their way have landed. */
  async #diskWritesSettled(object: string, prefix = false): Promise<void> {
    if (this.#diskWritesOf.size === 0) return;
    const writing = prefix ? [...this.#diskWritesOf].filter(([o]) => o.startsWith(object)).flatMap(([, w]) => [...w]) : [...(this.#diskWritesOf.get(object) ?? [])];
    if (writing.length > 0) await Promise.allSettled(writing);
  }

  /** Pins or unpins an object (or, with `prefix`, everything whose id starts with `object`). */
  async setPinned(object: string, pinned: boolean, opts: { prefix?: boolean } = {}): Promise<void> {
    await this.#diskWritesSettled(object, opts.prefix); // none lands after, pinned as it was before
    const key = opts.prefix ? object : `${object}\n`;
    this.#pinnedOnDisk = new WeakSet();
    if (pinned) this.#pinned.add(key);
    else {
      this.#pinned.delete(key);
      this.memory.unpinPrefix(key);
    }
    await this.disk?.setPinned(object, pinned, opts).catch((error: unknown) => this.#diskFailed(error));
  }

  /**
   * Moves the pins of `from` (with `prefix`, of every object whose id starts with it) to the same
   * names under `to`: a renamed file or directory stays pinned, and its old name is not.
   */
  async movePins(from: string, to: string, opts: { prefix?: boolean } = {}): Promise<void> {
    const key = opts.prefix ? from : `${from}\n`;
    const target = opts.prefix ? to : `${to}\n`;
    for (const rule of [...this.#pinned]) {
      if (opts.prefix ? !rule.startsWith(key) : rule !== key) continue;
      this.#pinned.delete(rule);
      this.#pinned.add(target + rule.slice(key.length));
    }
    this.#pinnedOnDisk = new WeakSet();
    await this.disk?.movePins?.(from, to, opts).catch((error: unknown) => this.#diskFailed(error));
  }

  /**
   * True when a pinned page of `object` (with `prefix`, of any object whose id starts with it)
   * found no room in the tier that keeps pins since the last call; forgets those.
   */
  takePinMisses(object: string, prefix = false): boolean {
    let missed = false;
    for (const miss of this.#pinMisses) {
      if (prefix ? miss.startsWith(object) : miss === object) {
        this.#pinMisses.delete(miss);
        missed = true;
      }
    }
    return missed;
  }

  /** Waits for background disk admissions. */
  async settle(): Promise<void> {
    while (this.#diskWritesOf.size > 0) await Promise.allSettled([...this.#diskWritesOf.values()].flatMap((writes) => [...writes]));
  }

  /** The page from the memory tier, counted as a hit of `bytes` (default: the whole page). */
  #fromMemory(src: PageSource, index: number, bytes?: number): Buffer | undefined {
    const key = pageKey({ object: src.object, version: src.version, index });
    const page = this.memory.get(key);
    if (page) {
      this.#hit(src, bytes ?? page.length);
      // A page cached before its file was pinned becomes pinned when next used (pin() loads
      // every page): in memory, or with a disk tier (where pins live), on disk.
      if (this.#pinned.size > 0 && this.isPinned(src.object)) this.#pinCached({ object: src.object, version: src.version, index }, key, page);
    }
    return page;
  }

  #pinCached(id: PageId, key: string, page: Buffer): void {
    const disk = this.disk;
    if (!disk) return this.#keepInMemory(id.object, key, page, true);
    if (this.#pinnedOnDisk.has(page)) return;
    this.#pinnedOnDisk.add(page);
    this.#diskWriting.tryTake(page.length, true);
    this.#putOnDisk(disk, id, page, true, this.memory.pool.begin());
  }

  /** Adds a page to the memory tier; a pinned one that does not fit is a pin miss (`pin()` reports `ENOSPC`). */
  #keepInMemory(object: string, key: string, page: Buffer, pinned: boolean): void {
    try {
      this.memory.set(key, page, pinned);
    } catch {
      this.#pinMisses.add(object); // only pinned pages throw: no room beside the other pinned pages
    }
  }

  #hit(src: PageSource, bytes: number): void {
    this.counters.hits++;
    src.counters.hits++;
    this.counters.bytesFromCache += bytes;
    src.counters.bytesFromCache += bytes;
  }

  /**
   * Pages `indexes` (ascending) from single-flight, disk, or the store. `onPage(i, page)` is told
   * of each page this call fetches from the store as soon as its bytes are in (again on a retry).
   */
  async #load(src: PageSource, indexes: number[], opts: PageReadOptions, diskChecked = false, onPage?: (i: number, page: Buffer) => void): Promise<Buffer[]> {
    throwIfAborted(opts.signal);
    const results: Promise<Buffer>[] = new Array(indexes.length);
    const toCheck: number[] = [];
    indexes.forEach((index, i) => {
      const running = this.#flight.join(pageKey({ object: src.object, version: src.version, index }), opts.signal);
      running?.catch(() => undefined); // observed by Promise.all below, after the awaits in between
      if (running) results[i] = running;
      else toCheck.push(i);
    });
    // Disk lookups for what is not in flight; then one store request per run of adjacent misses.
    const fromStore: number[] = [];
    if (this.disk && toCheck.length > 0 && !(diskChecked && opts.readType !== 'CACHE_PROMOTE')) {
      const found = await Promise.all(toCheck.map((i) => this.#fromDisk(src, indexes[i]!, opts)));
      toCheck.forEach((i, n) => {
        const page = found[n];
        if (page) results[i] = Promise.resolve(page);
        else fromStore.push(i);
      });
    } else fromStore.push(...toCheck);
    const shared = this.shared && this.shareable(src.object) ? this.shared : undefined;
    if (shared && fromStore.length > 0) {
      // The fleet's shared tier before the store.
      const found = await shared.getPages(fromStore.map((i) => ({ object: src.object, version: src.version, index: indexes[i]! })));
      const missing: number[] = [];
      fromStore.forEach((i, n) => {
        const page = found[n];
        if (page && page.length === this.pageLength(src.size, indexes[i]!)) {
          this.#hit(src, page.length);
          this.#admit({ object: src.object, version: src.version, index: indexes[i]! }, page, opts, this.isPinned(src.object), src.local);
          results[i] = Promise.resolve(page);
        } else missing.push(i);
      });
      fromStore.splice(0, fromStore.length, ...missing);
    }
    // Another reader may have started fetching some of these pages while we looked in the tiers.
    const toFetch = fromStore.filter((i) => {
      const running = this.#flight.join(pageKey({ object: src.object, version: src.version, index: indexes[i]! }), opts.signal);
      if (running) results[i] = running;
      return !running;
    });
    // With the shared tier on, runs stay small enough for fine-grained leases and publishing.
    const maxRun = shared ? Math.max(1, Math.floor(SHARED_RUN_BYTES / this.pageSize)) : Infinity;
    let runStart = 0;
    for (let n = 1; n <= toFetch.length; n++) {
      const contiguous = n < toFetch.length && indexes[toFetch[n]!] === indexes[toFetch[n - 1]!]! + 1 && n - runStart < maxRun;
      if (contiguous) continue;
      const pagesOfRun = toFetch.slice(runStart, n);
      const firstIndex = indexes[pagesOfRun[0]!]!;
      // Readers that join this fetch share it: it is aborted only once all of them gave up (never
      // when this reader cannot give up: then it runs without a signal).
      const joint = new SharedSignal();
      const run: RunMark = { dropped: false };
      const fetchOpts: RunOptions = { readType: opts.readType, signal: opts.signal ? joint.signal : undefined, warming: opts.warming, run };
      const fetched =
        shared && opts.readType !== 'NO_CACHE'
          ? this.#fetchShared(shared, src, firstIndex, pagesOfRun.length, fetchOpts)
          : this.#fetchRun(src, firstIndex, pagesOfRun.length, fetchOpts, onPage && ((k, page) => onPage(pagesOfRun[k]!, page)));
      this.#trackRun(src.object, run, fetched);
      pagesOfRun.forEach((i, k) => {
        const id = { object: src.object, version: src.version, index: firstIndex + k };
        const pagePromise = fetched.then((pages) => pages[k]!);
        this.#flight.set(pageKey(id), pagePromise, joint);
        results[i] = joint.hold(pagePromise, opts.signal);
      });
      runStart = n;
    }
    return Promise.all(results);
  }

  /** Knows `run` as on its way for `object` until `fetched` settles. */
  #trackRun(object: string, run: RunMark, fetched: Promise<unknown>): void {
    let runs = this.#runsOf.get(object);
    if (!runs) this.#runsOf.set(object, (runs = new Set()));
    runs.add(run);
    const done = (): void => {
      runs.delete(run);
      if (runs.size === 0 && this.#runsOf.get(object) === runs) this.#runsOf.delete(object);
    };
    fetched.then(done, done);
  }

  async #fromDisk(src: PageSource, index: number, opts: PageReadOptions): Promise<Buffer | undefined> {
    const id = { object: src.object, version: src.version, index };
    const page = await this.disk?.get(id).catch((error: unknown) => {
      this.#diskFailed(error);
      return undefined;
    });
    if (!page) return undefined;
    if (page.length !== this.pageLength(src.size, index)) return undefined;
    this.#hit(src, page.length);
    if (opts.readType === 'CACHE_PROMOTE') this.#keepInMemory(src.object, pageKey(id), page, this.isPinned(src.object) && !this.disk);
    return page;
  }

  /** One ranged store read for `count` pages from `firstIndex`, cut into page buffers and admitted. */
  async #fetchRun(src: PageSource, firstIndex: number, count: number, opts: RunOptions, onPage?: (k: number, page: Buffer) => void): Promise<Buffer[]> {
    const offset = firstIndex * this.pageSize;
    const length = Math.min(src.size, (firstIndex + count) * this.pageSize) - offset;
    this.counters.misses += count;
    src.counters.misses += count;
    const pages: Buffer[] = [];
    for (let k = 0; k < count; k++) pages.push(this.memory.pool.take(this.pageLength(src.size, firstIndex + k)));
    // A body that breaks off, stalls or comes up short is fetched again from the first byte that
    // did not come (the bytes in are of the version asked for: a store with conditional reads
    // refuses another, the others are checked once all bytes are in); nothing of a failed
    // attempt is cached unless the run completes. A failure to open the body is not retried
    // here: the store's retry layer already made the policy's attempts at that request.
    const progress = { received: 0 };
    for (let attempt = 1; ; attempt++) {
      const from = progress.received;
      const fetched = await src.fetch(offset + from, length - from, opts.signal).catch((error: unknown) => {
        throw fetchFailure(error, opts.signal);
      });
      try {
        await this.#fill(fetched, length, pages, progress, onPage);
        break;
      } catch (error) {
        const mapped = fetchFailure(error, opts.signal);
        if (!(mapped instanceof StrataError) || attempt >= this.retry.attempts || !isTemporary(mapped)) throw mapped;
        if (progress.received >= length) progress.received = 0; // more bytes than asked for: nothing of that answer is trusted
        await sleep(backoffDelay(this.retry, attempt), undefined, { signal: opts.signal });
      }
    }
    this.counters.bytesFromStore += length;
    src.counters.bytesFromStore += length;
    if (opts.readType !== 'NO_CACHE') {
      const pinned = this.isPinned(src.object);
      pages.forEach((page, k) => this.#admit({ object: src.object, version: src.version, index: firstIndex + k }, page, opts, pinned, src.local));
    }
    return pages;
  }

  /**
   * A run of pages with fleet-wide single-flight: each page is read from the store by one process
   * of the fleet, which shares it; the others take it from the shared tier (and admit it locally).
   */
  async #fetchShared(shared: SharedTier, src: PageSource, firstIndex: number, count: number, opts: RunOptions): Promise<Buffer[]> {
    const fetchedHere = new Array<boolean>(count).fill(false);
    const ids = Array.from({ length: count }, (_, k) => ({ object: src.object, version: src.version, index: firstIndex + k }));
    const pages = await shared.fetchOnce(
      ids,
      (start, n) => {
        fetchedHere.fill(true, start, start + n);
        return this.#fetchRun(src, firstIndex + start, n, opts);
      },
      opts.signal,
    );
    // Published pages are held by the shared tier's client until written: never recycled.
    for (const page of pages) this.memory.pool.lend(page);
    if (pages.length !== count || pages.some((page, k) => !fetchedHere[k] && page.length !== this.pageLength(src.size, firstIndex + k))) {
      return this.#fetchRun(src, firstIndex, count, opts); // never trust a short or odd page
    }
    const pinned = this.isPinned(src.object);
    pages.forEach((page, k) => {
      if (fetchedHere[k]) return; // admitted by its fetch
      this.#hit(src, page.length);
      this.#admit(ids[k]!, page, opts, pinned, src.local);
    });
    return pages;
  }

  /**
   * One store read of the bytes of a run of `length` bytes from `progress.received` on, into
   * `pages`; throws unless all of them came. `progress.received` counts the bytes in as they
   * come (a retry goes on from there). `onPage(k, page)` is told of each page once it is full.
   */
  async #fill(fetched: FetchedBody, length: number, pages: Buffer[], progress: { received: number }, onPage?: (k: number, page: Buffer) => void): Promise<void> {
    const { body: stream, verify } = fetched;
    const start = progress.received;
    let received = start;
    let idle: NodeJS.Timeout | undefined;
    let stalled = false;
    const stallError = (): StrataError => new StrataError('ETIMEDOUT', `store sent no data for ${this.bodyTimeout} ms`, { temporary: true });
    // A stall ends the wait for the next chunk at once: a body that takes its time to end once
    // destroyed (a stream over an async generator or a web stream, waiting on a chunk that never
    // comes) is not waited for. (Each wait has a promise of its own that the stall can reject: one
    // promise raced by every chunk would keep every chunk of the body alive until the body ends.)
    let cut: (error: StrataError) => void = () => undefined;
    // One timer for the whole body, pushed back by each chunk (refresh() allocates nothing).
    const arm = (): void => {
      if (this.bodyTimeout === undefined) return;
      if (idle) idle.refresh();
      else {
        idle = setTimeout(() => {
          stalled = true;
          cut(stallError());
          stream.destroy(stallError());
        }, this.bodyTimeout);
      }
    };
    const chunks = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    let step: Promise<IteratorResult<Buffer>> | undefined;
    try {
      arm();
      for (;;) {
        const current = (step = chunks.next());
        const next =
          this.bodyTimeout === undefined
            ? await current
            : await new Promise<IteratorResult<Buffer>>((resolve, reject) => {
                cut = reject;
                current.then(resolve, reject);
              });
        if (next.done) break;
        const chunk = next.value;
        arm();
        let pos = 0;
        while (pos < chunk.length) {
          if (received >= length) throw new StrataError('EIO', `store sent more than the ${length - start} bytes asked for`, { temporary: true });
          const k = Math.floor(received / this.pageSize);
          const inPage = received - k * this.pageSize;
          const n = Math.min(chunk.length - pos, pages[k]!.length - inPage);
          chunk.copy(pages[k]!, inPage, pos, pos + n);
          pos += n;
          received += n;
          progress.received = received;
          if (onPage && inPage + n === pages[k]!.length) onPage(k, pages[k]!);
        }
      }
    } catch (error) {
      // Some SDK streams rewrite the error they are destroyed with: report the stall as ours.
      throw stalled ? stallError() : error;
    } finally {
      clearTimeout(idle);
      stream.destroy();
      // The body's iterator is let go, not waited for (a stalled one may end late, or never).
      step?.catch(() => undefined);
      void chunks.return?.()?.catch(() => undefined);
    }
    // A short body from a store that cannot read a given version may be a newer, smaller version: ESTALE then.
    await verify?.();
    if (received !== length) throw new StrataError('EIO', `store sent ${received - start} of ${length - start} bytes (short body); nothing was cached`, { temporary: true });
  }

  /**
   * Adds a fetched or written page to the tiers. Past the bound on disk writes on their way it
   * goes to memory only, unless it is pinned or `opts.warming`; nothing of a run whose object was
   * dropped meanwhile (see {@link RunMark}).
   */
  #admit(id: PageId, page: Buffer, opts: Pick<RunOptions, 'readType' | 'warming' | 'run'>, pinned: boolean, memoryOnly = false): void {
    if (opts.readType === 'NO_CACHE' || opts.run?.dropped || !this.cacheable(id.object)) return;
    const disk = memoryOnly ? undefined : this.disk;
    const toDisk = disk !== undefined && this.#diskWriting.tryTake(page.length, pinned || opts.warming === true);
    // Begun before the page can be evicted: it is not recycled while it is being written.
    const written = toDisk && this.memory.pool.begin();
    this.#keepInMemory(id.object, pageKey(id), page, pinned && !this.disk);
    if (disk && written) this.#putOnDisk(disk, id, page, pinned, written);
  }

  /**
   * Writes a page to the disk tier in the background; `done` ends the pool guard begun for it.
   * Its bytes were taken from the disk write budget, and are given back once it has ended.
   */
  #putOnDisk(disk: DiskTier, id: PageId, page: Buffer, pinned: boolean, done: () => void): void {
    const write = disk.put(id, page, { pinned }).then(
      (stored) => {
        if (pinned && !stored) this.#pinMisses.add(id.object); // no room even after evicting: pin() reports ENOSPC
        return stored;
      },
      (error: unknown) => {
        this.#diskFailed(error);
        return false;
      },
    );
    let ofObject = this.#diskWritesOf.get(id.object);
    if (!ofObject) this.#diskWritesOf.set(id.object, (ofObject = new Set()));
    ofObject.add(write);
    void write.finally(() => {
      done();
      this.#diskWriting.release(page.length);
      ofObject.delete(write);
      if (ofObject.size === 0 && this.#diskWritesOf.get(id.object) === ofObject) this.#diskWritesOf.delete(id.object);
    });
  }
}
