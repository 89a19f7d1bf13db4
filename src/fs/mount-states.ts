/**
 * The state of each mount, with the mounts of each store (by cache id) kept beside it: finding a
 * mount of a store (every page admitted to the cache asks) is one look-up, however many mounts.
 * @module
 */
import type { Mount } from '../mount/mount-table.js';
import type { MountState } from './context.js';

/** Each mount's state (a `Map`), and the mounts of each store. */
export class MountStates extends Map<Mount, MountState> {
  /** The mounts of each store, by cache id, in the order they were mounted. */
  readonly #byCacheId = new Map<string, Set<Mount>>();

  override set(mount: Mount, state: MountState): this {
    this.delete(mount);
    super.set(mount, state);
    let mounts = this.#byCacheId.get(state.cacheId);
    if (!mounts) this.#byCacheId.set(state.cacheId, (mounts = new Set()));
    mounts.add(mount);
    return this;
  }

  override delete(mount: Mount): boolean {
    const state = this.get(mount);
    if (!state) return false;
    const mounts = this.#byCacheId.get(state.cacheId);
    if (mounts?.delete(mount) && mounts.size === 0) this.#byCacheId.delete(state.cacheId);
    return super.delete(mount);
  }

  override clear(): void {
    super.clear();
    this.#byCacheId.clear();
  }

  /** A mount of the store `cacheId` (one that is not read-only when `writable`), the first mounted. */
  mountOf(cacheId: string, writable = false): Mount | undefined {
    const mounts = this.#byCacheId.get(cacheId);
    if (mounts) for (const mount of mounts) if (!(writable && mount.readOnly)) return mount;
    return undefined;
  }
}
