/**
 * How paths look through the caches: `stat` and `readdir` answers from the metadata cache, the
 * store, pending writes of the write-back journal and the mount points of the namespace.
 * @module
 */
import { StrataError } from '../errors.js';
import { basename, childKeyToward, dirname, isChildKey, isKeyAtOrBelow, isSafeKey, joinPath, parentKey } from '../path.js';
import type { FileInfo } from '../options.js';
import type { Mount } from '../mount/mount-table.js';
import { objectId, versionOf } from '../cache/page-id.js';
import { walkTree } from '../ops/tree-walk.js';
import { SingleFlight } from '../cache/single-flight.js';
import type { ObjectInfo } from '../store/under-store.js';
import type { FsContext } from './context.js';

/** The oldest shared answer a mount with this sync interval accepts (`-1`: any age). */
function maxAge(syncInterval: number): number {
  return syncInterval < 0 ? Number.MAX_SAFE_INTEGER : syncInterval;
}

/** The namespace view of one `StrataFS`. */
export class Namespace {
  readonly #statFlight = new SingleFlight<ObjectInfo | undefined>();
  readonly #listFlight = new SingleFlight<ObjectInfo[]>();
  /**
   * The cache object id of each cached answer: a cached `stat` then looks its pages up by a string
   * whose hash is already known, instead of building (and hashing) a new one every time.
   */
  readonly #objectIds = new WeakMap<ObjectInfo, string>();

  constructor(private readonly ctx: FsContext) {}

  /** stat of a store key through the metadata cache and the pending-write journal. */
  async storeStat(mount: Mount, key: string, signal?: AbortSignal): Promise<ObjectInfo | undefined> {
    const state = this.ctx.stateOf(mount);
    const pending = this.ctx.disk?.journal.find(state.cacheId, key);
    if (pending) return { key, size: pending.size, mtime: pending.mtime, etag: `pending-${pending.id}`, isDirectory: false };
    const cached = state.meta.getStat(key);
    const pendingBelow = (): boolean => this.ctx.disk?.journal.list(state.cacheId).some((p) => p.key.startsWith(key + '/')) ?? false;
    let info: ObjectInfo | undefined;
    // Asked before the store is: a pending write below whose upload lands while the store answers is then seen in one of the two.
    let belowBefore = false;
    if (cached !== undefined) info = cached ?? undefined;
    else {
      belowBefore = pendingBelow();
      // Answers that cross a change made through this process are returned, not kept.
      const epoch = state.meta.epoch;
      // Another process of the fleet may have asked the store already (the shared tier), unless
      // a read here found that answer old.
      const shared = this.ctx.sharedFor(state);
      const entry = state.meta.mustAskStore(key) ? undefined : await shared?.getStatEntry?.(state.cacheId, key, maxAge(state.meta.syncInterval));
      if (entry) {
        info = entry.value ?? undefined;
        state.meta.setStat(key, entry.value, entry.ageMs, epoch);
      } else {
        // Concurrent misses of one key share one store call; a call made after a change does not
        // join one made before it. Each caller stops waiting at its own abort; the store call is
        // aborted once all of them gave up.
        const flightKey = `${state.cacheId}\n${key}\n${epoch}`;
        info = await this.#statFlight.share(flightKey, signal, async (joint) => {
          const found = await mount.store.stat(key, joint ? { signal: joint } : undefined);
          state.meta.setStat(key, found ?? null, 0, epoch);
          if (state.meta.epoch === epoch) shared?.setStat(state.cacheId, key, found ?? null);
          return found;
        });
      }
    }
    // A pending write below a missing key makes it a directory, as the upload will.
    if (!info && (belowBefore || pendingBelow())) return { key, size: 0, isDirectory: true };
    return info;
  }

  async statInfo(path: string, signal?: AbortSignal): Promise<FileInfo | undefined> {
    const res = this.ctx.table.resolve(path);
    const holdsMounts = this.ctx.table.hasMountsBelow(path);
    if (!res) return holdsMounts || path === '/' ? this.syntheticDir(path) : undefined;
    if (res.key === '') return this.syntheticDir(path, res.mount.path);
    const info = await this.storeStat(res.mount, res.key, signal);
    if (holdsMounts) return this.syntheticDir(path, res.mount.path);
    return info ? this.fileInfo(path, res.mount, info) : undefined;
  }

  /**
   * The children of a store directory through the metadata cache, with pending writes: one
   * directly in it as a file, one further below as the directory of it that is a child here.
   */
  async storeList(mount: Mount, key: string, signal?: AbortSignal): Promise<ObjectInfo[]> {
    const state = this.ctx.stateOf(mount);
    // The pending writes first: one whose upload lands while the store lists is then in one of the two.
    const pending = this.ctx.disk?.journal.list(state.cacheId).filter((p) => p.key !== key && isKeyAtOrBelow(p.key, key));
    let children = state.meta.getList(key);
    if (!children) {
      const epoch = state.meta.epoch; // a listing that crosses a change made here is returned, not kept
      const shared = this.ctx.sharedFor(state);
      const entry = await shared?.getListEntry?.(state.cacheId, key, maxAge(state.meta.syncInterval));
      if (entry) {
        children = entry.value.filter((info) => isChildKey(info.key, key));
        state.meta.setList(key, children, entry.ageMs, epoch);
      } else {
        // Concurrent misses of one directory share one listing, as stats do (see storeStat).
        const flightKey = `${state.cacheId}\n${key}\n${epoch}`;
        children = await this.#listFlight.share(flightKey, signal, async (joint) => {
          const listed: ObjectInfo[] = [];
          const since = state.meta.mark();
          for await (const info of mount.store.list(key, joint ? { signal: joint } : {})) if (isChildKey(info.key, key)) listed.push(info);
          state.meta.setList(key, listed, 0, epoch, since);
          if (state.meta.epoch === epoch) shared?.setList?.(state.cacheId, key, listed);
          return listed;
        });
      }
    }
    if (!pending || pending.length === 0) return children;
    const merged = new Map(children.map((c) => [c.key, c]));
    for (const p of pending) {
      const child = childKeyToward(p.key, key) as string;
      if (child === p.key) merged.set(p.key, { key: p.key, size: p.size, mtime: p.mtime, etag: `pending-${p.id}`, isDirectory: false });
      else if (!merged.has(child)) merged.set(child, { key: child, size: 0, isDirectory: true });
    }
    return [...merged.values()];
  }

  /**
   * Why `path` is not found: `ENOTDIR` when a directory above it is a file (as `fs` says of
   * `/file/x`), else `ENOENT`. Asked only once the path itself is known missing.
   */
  async missing(path: string, signal?: AbortSignal): Promise<StrataError> {
    const file = await this.fileAbove(path, signal);
    return file === undefined ? new StrataError('ENOENT') : new StrataError('ENOTDIR', `a parent is a file: ${file}`);
  }

  /** The nearest existing path above `path` when it is a file (nothing can be below it), else `undefined`. */
  async fileAbove(path: string, signal?: AbortSignal): Promise<string | undefined> {
    for (let parent = dirname(path); parent !== '/'; parent = dirname(parent)) {
      const above = await this.statInfo(parent, signal).catch(() => undefined);
      if (above) return above.type === 'file' ? parent : undefined; // a directory: nothing above it can be a file
    }
    return undefined;
  }

  /** Entries of a logical directory by relative name (recursive: relative paths). */
  async listDir(path: string, recursive: boolean, signal?: AbortSignal): Promise<Map<string, FileInfo>> {
    const info = await this.statInfo(path, signal);
    if (!info) throw await this.missing(path, signal);
    if (info.type !== 'directory') throw new StrataError('ENOTDIR');
    const out = new Map<string, FileInfo>();
    const res = this.ctx.table.resolve(path);
    if (res && (!this.ctx.table.hasMountsBelow(path) || (await this.storeStat(res.mount, res.key, signal))?.isDirectory || res.key === '')) {
      const base = res.key;
      if (recursive) {
        const state = this.ctx.stateOf(res.mount);
        // The pending writes first: one whose upload lands while the store lists is then in one of the two.
        const pending = this.ctx.disk?.journal.list(state.cacheId).filter((p) => base === '' || p.key.startsWith(base + '/')) ?? [];
        const epoch = state.meta.epoch;
        const since = state.meta.mark();
        const all = await walkTree(res.mount.store, base, { signal });
        // The files it names are known as a stat would know them (`load` of the tree asks no more).
        state.meta.setListed(all.filter((child) => !child.isDirectory && isSafeKey(child.key)), 0, epoch, since);
        for (const p of pending) all.push({ key: p.key, size: p.size, mtime: p.mtime, etag: `pending-${p.id}`, isDirectory: false });
        // What a mount below hides of this store is not listed (the mounts' own listings come below).
        const hidden = this.ctx.table.hasMountsBelow(path) ? (rel: string): boolean => this.ctx.table.resolve(joinPath(path, rel))?.mount !== res.mount : undefined;
        for (const child of all) {
          const rel = base === '' ? child.key : child.key.slice(base.length + 1);
          if (hidden?.(rel) || (child.isDirectory && out.get(rel)?.type === 'file')) continue;
          out.set(rel, this.fileInfo(joinPath(path, rel), res.mount, child));
          // Every entry already listed has its parents listed: the walk up stops at the first one.
          for (let p = parentKey(rel); p !== '' && !out.has(p); p = parentKey(p)) out.set(p, this.syntheticDir(joinPath(path, p), res.mount.path));
        }
        // A file and a directory of one name (keys `a` and `a/…`, made outside stratafs): the file is
        // listed, as stat answers, and nothing below it.
        const belowFile = underFileTest(out);
        for (const rel of [...out.keys()]) if (belowFile(rel)) out.delete(rel);
      } else {
        for (const child of await this.storeList(res.mount, base, signal)) {
          const name = base === '' ? child.key : child.key.slice(base.length + 1);
          if (child.isDirectory && out.get(name)?.type === 'file') continue; // the file wins, as in stat
          out.set(name, this.fileInfo(joinPath(path, name), res.mount, child));
        }
      }
    }
    // Mount points and the directories leading to them.
    for (const name of this.ctx.table.childNames(path)) {
      const childPath = joinPath(path, name);
      const mount = this.ctx.table.get(childPath);
      out.set(name, this.syntheticDir(childPath, mount ? mount.path : (this.ctx.table.resolve(childPath)?.mount.path ?? '/')));
      if (recursive) {
        const below = await this.listDir(childPath, true, signal);
        for (const [rel, entry] of below) out.set(`${name}/${rel}`, entry);
      }
    }
    return out;
  }

  /** All files at or below a path (for load/free). */
  async filesOf(path: string, recursive: boolean, signal?: AbortSignal): Promise<FileInfo[]> {
    const info = await this.statInfo(path, signal);
    if (!info) throw new StrataError('ENOENT');
    if (info.type === 'file') return [info];
    const entries = await this.listDir(path, recursive, signal);
    return [...entries.values()].filter((e) => e.type === 'file');
  }

  fileInfo(path: string, mount: Mount, info: ObjectInfo): FileInfo {
    const cacheId = this.ctx.state.get(mount)?.cacheId;
    let cached = 0;
    if (!info.isDirectory && cacheId) {
      let object = this.#objectIds.get(info);
      if (object === undefined) this.#objectIds.set(info, (object = objectId(cacheId, info.key)));
      cached = this.ctx.pages.cachedBytes(object, versionOf(info));
    }
    return {
      path,
      name: basename(path),
      type: info.isDirectory ? 'directory' : 'file',
      size: info.isDirectory ? 0 : info.size,
      mtime: info.mtime && new Date(info.mtime.getTime()), // the caller's own: the cached answer keeps its Date
      etag: info.etag,
      mount: mount.path,
      cached,
    };
  }

  syntheticDir(path: string, mountPath = '/'): FileInfo {
    return { path, name: basename(path), type: 'directory', size: 0, mtime: undefined, etag: undefined, mount: mountPath, cached: 0 };
  }
}

/**
 * Tells whether an entry of a recursive listing (relative paths) lies below one of its files.
 * Each directory's answer is kept, so a tree of any depth is looked at once per entry, not once
 * per entry and ancestor.
 */
function underFileTest(entries: ReadonlyMap<string, FileInfo>): (rel: string) => boolean {
  const known = new Map<string, boolean>();
  const blocks = (dir: string): boolean => {
    const chain: string[] = [];
    let answer = false;
    for (let p = dir; p !== ''; p = parentKey(p)) {
      const seen = known.get(p);
      if (seen !== undefined) {
        answer = seen;
        break;
      }
      if (entries.get(p)?.type === 'file') {
        answer = true;
        known.set(p, true);
        break;
      }
      chain.push(p);
    }
    for (const p of chain) known.set(p, answer);
    return answer;
  };
  return (rel) => blocks(parentKey(rel));
}
