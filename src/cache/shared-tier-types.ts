/**
 * The contract between the page cache / facade and the shared (fleet-wide) tier.
 * @module
 */
import type { ObjectInfo } from '../store/under-store.js';
import type { PageId } from './page-id.js';

/** Figures of the shared (Redis) tier: `stats().shared`. */
export interface SharedTierStats {
  /** Pages served from Redis (lookups and single-flight waits). */
  hits: number;
  /** Pages looked up and not found. */
  misses: number;
  /** Page bytes read from Redis. */
  bytesIn: number;
  /** Page bytes written to Redis. */
  bytesOut: number;
  /** Failed or timed-out Redis round trips. */
  errors: number;
  /** False while the breaker skips Redis. */
  available: boolean;
  /** Single-flight leases won (this process fetched from the store for the fleet). */
  leadFetches: number;
  /** Single-flight runs answered by another process' fetch. */
  waitHits: number;
  /** Single-flight runs fetched by this process without the lease (wait over, Redis skipped). */
  fallbacks: number;
  /** Pages not written (over `maxPageBytes`, over `maxPendingBytes`, or Redis skipped). */
  dropped: number;
  /**
   * Page values found in Redis that were not an intact page stratafs wrote (another program's
   * data under the key prefix, an older format, damaged bytes): never served, counted as misses
   * too, and dropped from Redis.
   */
  rejected: number;
  /** Metadata (`stat`, listings) in Redis. */
  metadata: {
    /** Answers served from Redis. */
    hits: number;
    /** Answers not there, or too old. */
    misses: number;
  };
  /** Invalidations of changed files between instances. */
  invalidations: {
    /** Sent to the other instances. */
    published: number;
    /** Received from other instances. */
    received: number;
  };
}

/** An invalidation published by one instance and received by all others. */
export interface Invalidation {
  /** The mount's cache id (store URI). */
  cacheId: string;
  /** The store key that changed. */
  key: string;
  /** Everything below `key` changed too (recursive delete, directory rename). */
  recursive: boolean;
}

/**
 * A cache tier shared by many processes and hosts (Redis). Below memory and disk: a local miss
 * asks it before the store. Every method degrades gracefully: when the backend is down or slow
 * it answers "miss" / does nothing (circuit breaker), never throws into a read.
 */
export interface SharedTier {
  /** The pages that are there (`undefined` for misses), in the order asked. */
  getPages(ids: PageId[]): Promise<(Buffer | undefined)[]>;
  /** Stores pages in the background (pipelined, with the configured TTL). */
  putPages(pages: { id: PageId; data: Buffer }[]): void;
  /**
   * Fleet-wide single-flight for one run of pages: for the pages whose lease this process wins
   * it runs `fetch(start, count)` (which reads pages `[start, start + count)` of `ids` from the
   * store) and publishes them; for the others it waits (bounded) for the process that fetches
   * them, falling back to `fetch` when they do not appear (or when `signal` aborts the wait).
   */
  fetchOnce(ids: PageId[], fetch: (start: number, count: number) => Promise<Buffer[]>, signal?: AbortSignal): Promise<Buffer[]>;
  /** A shared stat answer younger than `maxAgeMs` (`null`: known missing), else `undefined`. */
  getStat(cacheId: string, key: string, maxAgeMs: number): Promise<ObjectInfo | null | undefined>;
  /** Shares a stat answer (with its time). */
  setStat(cacheId: string, key: string, info: ObjectInfo | null): void;
  /** Like `getStat`, with the answer's age in ms (so a local copy can expire with it). Optional. */
  getStatEntry?(cacheId: string, key: string, maxAgeMs: number): Promise<{ value: ObjectInfo | null; ageMs: number } | undefined>;
  /** A shared listing of directory `key` younger than `maxAgeMs`, else `undefined`. Optional. */
  getList?(cacheId: string, key: string, maxAgeMs: number): Promise<ObjectInfo[] | undefined>;
  /** Like `getList`, with the answer's age in ms. Optional. */
  getListEntry?(cacheId: string, key: string, maxAgeMs: number): Promise<{ value: ObjectInfo[]; ageMs: number } | undefined>;
  /** Shares a directory listing (with its time). Optional. */
  setList?(cacheId: string, key: string, children: ObjectInfo[]): void;
  /** Waits for the background writes and publications issued so far. Optional. */
  settle?(): Promise<void>;
  /** Tells every instance that `key` (and below, when recursive) changed. */
  publish(invalidation: Invalidation): void;
  /**
   * Retires the shared metadata `invalidation` affects, as `publish` does, without telling the
   * other instances (for a change seen through another mount of the store). Optional.
   */
  forget?(invalidation: Invalidation): void;
  /** Registers the handler for invalidations from other instances. */
  onInvalidation(handler: (invalidation: Invalidation) => void): void;
  /** Figures of the tier. */
  stats(): SharedTierStats;
  /** Closes connections. */
  close(): Promise<void>;
}
