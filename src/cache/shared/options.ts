/**
 * Options of the shared (Redis) cache tier, their defaults and their validation.
 * @module
 */
import type { Cluster, Redis } from 'ioredis';
import { invalid } from '../../errors.js';
import { describe } from '../../path.js';
import { parseSize, type Bytes, type Milliseconds, type SizeLike } from '../../size.js';

/** Seconds (Redis `EX`). */
export type Seconds = number;

/** Options of `openSharedTier`. Every field is optional except one of `url` / `client`. */
export interface SharedTierOptions {
  /**
   * Where Redis is. `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS) is one
   * server; a comma-separated list `redis://h1:7000,redis://h2:7001` (or `redis://h1:7000,h2:7001`)
   * is a Redis Cluster, with those nodes as seeds. `cluster: true` treats a single URL as a
   * cluster seed too. Credentials in the URL are used for the connection and never logged.
   */
  url?: string;
  /**
   * An ioredis `Redis` or `Cluster` instance to use instead of `url` (wins over it). The tier
   * leaves its options alone (set `enableOfflineQueue: false` and a low `maxRetriesPerRequest`
   * on it for fast failure), makes one `duplicate()` for the invalidation subscriber, and does
   * not close it on `close()`.
   */
  client?: Redis | Cluster;
  /** Treat a single `url` as a cluster seed node. Default `false`. */
  cluster?: boolean;
  /** Prefix of every key and of the invalidation channel; separates fleets on one Redis. Default `'stratafs:'`. */
  keyPrefix?: string;
  /**
   * Page size of the processes sharing the tier. Part of every page key, so that processes with
   * different page sizes never read each other's pages. Under `StrataOptions.cache.shared` it is
   * always `cache.pageSize` (a value given there is ignored). Default `0` (no separation: then
   * every process of the fleet must use one page size).
   */
  pageSize?: SizeLike;
  /** Seconds a page lives in Redis (`SET … EX`). Default `3600`. Redis' own `maxmemory-policy` evicts earlier. */
  pageTtl?: Seconds;
  /**
   * Seconds a shared `stat`/listing answer lives in Redis at most, counted from when the store gave
   * it (its age, from that time too, is checked against each reader's `maxAgeMs`). Default `3600`.
   */
  metadataTtl?: Seconds;
  /** Larger pages are neither stored nor leased (fetched by each process). Default `'8MiB'`. */
  maxPageBytes?: SizeLike;
  /** Listings whose JSON is larger are not shared. Default `'1MiB'`. */
  maxListBytes?: SizeLike;
  /**
   * Milliseconds of a single-flight lease (`SET … NX PX`). The winner renews it until its pages
   * are in Redis, so it only bounds how long a crashed winner blocks the others. Default `5000`.
   */
  leaseMs?: Milliseconds;
  /**
   * Milliseconds a loser waits at most for the winner's pages before fetching them itself.
   * Default `30_000`. It stops waiting earlier when the winner's leases lapse (it crashed, or its
   * fetch failed), when Redis fails, or when the read is aborted.
   */
  waitMs?: Milliseconds;
  /**
   * Milliseconds one Redis round trip may take before it is given up (a miss, or fetching from
   * the store). Batches of pages get more: per page the larger of `timeoutMs / 8` and the page's
   * transfer time at 20 MB/s (from `pageSize`). The time counts from the call's start or from
   * Redis' last sign of life (a call succeeded, bytes arrived), whichever is later, so calls
   * queued behind large transfers on a Redis that keeps answering wait their turn (up to ten times
   * their budget, at least 10 s). Whatever the budget, a call gives up after
   * `max(2000, 10 × timeoutMs)` ms without a sign of life (a frozen Redis: see `coolDownMs`), so
   * a lookup of many pages costs no more than that either. Default `200`.
   */
  timeoutMs?: Milliseconds;
  /**
   * Milliseconds the tier is skipped after a failure before it is tried again. Default `5000`.
   * An error opens the breaker at once; calls over their budget only when no call has succeeded
   * for `max(2000, 10 × timeoutMs)` ms (a busy Redis is not a down one).
   */
  coolDownMs?: Milliseconds;
  /** Milliseconds `openSharedTier` waits for the first connection. Default `2000`; the tier opens unavailable after it. */
  connectTimeoutMs?: Milliseconds;
  /** Bytes of pages queued for writing to Redis at most; pages beyond it are dropped. Default `'64MiB'`. */
  maxPendingBytes?: SizeLike;
}

/** {@link SharedTierOptions} with defaults applied and checked. */
export interface ResolvedSharedTierOptions {
  keyPrefix: string;
  pageSize: Bytes;
  pageTtl: Seconds;
  metadataTtl: Seconds;
  maxPageBytes: Bytes;
  maxListBytes: Bytes;
  leaseMs: Milliseconds;
  waitMs: Milliseconds;
  timeoutMs: Milliseconds;
  coolDownMs: Milliseconds;
  connectTimeoutMs: Milliseconds;
  maxPendingBytes: Bytes;
}

const NAMES = new Set([
  'url', 'client', 'cluster', 'keyPrefix', 'pageSize', 'pageTtl', 'metadataTtl', 'maxPageBytes', 'maxListBytes',
  'leaseMs', 'waitMs', 'timeoutMs', 'coolDownMs', 'connectTimeoutMs', 'maxPendingBytes',
]);

function positiveInteger(value: unknown, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalid(`shared cache option '${name}' must be an integer >= ${min}, got ${describe(value)}`);
  }
  return value;
}

/** Applies defaults and validates (`EINVAL` naming the option). Does not look at `url`/`client`. */
export function resolveSharedTierOptions(options: SharedTierOptions): ResolvedSharedTierOptions {
  if (typeof options !== 'object' || options === null) throw invalid(`shared cache options must be an object, got ${describe(options)}`);
  for (const name of Object.keys(options)) if (!NAMES.has(name)) throw invalid(`unknown shared cache option '${name}'`);
  const keyPrefix = options.keyPrefix ?? 'stratafs:';
  if (typeof keyPrefix !== 'string') throw invalid(`shared cache option 'keyPrefix' must be a string, got ${describe(keyPrefix)}`);
  if (/[{}\s]/.test(keyPrefix)) throw invalid(`shared cache option 'keyPrefix' must not contain braces or white space`);
  return {
    keyPrefix,
    pageSize: options.pageSize === undefined ? 0 : parseSize(options.pageSize, 'shared cache pageSize'),
    pageTtl: positiveInteger(options.pageTtl, 'pageTtl', 3600),
    metadataTtl: positiveInteger(options.metadataTtl, 'metadataTtl', 3600),
    maxPageBytes: options.maxPageBytes === undefined ? 8 * 1024 ** 2 : parseSize(options.maxPageBytes, 'shared cache maxPageBytes'),
    maxListBytes: options.maxListBytes === undefined ? 1024 ** 2 : parseSize(options.maxListBytes, 'shared cache maxListBytes'),
    leaseMs: positiveInteger(options.leaseMs, 'leaseMs', 5000, 10),
    waitMs: positiveInteger(options.waitMs, 'waitMs', 30_000, 0),
    timeoutMs: positiveInteger(options.timeoutMs, 'timeoutMs', 200),
    coolDownMs: positiveInteger(options.coolDownMs, 'coolDownMs', 5000, 0),
    connectTimeoutMs: positiveInteger(options.connectTimeoutMs, 'connectTimeoutMs', 2000),
    maxPendingBytes: options.maxPendingBytes === undefined ? 64 * 1024 ** 2 : parseSize(options.maxPendingBytes, 'shared cache maxPendingBytes'),
  };
}
