/**
 * The metadata cache: `stat` answers (negative ones too) and directory listings per mount, each
 * with the time it was fetched, reused for the mount's `syncInterval`. Mutations through
 * stratafs update or invalidate the affected entries at once (read-your-writes). An answer that
 * was on its way while such a change happened is not kept: it may predate the change.
 *
 * Answers older than `syncInterval` are dropped as the cache grows (each time it has doubled
 * since the last sweep), so a service that looks up ever new paths — most of them once, many
 * of them missing — holds about what it looked up within one `syncInterval`, not every path
 * it ever asked about. Past `maxEntries` answers, the oldest go first, whatever the
 * `syncInterval` (with `-1`, answers never expire): a dropped path is asked of the store again.
 * @module
 */
import type { ObjectInfo } from '../store/under-store.js';
import { KeyLengthMap } from './key-length-map.js';

interface Entry<T> {
  value: T;
  at: number;
  /** When it was recorded, in the order of {@link MetadataCache.mark}. */
  seq?: number;
}

/** Entries held before the first sweep of expired ones (see {@link MetadataCache.size}). */
const FIRST_SWEEP = 1024;

/** Per-mount metadata cache (see the module comment). Keys are store keys of that mount. */
export class MetadataCache {
  /** Stat answers; those a change below forgets (missing, not a directory) are counted apart. */
  readonly #stats = new KeyLengthMap<Entry<ObjectInfo | null>>((entry) => entry.value === null || !entry.value.isDirectory);
  /** Keys whose shared answers are known to be old (see {@link changedOutside}), with when that was found. */
  readonly #askStore = new Map<string, number>();
  readonly #lists = new KeyLengthMap<Entry<ObjectInfo[]>>();
  #epoch = 0;
  /** Counts the stat answers recorded (see {@link mark}). */
  #seq = 0;
  /** The size at which expired entries are next swept away. */
  #sweepAt = FIRST_SWEEP;
  hits = 0;
  misses = 0;

  /**
   * @param syncInterval ms an answer is reused (`0` never, `-1` until invalidated).
   * @param onChange told of every change made through this process (to share invalidations).
   * @param maxEntries answers held at most; past it the oldest are dropped (a quarter at a time).
   */
  constructor(
    readonly syncInterval: number,
    private readonly onChange?: (key: string, recursive: boolean) => void,
    readonly maxEntries = 1_000_000,
  ) {}

  #fresh(entry: Entry<unknown> | undefined): boolean {
    if (!entry || this.syncInterval === 0) return false;
    return this.syncInterval < 0 || Date.now() - entry.at < this.syncInterval;
  }

  /** The cached stat of `key`: an ObjectInfo, `null` for "known missing", `undefined` for "ask the store". */
  getStat(key: string): ObjectInfo | null | undefined {
    const entry = this.#stats.get(key);
    if (this.#fresh(entry)) {
      this.hits++;
      return entry!.value;
    }
    this.misses++;
    return undefined;
  }

  /** True when a fresh stat of `key` is cached (not counted as a hit or a miss: a peek). */
  hasStat(key: string): boolean {
    return this.#fresh(this.#stats.get(key));
  }

  /**
   * Counts the changes made to this cache's entries. Take it before asking the store, and pass it
   * to {@link setStat} / {@link setList}: an answer that crossed a change is then not kept.
   */
  get epoch(): number {
    return this.#epoch;
  }

  /**
   * Records a stat answer (`null`: missing), `ageMs` old already (an answer shared by another
   * process); not when a change happened since `epoch` (the answer may predate it).
   */
  setStat(key: string, info: ObjectInfo | null, ageMs = 0, epoch = this.#epoch): void {
    if (this.syncInterval !== 0 && epoch === this.#epoch) {
      this.#stats.delete(key); // a new answer is the newest: dropped last
      this.#stats.set(key, { value: info, at: Date.now() - ageMs, seq: ++this.#seq });
      this.#sweepIfGrown();
    }
  }

  /** The cached children of directory `key`, or `undefined`. */
  getList(key: string): ObjectInfo[] | undefined {
    const entry = this.#lists.get(key);
    if (this.#fresh(entry)) {
      this.hits++;
      return entry!.value;
    }
    this.misses++;
    return undefined;
  }

  /**
   * Orders stat answers and listings: take it before asking the store for a listing, and pass it
   * to {@link setList} as `since`.
   */
  mark(): number {
    return ++this.#seq;
  }

  /**
   * Records a directory listing (and the stat of each child), `ageMs` old already; not when a
   * change happened since `epoch`. A child's stat recorded before the store was asked for the
   * listing (before the {@link mark} `since`) gives way to the listing's newer one, so `stat` and
   * `readdir` agree; one recorded since is kept (it may be the newer). Without `since`, only the
   * children with no stat get one.
   */
  setList(key: string, children: ObjectInfo[], ageMs = 0, epoch = this.#epoch, since = 0): void {
    if (this.syncInterval === 0 || epoch !== this.#epoch) return;
    const at = Date.now() - ageMs;
    this.#lists.delete(key);
    this.#lists.set(key, { value: children, at });
    this.#setListed(children, at, since);
  }

  /**
   * Records the stats a listing named (a recursive one: files at any depth), as {@link setList}
   * does for a directory's children, with the same `epoch` and `since` rules.
   */
  setListed(found: ObjectInfo[], ageMs = 0, epoch = this.#epoch, since = 0): void {
    if (this.syncInterval === 0 || epoch !== this.#epoch) return;
    this.#setListed(found, Date.now() - ageMs, since);
  }

  #setListed(found: ObjectInfo[], at: number, since: number): void {
    for (const child of found) {
      const known = this.#stats.get(child.key);
      if (known && (known.seq ?? 0) >= since) continue;
      this.#stats.delete(child.key);
      this.#stats.set(child.key, { value: child, at, seq: ++this.#seq });
    }
    this.#sweepIfGrown();
  }

  /**
   * After a write/mkdir of `key`: records its new info and forgets what the write may have
   * changed: listings of every ancestor, negative stats of ancestors (implicit directories).
   */
  written(key: string, info: ObjectInfo | null): void {
    this.onChange?.(key, false);
    this.#epoch++;
    this.#forgetAncestors(key);
    if (info) this.setStat(key, info);
    else this.#stats.delete(key);
  }

  /** After a delete of `key` (and, when `recursive`, of everything below it). */
  removed(key: string, recursive = false): void {
    this.onChange?.(key, recursive);
    this.changedElsewhere(key, recursive);
  }

  /**
   * A change a read found (the store no longer has the version known here, made outside
   * stratafs): forgets it, and tells the others (the fleet's shared tier, twin mounts), whose
   * answers are as old as this one.
   */
  changedOutside(key: string): void {
    this.#askStore.set(key, Date.now());
    this.#sweepIfGrown();
    this.onChange?.(key, false);
    this.changedElsewhere(key, false);
  }

  /** True (once) when the next `stat` of `key` must ask the store itself: a shared answer may be as old as the one a read found changed. */
  mustAskStore(key: string): boolean {
    return this.#askStore.delete(key);
  }

  /**
   * A change another process made (an invalidation it shared): forgets without telling anyone.
   * Ancestors known as directories are forgotten too: one only implied by `key` is gone with it.
   */
  changedElsewhere(key: string, recursive: boolean): void {
    this.#epoch++;
    this.#forgetAncestors(key, true);
    this.#stats.delete(key);
    this.#lists.delete(key);
    if (recursive) this.forgetBelow(key);
  }

  /** Forgets every entry below `key` (`''`: the whole mount). */
  forgetBelow(key: string): void {
    this.#epoch++;
    const prefix = key === '' ? '' : key + '/';
    for (const map of [this.#stats, this.#lists] as Map<string, unknown>[]) {
      for (const k of [...map.keys()]) if (k.startsWith(prefix) || (key === '' && k === '')) map.delete(k);
    }
  }

  /**
   * Forgets a cached "not found" of `key` (as `free` does): its next `stat` asks the store itself,
   * not a shared answer as old as this one. A found entry stays.
   */
  forgetMissing(key: string): void {
    if (this.#stats.get(key)?.value !== null) return;
    this.forget(key);
    this.#askStore.set(key, Date.now());
  }

  /** Forgets the entry of `key` itself (stat and listing). */
  forget(key: string): void {
    this.#epoch++;
    this.#stats.delete(key);
    this.#lists.delete(key);
  }

  /** Forgets the listings of `key`'s ancestors and their stats that are not directories (`directoriesToo`: every stat). */
  #forgetAncestors(key: string, directoriesToo = false): void {
    if (key === '') return;
    // Each ancestor's key is `key` up to one of its `/` (the root's: ''), built only when an entry of its length may be there.
    for (let end = key.length; end > 0; ) {
      end = key.lastIndexOf('/', end - 1);
      const length = Math.max(end, 0);
      const list = this.#lists.holdsLength(length);
      if (!list && !this.#stats.holdsLength(length, !directoriesToo)) continue;
      const k = key.slice(0, length);
      if (list) this.#lists.delete(k);
      const stat = this.#stats.get(k);
      if (stat && (directoriesToo || stat.value === null || !stat.value.isDirectory)) this.#stats.delete(k);
    }
  }

  /** Drops everything. */
  clear(): void {
    this.#epoch++;
    this.#stats.clear();
    this.#lists.clear();
    this.#askStore.clear();
  }

  /** Entries held: stat answers, listings, and keys whose shared answer is known to be old. */
  get size(): number {
    return this.#stats.size + this.#lists.size + this.#askStore.size;
  }

  /**
   * Drops the entries older than `syncInterval` once the cache has doubled since the last sweep
   * (a sweep costs about one step per entry added since the one before). A key known to need
   * the store goes too: a shared answer older than `syncInterval` is not taken anyway.
   */
  #sweepIfGrown(): void {
    if (this.size > this.maxEntries) this.#dropOldest(this.maxEntries - (this.maxEntries >> 2));
    if (this.size < this.#sweepAt || this.syncInterval < 0) return;
    const expired = Date.now() - this.syncInterval;
    for (const map of [this.#stats, this.#lists] as Map<string, Entry<unknown>>[]) {
      for (const [key, entry] of map) if (entry.at <= expired) map.delete(key);
    }
    for (const [key, at] of this.#askStore) if (at <= expired) this.#askStore.delete(key);
    this.#sweepAt = Math.max(FIRST_SWEEP, 2 * this.size);
  }

  /**
   * Drops the oldest answers, stats and listings alike, until `target` entries are left. The
   * maps hold their entries in the order they were set, oldest first. Marks that a key must ask
   * the store stay: dropping one could let an old shared answer through.
   */
  #dropOldest(target: number): void {
    const stats = this.#stats.entries();
    const lists = this.#lists.entries();
    let stat = stats.next();
    let list = lists.next();
    while (this.size > target) {
      const oldestStat = stat.done ? undefined : stat.value;
      const oldestList = list.done ? undefined : list.value;
      if (oldestStat && (!oldestList || oldestStat[1].at <= oldestList[1].at)) {
        this.#stats.delete(oldestStat[0]);
        stat = stats.next();
      } else if (oldestList) {
        this.#lists.delete(oldestList[0]);
        list = lists.next();
      } else return;
    }
  }
}
