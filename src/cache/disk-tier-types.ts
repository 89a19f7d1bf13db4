/**
 * The contract between the page cache and the disk tier / write-back journal.
 * @module
 */
import type { Readable } from 'node:stream';
import type { PageId } from './page-id.js';

/** Figures of a cache tier. */
export interface TierStats {
  used: number;
  capacity: number;
  pages: number;
}

/** One page read of {@link DiskTier.readManyInto}: `length` bytes from `pageOffset` of page `id` into `target` at `targetOffset`. */
export interface DiskRead {
  id: PageId;
  target: Buffer;
  targetOffset: number;
  pageOffset: number;
  length: number;
}

/** The local-disk page tier, shared safely by every process on the host that uses the same dir. */
export interface DiskTier {
  /** Byte capacity across all processes sharing the dir. */
  readonly capacity: number;
  /** The page, verified (length + checksum); `undefined` when missing or damaged (a damaged one is dropped). */
  get(id: PageId): Promise<Buffer | undefined>;
  /** Reads a page into `target` at `targetOffset`; returns bytes copied, or -1 when missing/damaged. */
  readInto?(id: PageId, target: Buffer, targetOffset: number, pageOffset: number, length: number): Promise<number>;
  /** Several {@link readInto}s at once (their pages looked up together); what each returns, in order. */
  readManyInto?(reads: readonly DiskRead[]): Promise<number[]>;
  /** Stores a page (temp file + rename), evicting LRU unpinned pages; false when it cannot fit. */
  put(id: PageId, data: Buffer, opts?: { pinned?: boolean }): Promise<boolean>;
  /** Bytes held for this version of this object. */
  cachedBytes(object: string, version: string): number;
  /** True when some page of some version of `object` is held (errs on `true` when unsure). */
  holdsObject?(object: string): boolean;
  /** Drops every page of the object (all versions), or of every object whose id starts with `objectPrefix` when `prefix`. Pinned pages stay unless `force`. */
  drop(object: string, opts?: { prefix?: boolean; force?: boolean }): Promise<void>;
  /** Marks the object's pages (all versions present and future) as pinned or not. */
  setPinned(object: string, pinned: boolean, opts?: { prefix?: boolean }): Promise<void>;
  /** Moves the pins of `from` (with `prefix`, of every object whose id starts with it) to the same names under `to` (a rename). Optional. */
  movePins?(from: string, to: string, opts?: { prefix?: boolean }): Promise<void>;
  /** Figures. */
  stats(): TierStats;
  /** Persists the index and releases handles. */
  close(): Promise<void>;
}

/** A write kept in the disk cache until it reaches the store (`ASYNC_THROUGH`, `MUST_CACHE`). */
export interface PendingWrite {
  /** Journal id. */
  id: string;
  /** The mount's cache id (store URI) the write belongs to. */
  cacheId: string;
  /** Object key in that store. */
  key: string;
  /** Bytes. */
  size: number;
  /** When it was written. */
  mtime: Date;
  /** `'ASYNC_THROUGH'` uploads in the background; `'MUST_CACHE'` waits for `persist`. */
  mode: 'ASYNC_THROUGH' | 'MUST_CACHE';
  /** Its place in the journal: a write recorded later has a larger one (absent where the journal does not tell). */
  seq?: number;
}

/**
 * What a {@link WriteJournal.claim} found: `'claimed'` (this journal uploads it now), `'gone'`
 * (uploaded or dropped meanwhile), `'held'` (another owner uploads it), `'superseded'` (a newer
 * write of its key is pending and no other owner holds it: it is to be dropped, not uploaded),
 * `'waiting'` (another owner uploads an older write of its key: that one must land first, so
 * the store never ends with the older one).
 */
export type ClaimOutcome = 'claimed' | 'gone' | 'held' | 'superseded' | 'waiting';

/**
 * The durable write-back journal in the disk cache dir: data files + records, fsynced before a
 * write is acknowledged, so a crash loses nothing acknowledged. Shared by processes on the dir.
 */
export interface WriteJournal {
  /**
   * Stores the data (a Buffer, or a stream written as it comes) and its record durably; resolves
   * when both are fsynced. `ENOSPC` when it cannot fit; an error of the stream or an abort of
   * `signal` leaves nothing behind.
   */
  stage(cacheId: string, key: string, data: Buffer | AsyncIterable<Uint8Array>, mode: PendingWrite['mode'], signal?: AbortSignal): Promise<PendingWrite>;
  /** The newest pending write of that key, if any. */
  find(cacheId: string, key: string): PendingWrite | undefined;
  /**
   * Every pending write (of one cache id when given), oldest first. `fresh`: read from the
   * journal itself where a view of it is cached, for a change that must not miss a pending
   * write another process made a moment ago.
   */
  list(cacheId?: string, fresh?: boolean): PendingWrite[];
  /** Reads `length` bytes at `offset` of a pending write's data. */
  read(id: string, offset: number, length: number): Promise<Buffer>;
  /** A pending write's whole data as a stream that fails with `EIO`, before its end, when the data is damaged. */
  readStream(id: string): Promise<Readable>;
  /** Claims a pending write for upload by this journal (see {@link ClaimOutcome}). */
  claim(id: string): ClaimOutcome;
  /**
   * Claims every pending write of a key at once, for a change of the file made in the store
   * itself: their ids, or `undefined` while another process holds one (its upload lands first).
   * With `below`, the pending writes of the keys below `key` (a directory) too.
   */
  claimKey(cacheId: string, key: string, below?: boolean): string[] | undefined;
  /** Releases a claim without completing (upload failed; another try later). */
  release(id: string): void;
  /** Keeps this journal's claim on a pending write live while its upload runs (renews its lease); the returned function stops that. */
  holdClaim(id: string): () => void;
  /** Removes the record and its data once the store has it. Newer writes of the same key stay. */
  complete(id: string): Promise<void>;
  /**
   * Gives a pending write another key in one durable step, dropping the other pending writes of
   * its old key and of the new one; its data is not copied. `ENOENT` when it is no longer pending.
   */
  move(id: string, cacheId: string, key: string): Promise<PendingWrite>;
  /** Drops pending writes of a key (it was deleted or overwritten through the store). */
  discard(cacheId: string, key: string): Promise<void>;
  /**
   * A mark that changes whenever the journal may have been changed other than through this
   * object (by another process on the dir, say); `undefined` when that cannot be told. A view
   * of the journal that follows this object's own changes is current while the mark stays.
   */
  changeMark?(): number | undefined;
}
