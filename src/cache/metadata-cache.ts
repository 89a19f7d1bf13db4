/**
 * The metadata cache: `stat` answers (negative ones too) and directory listings per mount, each
 * with the time it was fetched, reused for the mount's `syncInterval`. Mutations through
 * stratafs update or invalidate the affected entries at once (read-your-writes). An answer that
 * was on its way while such a change happened is not kept: it may predate the change.
 * @module
 */
import { parentKey } from '../path.js';
import type { ObjectInfo } from '../store/under-store.js';

interface Entry<T> {
  value: T;
  at: number;
}

/** Per-mount metadata cache (see the module comment). Keys are store keys of that mount. */
export class MetadataCache {
  #stats = new Map<string, Entry<ObjectInfo | null>>();
  /** Keys whose shared answers are known to be old (see {@link changedOutside}). */
  readonly #askStore = new Set<string>();
  #lists = new Map<string, Entry<ObjectInfo[]>>();
  #epoch = 0;
  hits = 0;
  misses = 0;

  /**
   * @param syncInterval ms an answer is reused (`0` never, `-1` until invalidated).
   * @param onChange told of every change made through this process (to share invalidations).
   */
  constructor(
    readonly syncInterval: number,
    private readonly onChange?: (key: string, recursive: boolean) => void,
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
    if (this.syncInterval !== 0 && epoch === this.#epoch) this.#stats.set(key, { value: info, at: Date.now() - ageMs });
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

  /** Records a directory listing (and the stat of each child), `ageMs` old already; not when a change happened since `epoch`. */
  setList(key: string, children: ObjectInfo[], ageMs = 0, epoch = this.#epoch): void {
    if (this.syncInterval === 0 || epoch !== this.#epoch) return;
    const at = Date.now() - ageMs;
    this.#lists.set(key, { value: children, at });
    for (const child of children) if (!this.#stats.has(child.key)) this.#stats.set(child.key, { value: child, at });
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
    this.#askStore.add(key);
    this.onChange?.(key, false);
    this.changedElsewhere(key, false);
  }

  /** True (once) when the next `stat` of `key` must ask the store itself: a shared answer may be as old as the one a read found changed. */
  mustAskStore(key: string): boolean {
    return this.#askStore.delete(key);
  }

  /** A change another process made (an invalidation it shared): forgets without telling anyone. */
  changedElsewhere(key: string, recursive: boolean): void {
    this.#epoch++;
    this.#forgetAncestors(key);
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

  /** Forgets the entry of `key` itself (stat and listing). */
  forget(key: string): void {
    this.#epoch++;
    this.#stats.delete(key);
    this.#lists.delete(key);
  }

  #forgetAncestors(key: string): void {
    let k = key;
    while (k !== '') {
      k = parentKey(k);
      this.#lists.delete(k);
      const stat = this.#stats.get(k);
      if (stat && (stat.value === null || !stat.value.isDirectory)) this.#stats.delete(k);
    }
  }

  /** Drops everything. */
  clear(): void {
    this.#epoch++;
    this.#stats.clear();
    this.#lists.clear();
  }
}
