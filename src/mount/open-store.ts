/**
 * Turns the `store` argument of `mount()` into a store: an {@link UnderStore} object is checked
 * and used as given; a URI goes through the scheme registry.
 * @module
 */
import { invalid } from '../errors.js';
import { createStore, isUnderStore } from '../store/registry.js';
import type { UnderStore } from '../store/under-store.js';

/** The store to mount, and whether stratafs made it (and so closes it on unmount). */
export async function openStore(store: unknown, settings: Record<string, unknown>): Promise<{ store: UnderStore; owned: boolean }> {
  if (typeof store === 'string') return { store: await createStore(store, settings), owned: true };
  if (isUnderStore(store)) return { store, owned: false };
  throw invalid('store must be a URI string or an object implementing UnderStore (uri, capabilities, stat, list, read, write, delete)');
}

/**
 * The id under which a mount's pages are cached: the store's URI, so that processes (and
 * restarts) mounting the same store share pages. An anonymous `memory://` store is unique to its
 * mount, so it gets the mount's number.
 */
export function cacheIdOf(uri: string, mountId: number): string {
  return uri === 'memory://' || uri === '' ? `memory://#${mountId}` : uri;
}

/** True when a mount's store lives in this process only (`memory://`): its pages and metadata are never shared. */
export function isProcessLocal(cacheId: string): boolean {
  return cacheId.startsWith('memory:');
}
