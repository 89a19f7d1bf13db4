/**
 * Turns the `store` argument of `mount()` into a store: an {@link UnderStore} object is checked
 * and used as given; a URI goes through the scheme registry.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { isProcessAlive } from '../cache/disk/disk-cache-dir.js';
import type { AbandonedStores } from '../cache/disk/sqlite-index.js';
import { invalid } from '../errors.js';
import { createStore, isUnderStore, underStoreGaps } from '../store/registry.js';
import type { UnderStore } from '../store/under-store.js';

/** The store to mount, and whether stratafs made it (and so closes it on unmount). */
export async function openStore(store: unknown, settings: Record<string, unknown>): Promise<{ store: UnderStore; owned: boolean }> {
  if (typeof store === 'string') return { store: await createStore(store, settings), owned: true };
  if (isUnderStore(store)) return { store, owned: false };
  const lacks = typeof store === 'object' && store !== null ? ` (it lacks ${underStoreGaps(store).join(', ')})` : '';
  throw invalid(`store must be a URI string or an object implementing UnderStore: uri, capabilities (an object; {} when the store does nothing more), stat, list, read, write, delete${lacks}`);
}

/**
 * This process among all processes on a disk cache dir, now and later: the cache ids of its
 * `memory://` stores carry it, so no other process (nor the next one with this pid) takes
 * their pages or pending writes for its own.
 */
const PROCESS_TOKEN = `${process.pid}-${randomBytes(4).toString('hex')}`;
let anonymousStores = 0;
/** The cache id of each anonymous `memory://` store mounted so far: every mount of one such store shares it. */
const anonymousIds = new WeakMap<UnderStore, string>();

/**
 * The id under which a mount's pages are cached: the store's URI, so that processes (and
 * restarts) mounting the same store share pages, followed by `#@location` when the store names
 * a location its URI does not (`s3://data#@http://minio:9000`: the bucket `data` of another
 * server is another store). A `memory://` store lives in this process only: its id carries the
 * process's token, and an anonymous one (no name: `memory://`, `memory:///prefix`, or an empty
 * URI) is also unique to its store object, whichever mounts it is mounted at.
 */
export function cacheIdOf(store: UnderStore): string {
  const { uri, location } = store;
  if (isAnonymousMemory(uri)) {
    let id = anonymousIds.get(store);
    if (id === undefined) anonymousIds.set(store, (id = `memory://#${PROCESS_TOKEN}.${++anonymousStores}`));
    return id;
  }
  if (isProcessLocal(uri)) return `${uri}#${PROCESS_TOKEN}`;
  return location ? `${uri}#@${location}` : uri;
}

/** True for the URI of a `memory://` store without a name (each such store is a store of its own). */
function isAnonymousMemory(uri: string): boolean {
  return uri === '' || uri === 'memory://' || uri.startsWith('memory:///');
}

/** True when a mount's store lives in this process only (`memory://`): its pages and metadata are never shared. */
export function isProcessLocal(cacheId: string): boolean {
  return cacheId.startsWith('memory:');
}

/**
 * The `memory://` stores of processes that have ended (killed before `close()`, which drops their
 * pages): their pages and pins on a disk cache would never be read nor unpinned. A process with
 * this one's pid but another token has ended too (the pid was reused, as a container's often is).
 */
export const ENDED_PROCESS_STORES: AbandonedStores = {
  prefix: 'memory:',
  test(cacheId: string): boolean {
    const owner = /^(\d+)-[0-9a-f]+/.exec(splitCacheId(cacheId)[1]);
    if (owner === null) return false;
    const pid = Number(owner[1]);
    return pid === process.pid ? owner[0] !== PROCESS_TOKEN : !isProcessAlive(pid);
  },
};

/**
 * A cache id's store URI, and what follows its `#` (the process a `memory://` store lives in,
 * `@` and the location of a store that names one; `''` for another shared store).
 */
export function splitCacheId(cacheId: string): [location: string, owner: string] {
  const hash = cacheId.indexOf('#');
  return hash < 0 ? [cacheId, ''] : [cacheId.slice(0, hash), cacheId.slice(hash + 1)];
}
