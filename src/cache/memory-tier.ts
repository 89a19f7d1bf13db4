/**
 * The in-process memory tier: an LRU of page buffers sized in bytes (lru-cache `maxSize` +
 * `sizeCalculation`), plus pinned pages that are never evicted. Pinned and unpinned pages share
 * one capacity. The pages it lets go of go to its {@link PagePool} for reuse.
 * @module
 */
import { LRUCache } from 'lru-cache';
import { StrataError } from '../errors.js';
import type { TierStats } from './disk-tier-types.js';
import { PagePool } from './page-pool.js';

/** Most page memory kept for reuse: a quarter of the tier's capacity, at most 64 MiB. */
export function poolBytesFor(capacity: number): number {
  return Math.min(64 * 1024 * 1024, Math.floor(capacity / 4));
}

/**
 * The least a page counts against the capacity, however short: what the tier spends to keep a
 * page (its key, its LRU entry, its accounting) is about half of this, so a cache of tiny pages
 * (many small files) stays within about its capacity of memory instead of holding millions of them.
 */
export const MIN_PAGE_CHARGE = 1024;

/** What a page counts against the tier's capacity: its length, at least {@link MIN_PAGE_CHARGE}. */
function chargeOf(page: Buffer): number {
  return Math.max(MIN_PAGE_CHARGE, page.length);
}

/**
 * What the memory tier holds of one object: its page keys (a plain key while it has one page, as
 * most small files do: about 100 bytes less each), and their bytes per version (for `FileInfo.cached`).
 */
interface HeldObject {
  keys: string | Set<string>;
  bytes: Map<string, number>;
}

/** The page keys of a {@link HeldObject}. */
function keysOf(held: HeldObject): Iterable<string> {
  return typeof held.keys === 'string' ? [held.keys] : held.keys;
}

/** The object and version a page key (`object\nversion\nindex`) names. */
function partsOf(key: string): { object: string; version: string } {
  const indexAt = key.lastIndexOf('\n');
  const versionAt = key.lastIndexOf('\n', indexAt - 1);
  return { object: key.slice(0, versionAt), version: key.slice(versionAt + 1, indexAt) };
}

/** Memory tier (see the module comment). */
export class MemoryTier {
  readonly #lru: LRUCache<string, Buffer> | undefined;
  readonly #pinned = new Map<string, Buffer>();
  /** What the pinned pages count against the capacity. */
  #pinnedBytes = 0;
  /** What is held of each object (LRU and pinned pages): dropping one object's pages never looks at the others'. */
  readonly #objects = new Map<string, HeldObject>();
  /** Set while a page moves from the LRU to the pinned pages (it is not let go of). */
  #moving: Buffer | undefined;
  /** Where the pages this tier lets go of are recycled. */
  readonly pool: PagePool;

  constructor(
    readonly capacity: number,
    pageSize: number,
  ) {
    this.pool = new PagePool(pageSize, poolBytesFor(capacity));
    if (capacity > 0) {
      this.#lru = new LRUCache<string, Buffer>({
        maxSize: capacity,
        sizeCalculation: chargeOf,
        dispose: (page, key) => {
          this.#forget(key, page);
          if (page !== this.#moving) this.pool.retire(page);
        },
      });
    }
  }

  /** The page, marking it recently used. */
  get(key: string): Buffer | undefined {
    return this.#pinned.get(key) ?? this.#lru?.get(key);
  }

  /** True when the page is held. */
  has(key: string): boolean {
    return this.#pinned.has(key) || (this.#lru?.has(key) ?? false);
  }

  /** Adds a page (pinned ones outside the LRU); evicts to keep pinned + LRU within capacity. */
  set(key: string, page: Buffer, pinned = false): void {
    if (!this.#lru) {
      if (pinned) throw new StrataError('ENOSPC', 'the memory tier is off; pinned data needs a cache tier');
      return;
    }
    if (pinned) {
      if (this.#pinned.has(key)) return;
      if (this.#pinnedBytes + chargeOf(page) > this.capacity) throw new StrataError('ENOSPC', 'pinned data does not fit in the memory tier');
      this.#moving = page;
      this.#lru.delete(key);
      this.#moving = undefined;
      this.#pinned.set(key, page);
      this.#pinnedBytes += chargeOf(page);
      this.#remember(key, page);
    } else {
      if (this.#pinned.has(key) || chargeOf(page) + this.#pinnedBytes > this.capacity) return;
      this.#lru.set(key, page);
      this.#remember(key, page); // (after the set: replacing a page disposes of the one it replaces)
    }
    while (this.#lru.size > 0 && this.#lru.calculatedSize + this.#pinnedBytes > this.capacity) this.#lru.pop();
  }

  /** Drops the pages of `object`, every version (pinned ones too when `force`). */
  dropObject(object: string, force = false): void {
    const held = this.#objects.get(object);
    if (held) this.#dropKeys([...keysOf(held)], force);
  }

  /** Drops pages whose key starts with `prefix` (pinned ones too when `force`). */
  dropPrefix(prefix: string, force = false): void {
    const keys: string[] = [];
    for (const [object, held] of this.#objects) {
      if (!object.startsWith(prefix) && !prefix.startsWith(object)) continue;
      for (const key of keysOf(held)) if (key.startsWith(prefix)) keys.push(key);
    }
    this.#dropKeys(keys, force);
  }

  #dropKeys(keys: string[], force: boolean): void {
    for (const key of keys) {
      const page = this.#pinned.get(key);
      if (page === undefined) {
        this.#lru?.delete(key);
      } else if (force) {
        this.#pinned.delete(key);
        this.#pinnedBytes -= chargeOf(page);
        this.#forget(key, page);
        this.pool.retire(page);
      }
    }
  }

  /** Moves the pinned pages under `prefix` back to the LRU (unpin). */
  unpinPrefix(prefix: string): void {
    for (const [key, page] of [...this.#pinned]) {
      if (!key.startsWith(prefix)) continue;
      this.#pinned.delete(key);
      this.#pinnedBytes -= chargeOf(page);
      this.#forget(key, page);
      this.set(key, page);
    }
  }

  /** Bytes held of one version of one object. */
  bytesOf(object: string, version: string): number {
    return this.#objects.get(object)?.bytes.get(version) ?? 0;
  }

  /** True when some page of some version of `object` is held. */
  holdsObject(object: string): boolean {
    return this.#objects.has(object);
  }

  /** Notes a page now held under `key` (`object\nversion\nindex`); once, however often it is set. */
  #remember(key: string, page: Buffer): void {
    const { object, version } = partsOf(key);
    const held = this.#objects.get(object);
    if (!held) {
      this.#objects.set(object, { keys: key, bytes: new Map([[version, page.length]]) });
      return;
    }
    if (held.keys === key || (typeof held.keys === 'object' && held.keys.has(key))) return;
    if (typeof held.keys === 'string') held.keys = new Set([held.keys, key]);
    else held.keys.add(key);
    held.bytes.set(version, (held.bytes.get(version) ?? 0) + page.length);
  }

  /** Notes the page under `key` no longer held. */
  #forget(key: string, page: Buffer): void {
    const { object, version } = partsOf(key);
    const held = this.#objects.get(object);
    if (!held) return;
    if (typeof held.keys === 'string' ? held.keys !== key : !held.keys.delete(key)) return;
    if (typeof held.keys === 'string' || held.keys.size === 0) {
      this.#objects.delete(object);
      return;
    }
    const bytes = (held.bytes.get(version) ?? 0) - page.length;
    if (bytes > 0) held.bytes.set(version, bytes);
    else held.bytes.delete(version);
  }

  /** Figures, with the page memory kept for reuse. */
  stats(): TierStats & { pooled: number; reused: number } {
    return {
      used: (this.#lru?.calculatedSize ?? 0) + this.#pinnedBytes,
      capacity: this.capacity,
      pages: (this.#lru?.size ?? 0) + this.#pinned.size,
      pooled: this.pool.heldBytes,
      reused: this.pool.reused,
    };
  }

  /** Drops everything, the recycled page memory too. */
  clear(): void {
    this.#lru?.clear();
    this.pool.clear();
    this.#pinned.clear();
    this.#pinnedBytes = 0;
    this.#objects.clear();
  }
}
