/**
 * The mount table: mount points, longest-prefix resolution, and the synthetic directories
 * (ancestors of mount points) that make the namespace navigable.
 * @module
 */
import { StrataError } from '../errors.js';
import { dirname, isSameOrBelow, relativeTo } from '../path.js';
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

/**
 * Mount points in a process, with longest-prefix resolution. A path is resolved by looking up
 * its prefixes at the depths where mount points are, and "are there mounts below?" by a count
 * kept per ancestor: both cost the same with one mount or thousands.
 */
export class MountTable {
  #mounts = new Map<string, Mount>();
  /** Mount points strictly below each path that has some. */
  readonly #below = new Map<string, number>();
  /** Depths (components) of the mount points with how many are at each; deepest first in {@link #depths}. */
  readonly #atDepth = new Map<number, number>();
  #depths: number[] = [];

  /** All mounts, shortest mount point first (fewest components; then by path, whatever the locale). */
  list(): Mount[] {
    return [...this.#mounts.values()].sort((a, b) => depthOf(a.path) - depthOf(b.path) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** The mount exactly at `path`, if any. */
  get(path: string): Mount | undefined {
    return this.#mounts.get(path);
  }

  /** Adds a mount; `EEXIST` when one is already there. */
  add(mount: Mount): void {
    if (this.#mounts.has(mount.path)) throw new StrataError('EEXIST', 'a mount already exists at this path', { path: mount.path, op: 'mount' });
    this.#mounts.set(mount.path, mount);
    this.#count(mount.path, 1);
  }

  /** Removes the mount at `path`; `EINVAL` when there is none, `EBUSY` when mounts lie below it. */
  remove(path: string): Mount {
    const mount = this.#mounts.get(path);
    if (!mount) throw new StrataError('EINVAL', 'not a mount point', { path, op: 'unmount' });
    if (this.hasMountsBelow(path)) throw new StrataError('EBUSY', 'mount point holds other mounts', { path, op: 'unmount' });
    this.#mounts.delete(path);
    this.#count(path, -1);
    return mount;
  }

  /** The mount with the longest mount point at or above `path`, and the key below it. */
  resolve(path: string): Resolved | undefined {
    for (const depth of this.#depths) {
      const prefix = prefixAtDepth(path, depth);
      const mount = prefix === undefined ? undefined : this.#mounts.get(prefix);
      if (mount) return { mount, key: relativeTo(path, mount.path) };
    }
    return undefined;
  }

  /** True when some mount point lies strictly below `path`. */
  hasMountsBelow(path: string): boolean {
    return this.#below.has(path);
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

  /** Counts a mount point added (`1`) or removed (`-1`) at its depth and below each of its ancestors. */
  #count(mountPath: string, delta: number): void {
    const depth = depthOf(mountPath);
    const atDepth = (this.#atDepth.get(depth) ?? 0) + delta;
    if (atDepth > 0) this.#atDepth.set(depth, atDepth);
    else this.#atDepth.delete(depth);
    this.#depths = [...this.#atDepth.keys()].sort((a, b) => b - a);
    for (let ancestor = mountPath; ancestor !== '/'; ) {
      ancestor = dirname(ancestor);
      const below = (this.#below.get(ancestor) ?? 0) + delta;
      if (below > 0) this.#below.set(ancestor, below);
      else this.#below.delete(ancestor);
    }
  }
}

/** Components of a normalised path (`/`: 0, `/a/b`: 2). */
function depthOf(path: string): number {
  if (path === '/') return 0;
  let depth = 0;
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) depth++;
  return depth;
}

/** The ancestor-or-self of a normalised path that has `depth` components; `undefined` when the path has fewer. */
function prefixAtDepth(path: string, depth: number): string | undefined {
  if (depth === 0) return '/';
  let end = 0;
  for (let i = 0; i < depth; i++) {
    if (end === path.length || path === '/') return undefined;
    const next = path.indexOf('/', end + 1);
    end = next < 0 ? path.length : next;
  }
  return path.slice(0, end);
}
