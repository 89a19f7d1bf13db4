/**
 * `RedisSharedTier`: the fleet-wide cache tier on Redis or Redis Cluster (see
 * {@link SharedTier}). Pages are binary strings with a TTL, one hash slot per object version,
 * each framed with a format marker and its crc32 (see {@link encodePageFrame}): a value that does
 * not decode is a miss, and is dropped;
 * single-flight across processes uses per-page leases (`SET NX PX`); metadata answers carry
 * the time the store gave them and the mount's epoch; invalidations travel on a pub/sub channel.
 * Every call goes through a circuit breaker with a time budget: Redis down or slow turns into
 * misses and no-ops, never into a failed read.
 * @module
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { ChainableCommander } from 'ioredis';
import { parentKey } from '../../path.js';
import type { ObjectInfo } from '../../store/under-store.js';
import type { PageId } from '../page-id.js';
import type { Invalidation, SharedTier, SharedTierStats } from '../shared-tier-types.js';
import { CircuitBreaker } from './breaker.js';
import { decodeInvalidation, decodeList, decodeStat, encodeInvalidation, encodeList, encodeStat, type MetaEntry } from './codec.js';
import { waitReady, watchProgress, type RedisClient } from './connect.js';
import { SharedKeys } from './keys.js';
import type { ResolvedSharedTierOptions } from './options.js';
import { decodePageFrame, encodePageFrame } from './page-frame.js';

const SKIP = Symbol('skip');
/** How much longer than a read a background write may take. */
const BACKGROUND_FACTOR = 5;
type Skip = typeof SKIP;

/** Deletes each key whose value is still `ARGV[1]` (the caller's lease token, or a rejected page value). */
const RELEASE_SCRIPT = `for i, k in ipairs(KEYS) do if redis.call('get', k) == ARGV[1] then redis.call('del', k) end end return 0`;

/** Lua: the TTL of `KEYS[n]` raised to `ARGV[2]` ms when it is shorter (or has none); nothing when the key is missing. */
const outlive = (n: number): string => `if redis.call('pttl', KEYS[${n}]) < tonumber(ARGV[2]) then redis.call('pexpire', KEYS[${n}], ARGV[2]) end`;

/**
 * The mount's epoch (`KEYS[1]`), set to `ARGV[1]` first when there is none (never set, expired,
 * or evicted by Redis). It lives `ARGV[2]` ms (`metadataTtl`) at least from now: past the entries
 * of it, so that a mount no one uses any more leaves nothing in Redis.
 */
const EPOCH_SCRIPT = `local e = redis.call('get', KEYS[1]) if not e then e = ARGV[1] redis.call('set', KEYS[1], e, 'PX', ARGV[2]) else ${outlive(1)} end return e`;

/** Sets the metadata entry `KEYS[1]` to `ARGV[1]` for `ARGV[2]` ms, and keeps its mount's epoch (`KEYS[2]`) at least as long. */
const SET_META_SCRIPT = `redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) ${outlive(2)} return 0`;

/**
 * A new mount epoch: random, so that an epoch Redis evicted and set again never takes back the
 * value of an earlier one (whose entries a recursive change retired).
 */
const newEpoch = (): string => String(randomInt(1, 2 ** 47));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The contiguous stretches of ascending `positions`, as `[start, count]`. */
function stretches(positions: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const p of positions) {
    const last = out.at(-1);
    if (last && last[0] + last[1] === p) last[1]++;
    else out.push([p, 1]);
  }
  return out;
}

/** One group of page ids of the same object version (one hash slot). */
interface Group {
  tag: string;
  positions: number[];
}

/** The shared tier on ioredis (see the module comment). Made by {@link openSharedTier}. */
export class RedisSharedTier implements SharedTier {
  /** This instance's id on the invalidation channel (its own messages are ignored). */
  readonly instanceId = randomUUID();
  readonly #client: RedisClient;
  readonly #writer: RedisClient;
  readonly #subscriber: RedisClient;
  readonly #ownsClient: boolean;
  readonly #opts: ResolvedSharedTierOptions;
  readonly #keys: SharedKeys;
  readonly #breaker: CircuitBreaker;
  readonly #handlers: ((invalidation: Invalidation) => void)[] = [];
  readonly #pending = new Set<Promise<unknown>>();
  readonly #epochs = new Map<string, number>();
  #pendingBytes = 0;
  #leaseSeq = 0;
  #closed = false;
  #disconnected = false;
  #stats = {
    hits: 0,
    misses: 0,
    bytesIn: 0,
    bytesOut: 0,
    leadFetches: 0,
    waitHits: 0,
    fallbacks: 0,
    dropped: 0,
    rejected: 0,
    metaHits: 0,
    metaMisses: 0,
    published: 0,
    received: 0,
  };

  /**
   * Use {@link openSharedTier}. Three connections: `client` for lookups, leases and metadata;
   * `writer` (the tier's own) for page writes, so that lookups never queue behind megabytes of
   * writes; `subscriber` (the tier's own) for invalidations. `client` is closed on
   * {@link close} only when `ownsClient`.
   */
  constructor(
    connections: { client: RedisClient; writer: RedisClient; subscriber: RedisClient },
    ownsClient: boolean,
    options: ResolvedSharedTierOptions,
    secrets: readonly string[] = [],
  ) {
    this.#client = connections.client;
    this.#writer = connections.writer;
    this.#subscriber = connections.subscriber;
    this.#ownsClient = ownsClient;
    this.#opts = options;
    this.#keys = new SharedKeys(options.keyPrefix, options.pageSize);
    this.#breaker = new CircuitBreaker(options.coolDownMs, Math.max(2000, 10 * options.timeoutMs), secrets);
    const onData = (): void => this.#breaker.progress();
    watchProgress(this.#client, onData);
    watchProgress(this.#writer, onData);
  }

  /** Waits up to `connectTimeoutMs` for the connections; opens the breaker (one warning) when Redis is not there. */
  async start(): Promise<void> {
    const timeout = this.#opts.connectTimeoutMs;
    const [ready, writerReady] = await Promise.all([waitReady(this.#client, timeout), waitReady(this.#writer, timeout), this.#subscribe()]);
    const failure = [ready, writerReady].find((outcome) => outcome !== true);
    if (failure !== undefined) this.#breaker.failure(new Error(failure));
  }

  // ------------------------------------------------------------------ pages

  /** The pages that are in Redis (`undefined` for misses), in the order asked. */
  async getPages(ids: PageId[]): Promise<(Buffer | undefined)[]> {
    const out: (Buffer | undefined)[] = new Array<Buffer | undefined>(ids.length).fill(undefined);
    if (ids.length === 0 || this.#closed) return out;
    const groups = this.#group(ids);
    const replies = await this.#call(ids.length, () =>
      Promise.all(groups.map((g) => this.#client.mgetBuffer(g.positions.map((p) => this.#keys.page(g.tag, ids[p]!.index))))),
    );
    if (replies === SKIP) {
      this.#stats.misses += ids.length;
      return out;
    }
    groups.forEach((g, n) => {
      g.positions.forEach((p, k) => {
        const value = replies[n]![k];
        if (value) out[p] = this.#decode(this.#keys.page(g.tag, ids[p]!.index), value);
      });
    });
    this.#countFound(out);
    return out;
  }

  /** Writes pages to Redis in the background (pipelined per object version, `EX pageTtl`). */
  putPages(pages: { id: PageId; data: Buffer }[]): void {
    if (this.#closed) return;
    const accepted = pages.filter((p) => {
      const ok = p.data.length <= this.#opts.maxPageBytes && this.#pendingBytes + p.data.length <= this.#opts.maxPendingBytes;
      if (ok) this.#pendingBytes += p.data.length;
      else this.#stats.dropped++;
      return ok;
    });
    if (accepted.length === 0) return;
    const bytes = accepted.reduce((n, p) => n + p.data.length, 0);
    const ids = accepted.map((p) => p.id);
    const write = Promise.all(
      this.#group(ids).map(async (g) => {
        const done = await this.#write(g.positions.length, () => {
          const pipe = this.#pipeline(this.#writer);
          for (const p of g.positions) pipe.set(this.#keys.page(g.tag, ids[p]!.index), encodePageFrame(accepted[p]!.data), 'EX', this.#opts.pageTtl);
          return this.#exec(pipe);
        });
        if (done === SKIP) this.#stats.dropped += g.positions.length;
        else for (const p of g.positions) this.#stats.bytesOut += accepted[p]!.data.length;
      }),
    ).finally(() => {
      this.#pendingBytes -= bytes;
    });
    this.#track(write);
  }

  /**
   * Fleet-wide single-flight for one run of pages (see {@link SharedTier.fetchOnce}). Each round
   * trip reads the missing pages and tries their leases; the pages whose leases this process wins
   * it fetches (each contiguous stretch in one `fetch`, renewing its leases), returns and
   * publishes; for the others it polls (5 ms growing to 100 ms) until they appear or their
   * leases free up, `waitMs` passes or `signal` aborts, then fetches what is still missing
   * itself. So a page is fetched once fleet-wide even when processes read overlapping runs.
   * Redis failing at any point means fetching what is missing directly.
   */
  async fetchOnce(ids: PageId[], fetch: (start: number, count: number) => Promise<Buffer[]>, signal?: AbortSignal): Promise<Buffer[]> {
    const groups = ids.length > 0 ? this.#group(ids) : [];
    const tooLarge = this.#opts.pageSize > this.#opts.maxPageBytes;
    if (groups.length !== 1 || tooLarge || this.#closed) return this.#fetchAlone(ids, () => fetch(0, ids.length), false);
    const tag = groups[0]!.tag;
    const token = `${this.instanceId}:${++this.#leaseSeq}`;
    const found: (Buffer | undefined)[] = new Array<Buffer | undefined>(ids.length).fill(undefined);
    /** Stretches this process fetches: their first position and their pages. */
    const own: { start: number; pages: Promise<Buffer[]> }[] = [];
    const taken = new Set<number>();
    let failed = false;
    const takeStretches = (positions: number[], get: (start: number, stretch: PageId[]) => Promise<Buffer[]>): void => {
      for (const [start, count] of stretches(positions)) {
        for (let i = start; i < start + count; i++) taken.add(i);
        const pages = get(start, ids.slice(start, start + count));
        pages.catch(() => (failed = true)); // thrown below, once the loop is left
        own.push({ start, pages });
      }
    };
    const missing = (): number[] => ids.map((_, i) => i).filter((i) => !found[i] && !taken.has(i));
    const deadline = Date.now() + this.#opts.waitMs;
    let delay = 5;
    let waited = false;
    for (let round = 0; missing().length > 0 && !failed; round++) {
      if (round > 0) {
        const left = deadline - Date.now();
        if (left <= 0 || signal?.aborted || this.#closed) {
          this.#stats.fallbacks++; // counted once, however many stretches are missing
          takeStretches(missing(), (start, stretch) => this.#fetchAlone(stretch, () => fetch(start, stretch.length), true));
          break;
        }
        await sleep(Math.min(delay, left));
        delay = Math.min(delay * 1.5, 100);
        waited = true;
      }
      const asked = missing();
      if (asked.length === 0 || failed) break;
      const replies = await this.#call(asked.length, () => {
        const pipe = this.#pipeline();
        pipe.mgetBuffer(asked.map((i) => this.#keys.page(tag, ids[i]!.index)));
        for (const i of asked) pipe.set(this.#keys.lease(tag, ids[i]!.index), token, 'PX', this.#opts.leaseMs, 'NX');
        return this.#exec(pipe);
      });
      if (replies === SKIP) {
        // A round trip given up may still reach Redis (held in the socket while Redis is frozen):
        // free the leases it would take, behind it, so that nobody waits for pages never published.
        this.#release(asked.map((i) => this.#keys.lease(tag, ids[i]!.index)), token);
        this.#stats.fallbacks++;
        takeStretches(asked, (start, stretch) => this.#fetchAlone(stretch, () => fetch(start, stretch.length), true));
        break;
      }
      const pages = replies[0] as (Buffer | null)[];
      const won: number[] = [];
      const needless: string[] = [];
      asked.forEach((i, k) => {
        const value = pages[k];
        const page = value ? this.#decode(this.#keys.page(tag, ids[i]!.index), value) : undefined;
        if (value && !page) this.#stats.misses++;
        const lease = replies[1 + k] === 'OK' ? this.#keys.lease(tag, ids[i]!.index) : undefined;
        if (page) {
          found[i] = page;
          this.#stats.hits++;
          this.#stats.bytesIn += page.length;
          if (lease) needless.push(lease);
        } else if (lease) won.push(i);
      });
      if (needless.length > 0) this.#release(needless, token);
      takeStretches(won, (start, stretch) => {
        const leases = stretch.map((id) => this.#keys.lease(tag, id.index));
        return this.#lead(stretch, tag, () => fetch(start, stretch.length), leases, token);
      });
    }
    for (const stretch of own) (await stretch.pages).forEach((page, k) => (found[stretch.start + k] = page));
    if (waited && own.length === 0) this.#stats.waitHits++;
    return found as Buffer[];
  }

  /**
   * This process won (some of) the leases: fetch, publish the pages, release the leases. The
   * leases are renewed until the pages are in Redis, so that waiters keep waiting for them
   * rather than fetching too.
   */
  async #lead(ids: PageId[], tag: string, fetch: () => Promise<Buffer[]>, leases: string[], token: string): Promise<Buffer[]> {
    this.#stats.leadFetches++;
    const renew = setInterval(() => {
      void this.#call(leases.length, () => {
        const pipe = this.#pipeline();
        for (const lease of leases) pipe.pexpire(lease, this.#opts.leaseMs);
        return this.#exec(pipe);
      });
    }, Math.max(5, Math.floor(this.#opts.leaseMs / 3)));
    renew.unref();
    let pages: Buffer[];
    try {
      pages = await fetch();
    } catch (error) {
      clearInterval(renew);
      this.#release(leases, token);
      throw error;
    }
    const publishable = pages.length === ids.length && pages.every((p) => p.length <= this.#opts.maxPageBytes);
    if (!publishable) {
      clearInterval(renew);
      this.#release(leases, token);
      return pages;
    }
    // Pages first, then the leases, in one pipeline: whoever finds a lease gone finds the pages.
    const bytes = pages.reduce((n, p) => n + p.length, 0);
    this.#pendingBytes += bytes;
    const write = this.#write(ids.length, () => {
      const pipe = this.#pipeline(this.#writer);
      ids.forEach((id, i) => pipe.set(this.#keys.page(tag, id.index), encodePageFrame(pages[i]!), 'EX', this.#opts.pageTtl));
      pipe.eval(RELEASE_SCRIPT, leases.length, ...leases, token);
      return this.#exec(pipe);
    })
      .then((done) => {
        if (done !== SKIP) this.#stats.bytesOut += bytes;
        else {
          // Not published: free the leases so that the waiters fetch now rather than at expiry.
          this.#stats.dropped += ids.length;
          this.#release(leases, token);
        }
      })
      .finally(() => {
        clearInterval(renew);
        this.#pendingBytes -= bytes;
      });
    this.#track(write);
    return pages;
  }

  /**
   * Fetches without the fleet. Shares the pages only when single-flight did not apply; after a
   * `fallback` (Redis slow or down, or the wait over) another process is publishing them already,
   * and writing them again would only add load.
   */
  async #fetchAlone(ids: PageId[], fetch: () => Promise<Buffer[]>, fallback: boolean): Promise<Buffer[]> {
    const pages = await fetch();
    if (!fallback && pages.length === ids.length && !this.#closed) this.putPages(ids.map((id, i) => ({ id, data: pages[i]! })));
    return pages;
  }

  /**
   * The page in `value`, read from page key `key`; `undefined` when it is not an intact page value
   * stratafs wrote (see {@link decodePageFrame}): counted as rejected and dropped from Redis,
   * unless the key was written again meanwhile.
   */
  #decode(key: string, value: Buffer): Buffer | undefined {
    const page = decodePageFrame(value);
    if (page) return page;
    this.#stats.rejected++;
    if (!this.#closed) this.#track(this.#write(1, () => this.#writer.eval(RELEASE_SCRIPT, 1, key, value).then((reply) => [reply])));
    return undefined;
  }

  #release(leases: string[], token: string): void {
    this.#track(this.#call(1, () => this.#client.eval(RELEASE_SCRIPT, leases.length, ...leases, token)));
  }

  // --------------------------------------------------------------- metadata

  /**
   * A shared stat answer younger than `maxAgeMs` (`null`: known missing), else `undefined`.
   * The age is the larger of the time since the writer took the answer from the store (the
   * entry's `takenAt`, hosts' clocks) and the time Redis has held the entry (its remaining TTL,
   * Redis' clock): a write that reached Redis late (stalled in the socket) is as old as its
   * answer, and a writer's clock running ahead never makes an entry younger than Redis says.
   * `maxAgeMs` `0` answers `undefined` without asking; a negative one means no age limit.
   */
  async getStat(cacheId: string, key: string, maxAgeMs: number): Promise<ObjectInfo | null | undefined> {
    return (await this.getStatEntry(cacheId, key, maxAgeMs))?.value;
  }

  /** Like {@link getStat}, with the answer's age (to keep a local copy no longer than `maxAgeMs` in all). */
  async getStatEntry(cacheId: string, key: string, maxAgeMs: number): Promise<{ value: ObjectInfo | null; ageMs: number } | undefined> {
    return this.#getMeta(cacheId, this.#keys.stat(this.#keys.mountTag(cacheId), key), maxAgeMs, decodeStat);
  }

  /**
   * Shares a stat answer the store just gave (taken now), tagged with the mount epoch this
   * instance last saw.
   */
  setStat(cacheId: string, key: string, info: ObjectInfo | null): void {
    const tag = this.#keys.mountTag(cacheId);
    this.#setMeta(tag, this.#keys.stat(tag, key), (epoch, ttlMs, takenAt) => encodeStat(info, epoch, ttlMs, takenAt));
  }

  /** A shared listing of directory `key` younger than `maxAgeMs`, else `undefined` (see {@link getStat}). */
  async getList(cacheId: string, key: string, maxAgeMs: number): Promise<ObjectInfo[] | undefined> {
    return (await this.getListEntry(cacheId, key, maxAgeMs))?.value;
  }

  /** Like {@link getList}, with the answer's age. */
  async getListEntry(cacheId: string, key: string, maxAgeMs: number): Promise<{ value: ObjectInfo[]; ageMs: number } | undefined> {
    return this.#getMeta(cacheId, this.#keys.list(this.#keys.mountTag(cacheId), key), maxAgeMs, decodeList);
  }

  /** Shares a directory listing the store just gave (not when its JSON exceeds `maxListBytes`). */
  setList(cacheId: string, key: string, children: ObjectInfo[]): void {
    const tag = this.#keys.mountTag(cacheId);
    this.#setMeta(tag, this.#keys.list(tag, key), (epoch, ttlMs, takenAt) => {
      const text = encodeList(children, epoch, ttlMs, takenAt);
      return Buffer.byteLength(text) <= this.#opts.maxListBytes ? text : undefined;
    });
  }

  async #getMeta<T>(cacheId: string, entryKey: string, maxAgeMs: number, decode: (text: string) => MetaEntry<T> | undefined): Promise<{ value: T; ageMs: number } | undefined> {
    if (maxAgeMs === 0 || this.#closed) return undefined;
    const tag = this.#keys.mountTag(cacheId);
    const replies = await this.#call(1, () => {
      const pipe = this.#pipeline();
      pipe.get(entryKey).pttl(entryKey).get(this.#keys.epoch(tag));
      return this.#exec(pipe);
    });
    if (replies === SKIP) {
      this.#stats.metaMisses++;
      return undefined;
    }
    const now = Date.now();
    const [text, pttl, epochText] = replies as [string | null, number, string | null];
    if (epochText === null) {
      // A mount without an epoch (evicted, or nothing shared yet) gets a new one: no entry is of it.
      const epoch = await this.#call(1, () => this.#client.eval(EPOCH_SCRIPT, 1, this.#keys.epoch(tag), newEpoch(), this.#epochTtlMs));
      if (epoch !== SKIP) this.#epochs.set(tag, Number(epoch));
      this.#stats.metaMisses++;
      return undefined;
    }
    const epoch = Number(epochText);
    this.#epochs.set(tag, epoch);
    const entry = text === null ? undefined : decode(text);
    // The older of the two readings (see getStat): an error in either direction costs a store call.
    const ageMs = entry ? Math.max(0, entry.ttlMs - pttl, now - entry.takenAt) : Infinity;
    if (!entry || entry.epoch !== epoch || pttl < 0 || (maxAgeMs > 0 && ageMs >= maxAgeMs)) {
      this.#stats.metaMisses++;
      return undefined;
    }
    this.#stats.metaHits++;
    return { value: entry.value, ageMs };
  }

  /** How long a mount's epoch lives in Redis past its last use: as long as the longest entry of it. */
  get #epochTtlMs(): number {
    return this.#opts.metadataTtl * 1000;
  }

  /**
   * Stores a metadata entry taken now, in the background. Its TTL is what is left of
   * `metadataTtl` since it was taken (nothing is stored once that is over); its age for readers
   * counts from `takenAt`, so an entry that reaches Redis late (the epoch read or the SET stalled
   * with Redis) is not younger than its answer.
   */
  #setMeta(tag: string, entryKey: string, encode: (epoch: number, ttlMs: number, takenAt: number) => string | undefined): void {
    if (this.#closed) return;
    const takenAt = Date.now();
    const work = async (): Promise<void> => {
      let epoch = this.#epochs.get(tag);
      if (epoch === undefined) {
        const read = await this.#call(1, () => this.#client.eval(EPOCH_SCRIPT, 1, this.#keys.epoch(tag), newEpoch(), this.#epochTtlMs));
        if (read === SKIP) return;
        epoch = Number(read);
        this.#epochs.set(tag, epoch);
      }
      const ttlMs = this.#opts.metadataTtl * 1000 - Math.max(0, Date.now() - takenAt);
      if (ttlMs <= 0) return;
      const text = encode(epoch, ttlMs, takenAt);
      if (text !== undefined) await this.#call(1, () => this.#client.eval(SET_META_SCRIPT, 2, entryKey, this.#keys.epoch(tag), text, Math.ceil(ttlMs)));
    };
    this.#track(work());
  }

  // ----------------------------------------------------------- invalidation

  /**
   * Tells every instance that `key` changed: retires the shared metadata it affects (see
   * {@link forget}), then publishes the message on the channel.
   */
  publish(invalidation: Invalidation): void {
    if (this.#closed) return;
    const retired = this.#retire(invalidation);
    const work = async (): Promise<void> => {
      if (!(await retired)) return;
      // Published after the deletions completed: a receiver never re-reads the old entries.
      const sent = await this.#call(1, () => this.#client.publish(this.#keys.channel, encodeInvalidation(this.instanceId, invalidation)));
      if (sent !== SKIP) this.#stats.published++;
    };
    this.#track(work());
  }

  /**
   * Retires the shared metadata a change of `key` affects, without telling the other instances:
   * deletes its stat and listing and those of its ancestors; a recursive change gives the mount a
   * new epoch, which retires every shared metadata entry of the mount.
   */
  forget(invalidation: Invalidation): void {
    if (!this.#closed) this.#track(this.#retire(invalidation));
  }

  /** See {@link forget}; `false` when Redis was skipped. Sent at once, ahead of later calls. */
  #retire(invalidation: Invalidation): Promise<boolean> {
    const tag = this.#keys.mountTag(invalidation.cacheId);
    const epoch = newEpoch();
    const done = this.#call(1, () => {
      const pipe = this.#pipeline();
      const keys = [this.#keys.stat(tag, invalidation.key), this.#keys.list(tag, invalidation.key)];
      for (let k = invalidation.key; k !== ''; ) {
        k = parentKey(k);
        keys.push(this.#keys.stat(tag, k), this.#keys.list(tag, k));
      }
      pipe.del(...keys);
      if (invalidation.recursive) pipe.set(this.#keys.epoch(tag), epoch, 'PX', this.#epochTtlMs);
      return this.#exec(pipe);
    });
    return done.then((replies) => {
      if (replies === SKIP) return false;
      if (invalidation.recursive) this.#epochs.set(tag, Number(epoch));
      return true;
    });
  }

  /** Registers a handler for invalidations published by other instances. */
  onInvalidation(handler: (invalidation: Invalidation) => void): void {
    this.#handlers.push(handler);
  }

  async #subscribe(): Promise<void> {
    const sub = this.#subscriber;
    sub.on('message', (channel: string, message: string) => {
      if (channel !== this.#keys.channel) return;
      const decoded = decodeInvalidation(message);
      if (!decoded || decoded.from === this.instanceId) return;
      this.#stats.received++;
      for (const handler of this.#handlers) {
        try {
          handler(decoded.invalidation);
        } catch {
          // a handler's failure is its own business
        }
      }
    });
    // (Re)subscribe on every (re)connection; SUBSCRIBE is idempotent.
    const subscribe = (): Promise<boolean> =>
      sub.subscribe(this.#keys.channel).then(
        () => true,
        () => false,
      );
    sub.on('ready', () => void subscribe());
    if ((await waitReady(sub, this.#opts.connectTimeoutMs)) === true) await subscribe();
  }

  // ------------------------------------------------------------------ misc

  /** Figures of the tier. */
  stats(): SharedTierStats {
    const s = this.#stats;
    return {
      hits: s.hits,
      misses: s.misses,
      bytesIn: s.bytesIn,
      bytesOut: s.bytesOut,
      errors: this.#breaker.errors,
      available: this.#breaker.available,
      leadFetches: s.leadFetches,
      waitHits: s.waitHits,
      fallbacks: s.fallbacks,
      dropped: s.dropped,
      rejected: s.rejected,
      metadata: { hits: s.metaHits, misses: s.metaMisses },
      invalidations: { published: s.published, received: s.received },
    };
  }

  /** Waits until the background writes, lease releases and publications issued so far are done. */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Finishes background writes (bounded by the time budget), then closes the connections it made. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.settle();
    this.#disconnected = true;
    this.#subscriber.disconnect();
    this.#writer.disconnect();
    if (this.#ownsClient) this.#client.disconnect();
  }

  // -------------------------------------------------------------- plumbing

  #group(ids: PageId[]): Group[] {
    const byKey = new Map<string, Group>();
    ids.forEach((id, position) => {
      const k = `${id.object}\n${id.version}`;
      let group = byKey.get(k);
      if (!group) byKey.set(k, (group = { tag: this.#keys.versionTag(id), positions: [] }));
      group.positions.push(position);
    });
    return [...byKey.values()];
  }

  #countFound(pages: (Buffer | undefined)[]): void {
    for (const page of pages) {
      if (page) {
        this.#stats.hits++;
        this.#stats.bytesIn += page.length;
      } else this.#stats.misses++;
    }
  }

  #pipeline(connection: RedisClient = this.#client): ChainableCommander {
    return (connection as unknown as { pipeline(): ChainableCommander }).pipeline();
  }

  /** Runs a pipeline; its replies in order, or throws the first command error. */
  async #exec(pipe: ChainableCommander): Promise<unknown[]> {
    const results = await pipe.exec();
    if (!results) throw new Error('pipeline aborted');
    return results.map(([error, reply]) => {
      if (error) throw error;
      return reply;
    });
  }

  /**
   * Runs one Redis round trip through the breaker; `SKIP` when the breaker is open or the call
   * failed. Its time budget is `timeoutMs` plus, per page (`weight`), the larger of
   * `timeoutMs / 8` and a page's transfer at 20 MB/s; five times that for `background` writes
   * nobody waits for. The budget counts from the call's start or from Redis' last sign of life
   * (a call succeeded, bytes arrived), whichever is later: a call queued behind large transfers
   * on a Redis that keeps sending is waiting its turn, not failing (up to ten times its budget,
   * at least 10 s). Whatever its budget, a call waits at most the breaker's `stallMs` without a
   * sign of life: a frozen Redis then opens the breaker, and a lookup of many pages costs no more
   * than a small one. An error is a hard failure, running over the budget a soft one (see
   * {@link CircuitBreaker}).
   */
  async #call<T>(weight: number, work: () => Promise<T>, opts: { background?: boolean } = {}): Promise<T | Skip> {
    if (this.#disconnected || !this.#breaker.allow()) return SKIP;
    const perPage = Math.max(this.#opts.timeoutMs / 8, this.#opts.pageSize / 20_000);
    const budget = Math.ceil((this.#opts.timeoutMs + weight * perPage) * (opts.background ? BACKGROUND_FACTOR : 1));
    const patience = Math.min(budget, this.#breaker.stallMs);
    const started = Date.now();
    const cap = started + Math.max(10 * budget, 10_000);
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const running = work();
    running.catch(() => undefined);
    try {
      const result = await Promise.race([
        running,
        new Promise<never>((_, reject) => {
          const check = (final: boolean): void => {
            const due = Math.min(cap, Math.max(started, this.#breaker.lastProgressAt) + patience);
            const now = Date.now();
            if (now < due) timer = setTimeout(() => check(false), due - now);
            // After a blocked event loop, timers run before pending socket data is read: look
            // again once I/O has been processed (setImmediate runs after the poll phase).
            else if (!final) setImmediate(() => check(true));
            else {
              timedOut = true;
              reject(new Error(`no answer within ${now - started} ms`));
            }
          };
          timer = setTimeout(() => check(false), patience);
        }),
      ]);
      this.#breaker.success();
      return result;
    } catch (error) {
      // A background write over its budget is a sign of load this process caused, not of an outage.
      if (!(timedOut && opts.background)) this.#breaker.failure(error, timedOut);
      else this.#breaker.errors++;
      return SKIP;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A background page write on the writer connection; `SKIP` (nothing sent) while that connection
   * is not ready, e.g. still reconnecting after the lookup connection already did.
   */
  #write(weight: number, work: () => Promise<unknown[]>): Promise<unknown[] | Skip> {
    if (this.#writer.status !== 'ready') return Promise.resolve(SKIP);
    return this.#call(weight, work, { background: true });
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.catch(() => undefined);
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }
}
