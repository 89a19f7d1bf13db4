/**
 * The public option and result types of {@link StrataFS}, and their validation.
 * @module
 */
import { invalid, throwIfAborted } from './errors.js';
import { describe } from './path.js';
import { parseSize, type Bytes, type Milliseconds, type SizeLike } from './size.js';
import type { UnderStore } from './store/under-store.js';
import type { SharedTierOptions } from './cache/shared/options.js';
import type { SharedTierStats } from './cache/shared-tier-types.js';

/** How reads use the cache (as in Alluxio). */
export const READ_TYPES = ['CACHE', 'CACHE_PROMOTE', 'NO_CACHE'] as const;
/**
 * - `'CACHE'` (default): caches what it reads, in memory and on disk.
 * - `'CACHE_PROMOTE'`: like `CACHE`, and a page found on disk is also moved up to memory.
 * - `'NO_CACHE'`: serves from the cache when the page is there, never adds to it.
 */
export type ReadType = (typeof READ_TYPES)[number];

/** How writes use the cache and the store (as in Alluxio). */
export const WRITE_TYPES = ['CACHE_THROUGH', 'THROUGH', 'MUST_CACHE', 'ASYNC_THROUGH'] as const;
/**
 * - `'CACHE_THROUGH'` (default): writes to the store, then caches the data.
 * - `'THROUGH'`: writes to the store only.
 * - `'MUST_CACHE'`: keeps the data in the disk cache only, never evicted, `ENOSPC` when it does
 *   not fit; not in the store until `persist`. Needs `cache.disk`.
 * - `'ASYNC_THROUGH'`: returns once the data is durable in the disk cache and uploads it in the
 *   background; survives a crash (the next `StrataFS` on the same `cache.disk.dir` uploads it).
 *   Needs `cache.disk`.
 */
export type WriteType = (typeof WRITE_TYPES)[number];

/** Options of `new StrataFS(options)`. Every field is optional. */
export interface StrataOptions {
  /** The page cache. */
  cache?: {
    /** Page size in bytes or a size string. Default `'1MiB'`. Trap: very small pages mean many store requests per read. */
    pageSize?: SizeLike;
    /**
     * The in-process memory tier: `{ capacity }` (default `'256MiB'`), or `false` to turn it off.
     * Page memory it lets go of is kept for reuse, up to a quarter of `capacity` (at most 64 MiB).
     */
    memory?: {
      /**
       * Bytes of pages the memory tier holds, in bytes or a size string. Default `'256MiB'`. Pinned pages count against it.
       * A page shorter than 1 KiB (a small file's) counts as 1 KiB: keeping a page costs memory besides its bytes.
       */
      capacity?: SizeLike;
    } | false;
    /**
     * The local-disk tier, off unless given: `{ dir, capacity }` (capacity default `'10GiB'`).
     * Survives restarts and may be shared by several processes on one host.
     */
    disk?: {
      /** Directory of the disk cache, created when missing. Every process on the host that gives the same `dir` shares it. */
      dir: string;
      /**
       * Bytes the directory may hold across every process sharing it (pages and pending writes), in
       * bytes or a size string. Default `'10GiB'`; at least one page.
       */
      capacity?: SizeLike;
    };
    /**
     * A third tier shared by every process and host of a fleet, on Redis (or Redis Cluster /
     * Valkey): `{ url | client, keyPrefix?, pageTtl?, maxPageBytes?, … }`. Off unless given; needs
     * the optional `ioredis` package. Redis down or slow never fails a read (the tier is skipped
     * with one warning). See the shared-cache guide.
     */
    shared?: SharedTierOptions;
  };
  /** Metadata cache. */
  metadata?: {
    /**
     * Milliseconds a `stat`/`readdir` answer from the store is reused without asking again.
     * Default `60_000`. `0` asks every time; `-1` never asks again until invalidated. Writes
     * through stratafs update it at once; changes made by others are seen only after it.
     */
    syncInterval?: Milliseconds;
    /**
     * Answers (`stat`s, listings) each mount keeps at most. Default `1_000_000`. Past it, the
     * oldest are dropped first; the next lookup of a dropped path asks the store. It bounds the
     * cache with `syncInterval: -1`, whose answers never expire.
     */
    maxEntries?: number;
  };
  /** Default read type. Default `'CACHE'`. */
  readType?: ReadType;
  /** Default write type. Default `'CACHE_THROUGH'`. */
  writeType?: WriteType;
  /** Retries of transient store errors (throttling, 5xx, resets): default `{ attempts: 3, minDelay: 100, maxDelay: 2000 }`. */
  retry?: {
    /** Tries in all, the first included: `1` never retries. Default `3`, at most `100`. */
    attempts?: number;
    /**
     * Milliseconds of the first retry's backoff; the ceiling doubles at each retry up to `maxDelay`,
     * and each wait is random below it (at least half of `minDelay`). Default `100`.
     */
    minDelay?: Milliseconds;
    /** Milliseconds of the longest wait between two tries. Default `2000`; not below `minDelay`. */
    maxDelay?: Milliseconds;
  };
  /**
   * Milliseconds one store request may take before it fails with `ETIMEDOUT`, and the longest a
   * response body may stall. Default: no limit per request; a body that stalls for 30 s fails
   * (and is retried) even then, since some SDKs never report a connection dropped mid-body.
   * A write of a stream (`createWriteStream`, `writeFile` of a Readable, a large background
   * upload) is timed by its progress: it fails when the store takes none of its bytes (or does
   * not commit them) for this long, not while it waits for the writer, however long it lasts.
   */
  timeout?: Milliseconds;
}

/** Options of `fs.mount(path, store, options)`. */
export interface MountOptions {
  /** Writes to this mount fail with `EROFS`. Default `false`. */
  readOnly?: boolean;
  /** Read type for this mount (overrides `StrataOptions.readType`). */
  readType?: ReadType;
  /** Write type for this mount (overrides `StrataOptions.writeType`). */
  writeType?: WriteType;
  /** Metadata sync interval for this mount in ms (overrides `metadata.syncInterval`). */
  syncInterval?: Milliseconds;
  /** The connector's settings (region, endpoint, credentials…), used when `store` is a URI. */
  options?: Record<string, unknown>;
}

/** What `fs.mounts()` reports about a mount; secrets are replaced by `'***'`. */
export interface MountInfo {
  /** The mount point. */
  path: string;
  /** The store's URI. */
  uri: string;
  /** Whether writes are refused. */
  readOnly: boolean;
  /** The mount options, connector settings with secrets replaced. */
  options: {
    /** The mount's own read type; `undefined` when it uses `StrataOptions.readType`. */
    readType?: ReadType;
    /** The mount's own write type; `undefined` when it uses `StrataOptions.writeType`. */
    writeType?: WriteType;
    /** The mount's own metadata sync interval in ms; `undefined` when it uses `metadata.syncInterval`. */
    syncInterval?: Milliseconds;
    /** The connector settings given at mount; secret-looking values are `'***'`, objects such as clients `'[object]'`. */
    options: Record<string, unknown>;
  };
}

/** Options of `readFile`. */
export interface ReadFileOptions {
  /** First byte to read. Default 0. */
  offset?: number;
  /** Bytes to read from `offset` (fewer at the end of the file). Default: to the end. */
  length?: number;
  /** How the pages read are cached. Default: the StrataFS's `readType`. */
  readType?: ReadType;
  /** Decode the bytes to a string in this encoding (`'utf8'`…); `null` or none: a Buffer. */
  encoding?: BufferEncoding | null;
  /** The `fs` open flag: only `'r'` (a read), taken so that `fs.readFile` options carry over. */
  flag?: 'r';
  /** Aborts the read. */
  signal?: AbortSignal;
}

/** Options of `readdir`. */
export interface ReaddirOptions {
  /** Every descendant, as paths relative to the directory. Default `false`. */
  recursive?: boolean;
  /** {@link FileInfo}s instead of names. */
  withInfo?: boolean;
  /** `Dirent`-like entries (`StrataDirent`) instead of names, as `fs.promises.readdir` gives them. */
  withFileTypes?: boolean;
  /** The encoding of the names, as `fs` takes it: `'utf8'` (the only one); `null` or none: the same. */
  encoding?: 'utf8' | 'utf-8' | null;
  /** Aborts the listing. */
  signal?: AbortSignal;
}

/** `EINVAL` unless `encoding` (of `readdir`'s names) is absent, `null` or UTF-8. */
export function checkNameEncoding(encoding: unknown): void {
  if (encoding !== undefined && encoding !== null && encoding !== 'utf8' && encoding !== 'utf-8') {
    throw invalid(`readdir gives names as UTF-8 strings only: encoding must be 'utf8', got ${flagText(encoding)}`);
  }
}

/** Options of `writeFile`. */
export interface WriteFileOptions {
  /** Cache and store order of this write. Default: the mount's, else the StrataFS's `writeType`. */
  writeType?: WriteType;
  /** `false`: fail with `EEXIST` when the file exists. Default `true`. */
  overwrite?: boolean;
  /** The encoding of string data. Default `'utf8'`. */
  encoding?: BufferEncoding;
  /** The `fs` open flag, as `fs.writeFile` takes it: `'w'` replaces the file, `'wx'` fails with `EEXIST` when it exists (`overwrite: false`). Appending and in-place updates (`'a'`, `'r+'`…) are `EINVAL`: a write replaces the whole file. */
  flag?: WriteFlag;
  /** Aborts the write (the previous file, or nothing, stays). */
  signal?: AbortSignal;
}

/** The `fs` open flags a whole-file write takes: `'w'` (replace) and `'wx'` / `'xw'` (create only). */
export type WriteFlag = 'w' | 'wx' | 'xw';

/** `EINVAL` unless `flag` (an `fs` open flag of a whole-file read) is absent or `'r'`. */
export function checkReadFlag(flag: unknown): void {
  if (flag !== undefined && flag !== 'r') throw invalid(`flag must be 'r' (a read), got ${flagText(flag)}`);
}

/** A flag as an error message shows it: its text (a flag is no secret), else its type. */
function flagText(flag: unknown): string {
  return typeof flag === 'string' ? JSON.stringify(flag) : describe(flag);
}

/**
 * What an `fs` open flag of a whole-file write means for `overwrite`: `'w'` true, `'wx'` and
 * `'xw'` false; absent, `overwrite` as given. `EINVAL` for any other flag (appending and in-place
 * updates: a write replaces the whole file), and when `overwrite` says otherwise than the flag.
 */
export function overwriteOfFlag(flag: unknown, overwrite: boolean | undefined, what = 'flag'): boolean | undefined {
  if (flag === undefined) return overwrite;
  if (flag !== 'w' && flag !== 'wx' && flag !== 'xw') throw invalid(`${what} must be 'w' or 'wx' (a write replaces the whole file: no append or in-place update), got ${flagText(flag)}`);
  const replaces = flag === 'w';
  if (overwrite !== undefined && overwrite !== replaces) throw invalid(`${what} '${flag}' and overwrite: ${overwrite} disagree`);
  return replaces;
}

/** A file or directory as `stat`/`readdir` report it. */
export interface FileInfo {
  /** Logical path. */
  path: string;
  /** Last component of the path (`''` for `/`). */
  name: string;
  /** `'file'` or `'directory'`. */
  type: 'file' | 'directory';
  /** Size in bytes (0 for directories). */
  size: number;
  /** Last modification time, when the store knows it. */
  mtime: Date | undefined;
  /** The store's version tag, when it has one. */
  etag: string | undefined;
  /** The mount point the path belongs to (`'/'` for the synthetic root). */
  mount: string;
  /** Bytes of this file currently in the cache (memory or disk). */
  cached: number;
}

/** Figures of `fs.stats()`. */
export interface StrataStats {
  /** Page lookups served from a cache tier. */
  hits: number;
  /** Page lookups that went to the store. */
  misses: number;
  /** Bytes served from the cache. */
  bytesFromCache: number;
  /** Bytes read from stores. */
  bytesFromStore: number;
  /** Bytes written to stores. */
  bytesToStore: number;
  /** Store requests by operation (`stat`, `list`, `read`, `write`, `delete`, `copy`, `rename`). */
  storeRequests: Record<string, number>;
  /**
   * The memory tier; `pooled`: bytes of released page memory kept for reuse (beside `used`),
   * `reused`: pages filled into reused memory instead of new memory, since the start.
   */
  memory: {
    /** Bytes of pages held now, pinned pages included (a page shorter than 1 KiB counts as 1 KiB, as against the capacity). */
    used: number;
    /** `cache.memory.capacity` in bytes; `0` when the tier is off. */
    capacity: number;
    /** Pages held now, pinned pages included. */
    pages: number;
    /** Bytes of released page memory kept for reuse, not counted in `used`. */
    pooled: number;
    /** Pages filled into reused memory instead of new memory, since the start. */
    reused: number;
  };
  /** The disk tier, when configured. */
  disk: {
    /** Bytes in the cache dir now, pages and pending writes, of every process sharing it. */
    used: number;
    /** `cache.disk.capacity` in bytes. */
    capacity: number;
    /** Pages in the cache dir now, of every process sharing it. */
    pages: number;
  } | undefined;
  /**
   * Metadata cache lookups, and `entries`: the `stat` answers (missing paths included), listings
   * and marks it holds. Answers older than `syncInterval` are dropped as it grows, so `entries`
   * stays near what was looked up within one `syncInterval` (with `-1`, what was looked up since
   * the last invalidation).
   */
  metadata: {
    /** `stat` and listing lookups answered from the cache, since the start. */
    hits: number;
    /** Lookups that had to ask the store (or the shared tier), since the start. */
    misses: number;
    /** Answers and marks held now, across every mount. */
    entries: number;
  };
  /** `ASYNC_THROUGH`/`MUST_CACHE` writes not yet in the store. */
  pendingWrites: number;
  /** The shared (Redis) tier, when configured: its page and metadata hits, bytes, errors, single-flight figures, whether Redis answers. */
  shared?: SharedTierStats;
  /** The same figures per mount point. */
  mounts: Record<
    string,
    {
      /** Page lookups of this mount served from a cache tier. */
      hits: number;
      /** Page lookups of this mount that went to its store. */
      misses: number;
      /** Bytes of this mount served from the cache. */
      bytesFromCache: number;
      /** Bytes read from this mount's store. */
      bytesFromStore: number;
      /** Bytes written to this mount's store. */
      bytesToStore: number;
    }
  >;
}

/** Options after validation, with defaults filled in. */
export interface ResolvedOptions {
  pageSize: Bytes;
  memoryCapacity: Bytes;
  disk: { dir: string; capacity: Bytes } | undefined;
  shared: SharedTierOptions | undefined;
  syncInterval: Milliseconds;
  metadataMaxEntries: number;
  readType: ReadType;
  writeType: WriteType;
  retry: { attempts: number; minDelay: Milliseconds; maxDelay: Milliseconds };
  timeout: Milliseconds | undefined;
}

/** Throws `EINVAL` naming the first key of `value` not in `allowed`. */
export function checkKeys(value: object, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw invalid(`unknown ${what} option '${key}' (known: ${allowed.join(', ')})`);
  }
}

/** Throws `EINVAL` unless `value` is a plain object (or undefined when `optional`). */
export function checkObject(value: unknown, what: string): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${what} must be an object, got ${describe(value)}`);
}

/** Validates a read type. */
export function checkReadType(value: unknown, what = 'readType'): ReadType | undefined {
  if (value === undefined) return undefined;
  if (!(READ_TYPES as readonly unknown[]).includes(value)) throw invalid(`${what} must be one of ${READ_TYPES.join(', ')}, got ${describe(value)}`);
  return value as ReadType;
}

/** Validates a write type. */
export function checkWriteType(value: unknown, what = 'writeType'): WriteType | undefined {
  if (value === undefined) return undefined;
  if (!(WRITE_TYPES as readonly unknown[]).includes(value)) throw invalid(`${what} must be one of ${WRITE_TYPES.join(', ')}, got ${describe(value)}`);
  return value as WriteType;
}

/** Validates a number of milliseconds (integer, within `min`..`max`). */
export function checkMillis(value: unknown, what: string, min = 0, max = 2 ** 31 - 1): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw invalid(`${what} must be an integer between ${min} and ${max} ms, got ${describe(value)}`);
  return value;
}

/** Validates a boolean option. */
export function checkBoolean(value: unknown, what: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalid(`${what} must be a boolean, got ${describe(value)}`);
  return value;
}

/** Validates `StrataOptions` and fills in defaults. Throws `EINVAL` with what was wrong. */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (options === undefined) options = {};
  checkObject(options, 'options');
  checkKeys(options, ['cache', 'metadata', 'readType', 'writeType', 'retry', 'timeout'], 'StrataFS');
  const cache = options.cache ?? {};
  checkObject(cache, 'options.cache');
  checkKeys(cache, ['pageSize', 'memory', 'disk', 'shared'], 'cache');
  const pageSize = cache.pageSize === undefined ? 1024 * 1024 : parseSize(cache.pageSize, 'cache.pageSize');
  if (pageSize < 4096 || pageSize > 64 * 1024 * 1024) throw invalid(`cache.pageSize must be between 4KiB and 64MiB, got ${pageSize}`);
  let memoryCapacity = 256 * 1024 * 1024;
  if (cache.memory === false) memoryCapacity = 0;
  else if (cache.memory !== undefined) {
    checkObject(cache.memory, 'cache.memory');
    checkKeys(cache.memory, ['capacity'], 'cache.memory');
    if (cache.memory.capacity !== undefined) memoryCapacity = parseSize(cache.memory.capacity, 'cache.memory.capacity');
  }
  let disk: ResolvedOptions['disk'];
  if (cache.disk !== undefined) {
    checkObject(cache.disk, 'cache.disk');
    checkKeys(cache.disk, ['dir', 'capacity'], 'cache.disk');
    if (typeof cache.disk.dir !== 'string' || cache.disk.dir === '' || cache.disk.dir.includes('\0')) throw invalid('cache.disk.dir must be a non-empty directory path');
    const capacity = cache.disk.capacity === undefined ? 10 * 1024 ** 3 : parseSize(cache.disk.capacity, 'cache.disk.capacity');
    if (capacity < pageSize) throw invalid(`cache.disk.capacity (${capacity}) must hold at least one page (${pageSize})`);
    disk = { dir: cache.disk.dir, capacity };
  }
  let shared: SharedTierOptions | undefined;
  if (cache.shared !== undefined) {
    checkObject(cache.shared, 'cache.shared');
    shared = cache.shared as SharedTierOptions; // checked in full when the tier opens
  }
  const metadata = options.metadata ?? {};
  checkObject(metadata, 'options.metadata');
  checkKeys(metadata, ['syncInterval', 'maxEntries'], 'metadata');
  const syncInterval = checkMillis(metadata.syncInterval, 'metadata.syncInterval', -1) ?? 60_000;
  const metadataMaxEntries = metadata.maxEntries ?? 1_000_000;
  if (typeof metadataMaxEntries !== 'number' || !Number.isSafeInteger(metadataMaxEntries) || metadataMaxEntries < 1) {
    throw invalid(`metadata.maxEntries must be a positive integer, got ${describe(metadataMaxEntries)}`);
  }
  const retryIn = options.retry ?? {};
  checkObject(retryIn, 'options.retry');
  checkKeys(retryIn, ['attempts', 'minDelay', 'maxDelay'], 'retry');
  const attempts = retryIn.attempts ?? 3;
  if (typeof attempts !== 'number' || !Number.isInteger(attempts) || attempts < 1 || attempts > 100) throw invalid(`retry.attempts must be an integer from 1 to 100, got ${describe(attempts)}`);
  const retry = {
    attempts,
    minDelay: checkMillis(retryIn.minDelay, 'retry.minDelay') ?? 100,
    maxDelay: checkMillis(retryIn.maxDelay, 'retry.maxDelay') ?? 2000,
  };
  if (retry.maxDelay < retry.minDelay) throw invalid('retry.maxDelay must not be smaller than retry.minDelay');
  const timeout = checkMillis(options.timeout, 'timeout', 1);
  return {
    pageSize,
    memoryCapacity,
    disk,
    shared,
    syncInterval,
    metadataMaxEntries,
    readType: checkReadType(options.readType) ?? 'CACHE',
    writeType: checkWriteType(options.writeType) ?? 'CACHE_THROUGH',
    retry,
    timeout,
  };
}

/** The validated `MountOptions`. */
export interface ResolvedMountOptions {
  readOnly: boolean;
  readType?: ReadType;
  writeType?: WriteType;
  syncInterval?: Milliseconds;
  options: Record<string, unknown>;
}

/** Validates `MountOptions`. */
export function resolveMountOptions(options: unknown): ResolvedMountOptions {
  if (options === undefined) return { readOnly: false, options: {} };
  checkObject(options, 'mount options');
  checkKeys(options, ['readOnly', 'readType', 'writeType', 'syncInterval', 'options'], 'mount');
  const settings = options.options ?? {};
  checkObject(settings, 'mount options.options');
  return {
    readOnly: checkBoolean(options.readOnly, 'readOnly') ?? false,
    readType: checkReadType(options.readType),
    writeType: checkWriteType(options.writeType),
    syncInterval: checkMillis(options.syncInterval, 'syncInterval', -1),
    options: settings,
  };
}

const SECRET_NAME = /secret|password|passwd|token|sas|key$|accountkey|connectionstring|credential|signature|auth/i;

/** A copy of connector settings safe to show: secret-looking values become `'***'`, clients `'[object]'`. */
export function publicSettings(settings: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(settings)) {
    if (SECRET_NAME.test(name) && !/^(keyFilename|keyPrefix|accessKeyId|secretId|accountName)$/.test(name)) out[name] = '***';
    else if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype) out[name] = '[object]';
    else if (value !== null && typeof value === 'object' && !Array.isArray(value)) out[name] = publicSettings(value as Record<string, unknown>);
    else out[name] = value;
  }
  return out;
}

/** The type of a store argument: an {@link UnderStore} or a URI. */
export type StoreLike = UnderStore | string;

/**
 * Checks an operation's options bag: an object (or undefined or `null`, no options, as `fs`
 * takes them) with only the known keys + `signal`; a signal that already fired throws its
 * `AbortError`, unless `streamed` (a stream reports it as its `'error'`, as `fs` streams do).
 */
export function checkOperationOptions(options: unknown, keys: string[], streamed = false): void {
  if (options === undefined || options === null) return;
  checkObject(options, 'options');
  checkKeys(options, [...keys, 'signal'], 'operation');
  const signal = (options as { signal?: unknown }).signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalid('signal must be an AbortSignal');
  if (!streamed) throwIfAborted(signal);
}

/** A non-negative safe integer option, or undefined. */
export function checkCount(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw invalid(`${what} must be a non-negative integer, got ${describe(value)}`);
  return value;
}

/** A `BufferEncoding` option (`'utf8'`, `'hex'`, …), or undefined. */
export function checkEncoding(value: unknown): BufferEncoding | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !Buffer.isEncoding(value)) throw invalid(`encoding must be a Buffer encoding such as 'utf8', got ${describe(value)}`);
  return value;
}
