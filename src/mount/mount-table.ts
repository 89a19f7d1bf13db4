/**
 * The mount table: mount points, longest-prefix resolution, and the synthetic directories
 * (ancestors of mount points) that make the namespace navigable.
 * @module
 */
import { StrataError } from '../errors.js';
import { isSameOrBelow, relativeTo } from '../path.js';
import type { UnderStore } from '../store/under-store.js';
import type { ReadType, WriteType } from '../options.js';

/** One entry of the mount table. */
export interface Mount {
  /** Normalised mount point. */
  readonly path: string;
  /** The store, wrapped in the retry/timeout layers. */
  readonly store: UnderStore;
  /** The store as given (what `close()` is called on). */
  readonly rawStore: UnderStore;
  /** The store's URI (no secrets). */
  readonly uri: string;
  /** Writes fail with `EROFS`. */
  readonly readOnly: boolean;
  /** Per-mount read type, when set. */
  readonly readType?: ReadType;
  /** Per-mount write type, when set. */
  readonly writeType?: WriteType;
  /** Per-mount metadata sync interval in ms, when set. */
  readonly syncInterval?: number;
  /** Connector settings with secrets replaced, for {@link MountInfo}. */
  readonly publicOptions: Record<string, unknown>;
  /** A number unique to this mount in this process (cache keys of `memory://` stores). */
  readonly id: number;
}

/** Where a logical path lands. */
export interface Resolved {
  /** The mount that holds the path. */
  mount: Mount;
  /** The object key below the mount point (`''` for the mount point itself). */
  key: string;
}

/** Mount points in a process, with longest-prefix resolution. */
export class MountTable {
  #mounts = new Map<string, Mount>();

  /** All mounts, shortest mount point first (fewest components; then by path, whatever the locale). */
  list(): Mount[] {
    const depth = (path: string): number => (path === '/' ? 0 : path.split('/').length - 1);
    return [...this.#mounts.values()].sort((a, b) => depth(a.path) - depth(b.path) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** The mount exactly at `path`, if any. */
  get(path: string): Mount | undefined {
    return this.#mounts.get(path);
  }

  /** Adds a mount; `EEXIST` when one is already there. */
  add(mount: Mount): void {
    if (this.#mounts.has(mount.path)) throw new StrataError('EEXIST', 'a mount already exists at this path', { path: mount.path, op: 'mount' });
    this.#mounts.set(mount.path, mount);
  }

  /** Removes the mount at `path`; `EINVAL` when there is none, `EBUSY` when mounts lie below it. */
  remove(path: string): Mount {
    const mount = this.#mounts.get(path);
    if (!mount) throw new StrataError('EINVAL', 'not a mount point', { path, op: 'unmount' });
    if (this.hasMountsBelow(path)) throw new StrataError('EBUSY', 'mount point holds other mounts', { path, op: 'unmount' });
    this.#mounts.delete(path);
    return mount;
  }

  /** The mount with the longest mount point at or above `path`, and the key below it. */
  resolve(path: string): Resolved | undefined {
    let best: Mount | undefined;
    for (const mount of this.#mounts.values()) {
      if (isSameOrBelow(path, mount.path) && (!best || mount.path.length > best.path.length)) best = mount;
    }
    return best ? { mount: best, key: relativeTo(path, best.path) } : undefined;
  }

  /** True when some mount point lies strictly below `path`. */
  hasMountsBelow(path: string): boolean {
    for (const mountPath of this.#mounts.keys()) {
      if (mountPath !== path && isSameOrBelow(mountPath, path)) return true;
    }
    return false;
  }

  /** Names of the first components, below `path`, of the mount points strictly below it. */
  childNames(path: string): string[] {
    const names = new Set<string>();
    for (const mountPath of this.#mounts.keys()) {
      if (mountPath === path || !isSameOrBelow(mountPath, path)) continue;
      names.add(relativeTo(mountPath, path).split('/')[0]!);
    }
    return [...names];
  }
}
